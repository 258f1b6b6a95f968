// Where an apply's time goes, on a lab fleet: every round trip of every host timed (the engine in this process, its SSH
// transport observed), then the host-side CPU of each round trip's scripts, replayed on a spare host as root, and of
// an SSH login and of a session channel (the CPU sshd's listener collects from its children).
//   npm run bench:phases -- [--hosts 50] [--rounds 3] [--replays 5]
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PlainProgress } from '../src/cli/progress.js';
import { DEFAULT_PLAYBOOK } from '../src/cli/run-command.js';
import { loadInventory, type HostSpec } from '../src/config/inventory.js';
import { loadPlaybook } from '../src/config/playbook.js';
import { factRound } from '../src/engine/phases/gather.js';
import type { FactUse } from '../src/facts/fact.js';
import { prepareJobs } from '../src/engine/prepare.js';
import { FleetRun } from '../src/engine/run.js';
import { modules } from '../src/modules/registry.js';
import { SshTransport } from '../src/transport/ssh.js';
import { createFleet, type LabHost } from '../test/lab/fleet.js';
import { FAULTS, FIREWALL } from './lab-faults.js';
import { numberOption } from './options.js';

interface Span {
  host: string;
  what: string;
  startMs: number;
  endMs: number;
  scripts: number;
}

/**
 * Every SSH connect and exec, timed, named by what it carries; each host's first session's batches in order (`sent`),
 * and those of its later sessions (`sentLater`: the verification's re-check).
 */
