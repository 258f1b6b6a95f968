// npm run lab -- measure-systemd [N]: what the systemd kind costs here: the base (build or cache), bringing N hosts up,
// one host's boot (each rebooted in turn, to `running`), each host's memory (PSS) and overlay, and the teardown.
import { fileURLToPath } from 'node:url';
import { createFleet, run } from './fleet.js';

const SYSTEMD_SH = fileURLToPath(new URL('./systemd.sh', import.meta.url));
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

export async function measureSystemd(n: number): Promise<void> {
  let t = performance.now();
  const base = await run(SYSTEMD_SH, ['base']);
  if (base.code !== 0) throw new Error(base.stderr);
  process.stdout.write(`base ${base.stdout.trim()}: ${seconds(t)} s (${/building/.test(base.stderr) ? 'built' : 'cached'}); size ${(await run('du', ['-sh', base.stdout.trim()])).stdout.split('\t')[0]}\n`);
  t = performance.now();
  const fleet = await createFleet({ hosts: n, kind: 'systemd', socketActivated: ['h1'] });
  try {
    process.stdout.write(`${n} hosts up (4 at a time, to running, consoles listening): ${seconds(t)} s\n`);
    for (const h of fleet.hosts) {
      const memory = (await run(SYSTEMD_SH, ['memory', h.dir])).stdout.trim();
      const disk = (await run('du', ['-sk', `${h.dir}/ov`])).stdout.split('\t')[0];
      t = performance.now();
      await h.reboot();
      process.stdout.write(`${h.name}${h.name === 'h1' ? ' (ssh.socket)' : ''}: PSS ${(Number(memory) / 1024).toFixed(1)} MiB, overlay ${disk} KiB, reboot to running ${seconds(t)} s\n`);
    }
  } finally {
    t = performance.now();
    await fleet.destroy();
    process.stdout.write(`destroyed: ${seconds(t)} s\n`);
  }
}
