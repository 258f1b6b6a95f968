// npm run lab -- up N [systemd] | down-all | measure-systemd [N]: bring a lab fleet up by hand (it stays until down-all),
// remove every lab, or measure what systemd hosts cost.
import { createFleet, reapStaleLabs } from './fleet.js';
import { measureSystemd } from './measure-systemd.js';

const [command, arg, kind] = process.argv.slice(2);
if (command === 'up') {
  const fleet = await createFleet({ hosts: Number(arg ?? 3), kind: kind === 'systemd' ? 'systemd' : 'namespaces' });
  // Hand the lab over: with no live owner it is reaped by the next lab run or by down-all.
  process.stdout.write(`lab ${fleet.slot} is up: ${fleet.hosts.map((h) => `${h.name}=${h.address} console 127.0.0.1:${h.consolePort}`).join(', ')}\ninventory: ${fleet.inventoryPath}\nremove with: npm run lab -- down-all\n`);
} else if (command === 'down-all') {
  process.stdout.write(`removed ${await reapStaleLabs(true)} lab(s)\n`);
} else if (command === 'measure-systemd') {
  await measureSystemd(Number(arg ?? 8));
} else {
  process.stderr.write('usage: npm run lab -- up [N] [systemd] | down-all | measure-systemd [N]\n');
  process.exitCode = 1;
}
