// npm run demo: a small lab fleet with broken SSH access (some hosts refuse SSH altogether), then diagnose, audit,
// plan, apply (over the consoles where SSH is refused) and audit again, then teardown.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFleet } from './fleet.js';

const BIN = fileURLToPath(new URL('../../bin/fleetfix.js', import.meta.url));
const FAULTS: Record<string, [string, string]> = {
  web1: ['healthy', ':'],
  web2: ['~deploy/.ssh is 0777 (sshd StrictModes refuses the key)', 'chmod 0777 /home/deploy/.ssh'],
  web3: ['authorized_keys 0666 and owned by nobody', 'chmod 0666 /home/deploy/.ssh/authorized_keys && chown nobody /home/deploy/.ssh/authorized_keys'],
  db1: ["the operator's key is missing (another key stays)", "echo 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDalice alice' > /home/deploy/.ssh/authorized_keys"],
  db2: ['~deploy/.ssh does not exist', 'rm -rf /home/deploy/.ssh'],
  app1: ['MaxStartups 1:100:1, ip6tables DROP on 22', "echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && /etc/init.d/ssh restart >/dev/null && ip6tables -A INPUT -p tcp --dport 22 -j DROP"],
  app2: ['sshd stopped: Connection refused (fixed over its console)', '/etc/init.d/ssh stop >/dev/null'],
  app3: ['iptables DROP on 22, sshd on port 2222 (console)', "iptables -A INPUT -p tcp --dport 22 -j DROP && echo 'Port 2222' > /etc/ssh/sshd_config.d/10-port.conf && /etc/init.d/ssh restart >/dev/null"],
};

function fleetfix(args: string[]): Promise<number> {
  process.stdout.write(`\n$ fleetfix ${args.join(' ')}\n`);
  return new Promise((resolve) => spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'inherit', 'inherit'] }).on('close', (code) => resolve(code ?? 1)));
}

const fleet = await createFleet({ hosts: Object.keys(FAULTS) });
let failed = false;
try {
  process.stdout.write(`lab fleet ${fleet.slot}: ${fleet.hosts.length} hosts, each its own network namespace with a real sshd\n`);
  await fleet.setUp(Object.fromEntries(Object.entries(FAULTS).map(([name, [, script]]) => [name, script])));
  for (const h of fleet.hosts) {
    const [what] = FAULTS[h.name]!;
    const login = await fleet.sshLogin(h, 'true', { user: 'deploy' });
    process.stdout.write(`  ${h.name.padEnd(5)} ${h.address.padEnd(13)} ${what.padEnd(52)} ssh deploy@: ${login.code === 0 ? 'ok' : 'REFUSED'}\n`);
  }
  const inv = ['-i', fleet.inventoryPath, '--var', 'ssh_user=deploy'];
  const steps: [string[], number][] = [
    [['diagnose', ...inv], 3],
    [['audit', ...inv], 2],
    [['plan', ...inv], 2],
    [['apply', '--yes', ...inv], 0],
    [['audit', ...inv], 0],
  ];
  for (const [args, want] of steps) {
    const code = await fleetfix(args);
    process.stdout.write(`(exit ${code})\n`);
    if (code !== want) failed = true;
  }
  process.stdout.write('\nfresh logins with the real ssh client, StrictHostKeyChecking=yes:\n');
  for (const h of fleet.hosts) {
    const login = await fleet.sshLogin(h, 'id -un', { user: 'deploy' });
    process.stdout.write(`  ${h.name.padEnd(5)} ${login.code === 0 ? `ok (${login.stdout.trim()})` : `FAILED: ${login.stderr.trim()}`}\n`);
    if (login.code !== 0) failed = true;
  }
} finally {
  await fleet.destroy();
  process.stdout.write('\nlab fleet removed\n');
}
process.exitCode = failed ? 1 : 0;