const spans: Span[] = [];
const sent = new Map<string, string[]>();
const sentLater = new Map<string, string[]>();
const batchesOf = new WeakMap<SshTransport, string[]>();
let t0 = 0;
const connected = new Set<string>();
const realConnect = SshTransport.connect.bind(SshTransport);
const realExec = SshTransport.prototype.exec;
SshTransport.connect = async (target, signal) => {
  const startMs = performance.now() - t0;
  const transport = await realConnect(target, signal);
  // The ssh_login check's probe logs in as its user (label "ssh as USER"); the engine's verification over the primary path.
  const what = target.access.label.startsWith('ssh as') ? `ssh_login probe${connected.has(target.name) ? '' : ' (first)'}: connect` : connected.has(target.name) ? 'fresh login: connect' : 'connect';
  if (!target.access.label.startsWith('ssh as')) connected.add(target.name);
  spans.push({ host: target.name, what, startMs, endMs: performance.now() - t0, scripts: 0 });
  (transport as unknown as { ffName: string }).ffName = target.name;
  return transport;
};
SshTransport.prototype.exec = async function (this: SshTransport, script, opts) {
  const host = (this as unknown as { ffName: string }).ffName;
  const startMs = performance.now() - t0;
  const result = await realExec.call(this, script, opts);
  let batches = batchesOf.get(this);
  if (!batches) batchesOf.set(this, (batches = []));
  if (!sent.has(host)) sent.set(host, batches);
  batches.push(script);
  const fresh = sent.get(host) !== batches;
  if (fresh) sentLater.set(host, [...(sentLater.get(host) ?? []), script]);
  spans.push({ host, what: nameBatch(script, batches.length, fresh), startMs, endMs: performance.now() - t0, scripts: (script.match(/:begin:\d+\\n' >&2/g) ?? []).length });
  return result;
};

/**
 * What a batch is, from what it carries (the lease and net scripts) or, between them, its place in the apply; on a
 * later session (`fresh`), the verification's re-check.
 */
function nameBatch(script: string, nth: number, fresh = false): string {
  if (script === 'exit 0') return 'fresh login: exec exit 0';
  if (fresh) return 'fresh login: re-check (gather)';
  if (script.includes('ff_lock=/run/fleetfix-lock')) return 'gather + take lease';
  if (script.includes('/run/fleetfix-lock/owner.new')) return 'renew lease + arm net + fixes + handler facts';
  if (script.includes('/run/fleetfix-net/claimed') && !script.includes('systemd-run')) return 'confirm (disarm net + release lease)';
  if (script.includes('rm -rf /run/fleetfix-lock')) return 'release lease';
  return ({ 1: 'gather', 2: 'preflight + handler facts', 4: 'handlers (reload sshd)' } as Record<number, string>)[nth] ?? `batch ${nth}`;
}

const nullSink = new Writable({ write: (_c, _e, done) => done() });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number) => Math.round(x * 10) / 10;

async function runEngine(hosts: HostSpec[], command: 'audit' | 'apply'): Promise<{ planS: number; applyS: number; statuses: Record<string, number> }> {
  const playbook = loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()]);
  const jobs = prepareJobs(hosts, [playbook], {});
  const run = new FleetRun({ command, forks: hosts.length, hostTimeoutMs: 300_000, progress: new PlainProgress(nullSink) });
  const start = performance.now();
  let results = await run.plan(jobs);
  const planS = (performance.now() - start) / 1000;
  if (command === 'apply') results = await run.apply();
  await run.close();
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return { planS: +planS.toFixed(2), applyS: +((performance.now() - start) / 1000 - planS).toFixed(2), statuses };
}

/** Per kind of span: how many, and the median of each host's start and duration, in ms from the run's start. */
function summarise(list: Span[]) {
  const kinds = [...new Set(list.map((s) => s.what))];
  return kinds.map((what) => {
    const of = list.filter((s) => s.what === what);
    return { what, count: of.length, scripts: median(of.map((s) => s.scripts)), startMs: ms(median(of.map((s) => s.startMs))), durationMs: ms(median(of.map((s) => s.endMs - s.startMs))), maxDurationMs: ms(Math.max(...of.map((s) => s.endMs - s.startMs))) };
  });
}

/**
 * CPU (ms, user+sys) that `script` costs on `host` as root, its children included: getrusage, to the microsecond. The
 * script sees SSH_CONNECTION as it would in an SSH session (gather scripts look for it up the process tree otherwise).
 */
async function hostCpuMs(host: LabHost, script: string): Promise<number> {
  const eof = `FF_EOF_${randomBytes(6).toString('hex')}`;
  const rusage = "import resource,subprocess as s; s.run(['sh','/run/ff-measure.sh'],stdin=s.DEVNULL,stdout=s.DEVNULL,stderr=s.DEVNULL); r=resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_utime+r.ru_stime)";
  const r = await host.sh(`cat > /run/ff-measure.sh <<'${eof}'\n${script}\n${eof}\nSSH_CONNECTION='${host.address.replace(/\.\d+$/, '.1')} 50000 ${host.address} 22' python3 -c "${rusage}"`);
  return ms(Number(r.stdout.trim()) * 1000);
}

/** CPU that sshd's listener on `host` has collected from its finished children (each connection), in ms. */
async function sshdChildrenCpuMs(host: LabHost): Promise<number> {
  const r = await host.sh('cut -d" " -f16,17 /proc/$(cat /run/sshd.pid)/stat');
  const [cutime, cstime] = r.stdout.trim().split(' ').map(Number);
  return (cutime! + cstime!) * 10; // USER_HZ is 100
}

const hostCount = numberOption('hosts', 50);
const rounds = numberOption('rounds', 3);
const replays = numberOption('replays', 5);
const fleet = await createFleet({ hosts: hostCount + 1 });
try {
  const spare = fleet.hosts.at(-1)!;
  const all = loadInventory(fleet.inventoryPath).hosts;
  const hosts = all.filter((h) => h.name !== spare.name);
  const onAll = (script: string) => fleet.setUp(Object.fromEntries(fleet.hosts.map((h) => [h.name, script])));
  await onAll(FIREWALL);
  await runEngine(all, 'apply');
  const roundsOut = [];
  for (let round = 1; round <= rounds; round++) {
    for (const command of ['audit', 'apply'] as const) {
      if (command === 'apply') await onAll(FAULTS);
      spans.length = 0;
      sent.clear();
      sentLater.clear();
      connected.clear();
      t0 = performance.now();
      const load = loadavg()[0]!;
      const { planS, applyS, statuses } = await runEngine(hosts, command);
      const phases = summarise(spans);
      roundsOut.push({ round, command, load: +load.toFixed(1), planS, applyS, statuses, phases });
      process.stdout.write(`\nround ${round} ${command}: plan ${planS} s, apply ${applyS} s, ${JSON.stringify(statuses)} (load ${load.toFixed(1)})\n`);
      for (const p of phases) process.stdout.write(`  ${p.what.padEnd(46)} x${String(p.count).padEnd(3)} ${String(p.scripts).padStart(2)} scripts  starts ${String(p.startMs).padStart(7)} ms  takes ${String(p.durationMs).padStart(7)} ms (max ${p.maxDurationMs})\n`);
    }
  }
  // The host-side CPU of one host's apply, batch by batch, replayed on the spare host broken the same way.
  const h1 = [...sent.get(hosts[0]!.name)!.map((batch, n) => ({ batch, name: `${n + 1}. ${nameBatch(batch, n + 1)}` })), ...(sentLater.get(hosts[0]!.name) ?? []).map((batch) => ({ batch, name: `then ${nameBatch(batch, 0, true)}` }))];
  const cpu: Record<string, number[]> = {};
  for (let i = 0; i < replays; i++) {
    await fleet.setUp({ [spare.name]: FAULTS });
    for (const { batch, name } of h1) (cpu[name] ??= []).push(await hostCpuMs(spare, batch));
  }
  // Each fact's script alone, on the healthy spare: what a gather (and the re-check) is made of.
  const gathers: Record<string, number[]> = {};
  const [spareJob] = prepareJobs([all.find((h) => h.name === spare.name)!], [loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()])], {});
  // A fact that reads others' output on the host (after) is timed with them, as it cannot run without them.
  const uses = factRound([...spareJob!.checks, ...spareJob!.handlers]).uses;
  const alone = (u: FactUse) => `${u.after.map((a) => `${a.variable}=$(\n${a.script}\n)\n`).join('')}${u.script}`;
  for (let i = 0; i < replays; i++) for (const u of uses) (gathers[`fact ${u.key.slice(0, 60)}${u.after.length ? ' (with the facts it reads)' : ''}`] ??= []).push(await hostCpuMs(spare, alone(u)));
  if (process.env.FF_PHASES_DUMP) writeFileSync(process.env.FF_PHASES_DUMP, JSON.stringify(h1.map((b) => b.batch), null, 1));
  // sshd's own share: a fresh login (key exchange, auth, one channel) and one more channel on an open connection.
  const spec = all.find((h) => h.name === spare.name)!;
  const target = { name: spec.name, address: spec.address, access: spec.ssh, knownHosts: spec.knownHosts, hostKeyPolicy: spec.hostKeyPolicy, connectTimeoutMs: spec.connectTimeoutMs, commandTimeoutMs: spec.commandTimeoutMs, maxOutputBytes: spec.maxOutputBytes };
  const n = 20;
  let before = await sshdChildrenCpuMs(spare);
  for (let i = 0; i < n; i++) {
    const t = await realConnect(target);
    await realExec.call(t, 'exit 0');
    await t.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  const loginMs = ((await sshdChildrenCpuMs(spare)) - before) / n;
  const t = await realConnect(target);
  before = await sshdChildrenCpuMs(spare);
  for (let i = 0; i < n; i++) await realExec.call(t, 'exit 0');
  await t.close();
  await new Promise((r) => setTimeout(r, 500));
  const oneMore = ((await sshdChildrenCpuMs(spare)) - before - loginMs) / n;
  const hostCpu = { batches: Object.fromEntries(Object.entries({ ...cpu, ...gathers }).map(([k, v]) => [k, { medianMs: median(v), runs: v }])), freshLoginMs: ms(loginMs), extraChannelMs: ms(oneMore) };
  process.stdout.write(`\nhost-side CPU per host (median of ${replays} replays on ${spare.name}):\n`);
  for (const [k, v] of Object.entries(hostCpu.batches)) process.stdout.write(`  ${k.padEnd(50)} ${String(v.medianMs).padStart(6)} ms\n`);
  process.stdout.write(`  an SSH login with one channel (sshd)              ${String(hostCpu.freshLoginMs).padStart(6)} ms\n  one more channel on an open connection (sshd)     ${String(hostCpu.extraChannelMs).padStart(6)} ms\n`);
  const file = new URL(`./results/phases-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`, import.meta.url);
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: readFileSync('/proc/version', 'utf8').split(' ')[2] };
  writeFileSync(file, `${JSON.stringify({ machine, hosts: hostCount, rounds: roundsOut, hostCpu }, null, 1)}\n`);
  process.stdout.write(`written ${fileURLToPath(file)}\n`);
} finally {
  await fleet.destroy();
}
