// The engine alone at 1,000 and 10,000 hosts: a simulated fleet (test/fake/sim-host.ts) answers with facts recorded on
// a real lab host, the lease and the safety net included, after a round trip of RTT +- jitter. The ssh_login check is
// left out (its facts are a real login from this machine). Each configuration runs in a child process of its own, so
// that its peak RSS is its own.
//   npm run bench:scale -- [--hosts 1000,10000] [--forks 50,500,1000] [--rtt 30] [--jitter 10] [--broken 0.3]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PlainProgress } from '../src/cli/progress.js';
import { DEFAULT_PLAYBOOK } from '../src/cli/run-command.js';
import { loadPlaybook } from '../src/config/playbook.js';
import type { ConnectFn } from '../src/engine/connect.js';
import { prepareJobs } from '../src/engine/prepare.js';
import { FleetRun } from '../src/engine/run.js';
import { modules } from '../src/modules/registry.js';
import { runResult } from '../src/report/model.js';
import { loadRecorded, SimHost, simJobs, simSpecs } from '../test/fake/sim-host.js';
import { option } from './options.js';

const recorded = loadRecorded();

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function one(hosts: number, forks: number, command: 'audit' | 'apply', rtt: number, jitter: number, brokenShare: number) {
  const playbook = loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()]);
  const specs = simSpecs(hosts);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { jobs, gathers } = simJobs(prepareJobs(specs, [playbook], recorded.vars));
  const latency = () => Math.max(0, rtt + (Math.random() * 2 - 1) * jitter);
  const broken = new Set(specs.filter((_, i) => i < hosts * brokenShare).map((h) => h.name));
  // A handshake costs about three round trips.
  const connect: ConnectFn = async (host) => {
    await delay(latency() * 3);
    return { transport: new SimHost({ state: broken.has(host.name) ? 'broken' : 'healthy', recorded, gathers, latency }), attempts: [] };
  };
  let lines = 0;
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines += chunk.toString().split('\n').length - 1;
      bytes += chunk.length;
      done();
    },
  });
  const run = new FleetRun({ command, forks, hostTimeoutMs: 300_000, progress: new PlainProgress(sink), connect });
  let results = await run.plan(jobs);
  if (command === 'apply') results = await run.apply();
  await run.close();
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const summary = runResult(command, results).summary;
  return { hosts, forks, command, rttMs: rtt, jitterMs: jitter, wallS: +wall.toFixed(2), cpuS: +((used.user + used.system) / 1e6).toFixed(2), cpuMsPerHost: +((used.user + used.system) / 1e3 / hosts).toFixed(2), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), progressLines: lines, progressBytes: bytes, summary };
}

if (process.argv.includes('--one')) {
  const [hosts, forks, command] = process.argv.slice(process.argv.indexOf('--one') + 1);
  const result = await one(Number(hosts), Number(forks), command as 'audit' | 'apply', Number(option('rtt', '30')), Number(option('jitter', '10')), Number(option('broken', '0.3')));
  process.stdout.write(JSON.stringify(result));
} else {
  const rows = [];
  for (const hosts of option('hosts', '1000,10000').split(',').map(Number)) {
    for (const forks of option('forks', '50,500,1000').split(',').map(Number)) {
      for (const command of ['audit', 'apply']) {
        const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', String(hosts), String(forks), command, ...process.argv.slice(2)], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (child.status !== 0) throw new Error(`${hosts} hosts, forks ${forks}, ${command}: ${child.stderr}`);
        const row = JSON.parse(child.stdout);
        rows.push(row);
        process.stdout.write(`${String(hosts).padStart(6)} hosts  forks ${String(forks).padStart(4)}  ${command.padEnd(5)}  ${String(row.wallS).padStart(6)} s wall  ${String(row.cpuMsPerHost).padStart(5)} ms CPU/host  ${String(row.peakRssMiB).padStart(5)} MiB peak RSS  ${row.progressLines} progress lines  (${row.summary.compliant} compliant, ${row.summary.drift} drift, ${row.summary.fixed} fixed)\n`);
      }
    }
  }
  const file = new URL(`./results/scale-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify({ machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, rows }, null, 1)}\n`);
  process.stdout.write(`written ${fileURLToPath(file)}\n`);
}
