// fleetfix against Ansible, plain and with the Mitogen strategy, on the same lab fleet, and against the floor (one ssh2
// connection per host, one script; for apply, then a fresh login). Each round runs every tool, the order rotating from
// round to round; each run is timed by /usr/bin/time (wall, user+sys of the tool's process tree, the largest process's
// RSS). The fleet's sshd is not the tool's child, so it is not counted. Ratios are taken within each round too.
//   npm run bench -- [--hosts 50] [--rounds 3]      (installs ansible-core and ansible-mitogen from Debian when missing)
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFleet, run, type Fleet } from '../test/lab/fleet.js';
import { FAULTS, FIREWALL } from './lab-faults.js';
import { numberOption } from './options.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FLEETFIX = join(ROOT, 'bin/fleetfix.js');
const ANSIBLE_PLAYBOOK = join(ROOT, 'bench/peers/ansible/ssh-access.yml');

interface Timing {
  wallS: number;
  cpuS: number;
  rssMiB: number;
  code: number;
}

/** Run a command under /usr/bin/time; its own output is kept only for errors. */
let runs = 0;
function timed(cmd: string[], env: Record<string, string> = {}): Promise<Timing & { output: string }> {
  // Each Ansible run gets its own ControlPath directory: a master left by the previous run (ControlPersist 60 s) that
  // expires while this run uses it fails hosts with "Shared connection closed"; every run starts cold.
  const own = env.ANSIBLE_SSH_CONTROL_PATH_DIR ? { ANSIBLE_SSH_CONTROL_PATH_DIR: `${env.ANSIBLE_SSH_CONTROL_PATH_DIR}/${++runs}` } : {};
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'FLEETFIX_TIME %e %U %S %M', ...cmd], { env: { ...process.env, ...env, ...own }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => {
      const m = /FLEETFIX_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(output);
      // For errors: the lines that name a failure (Ansible's fatal/UNREACHABLE, a host's error), then the end.
      const failures = output.split('\n').filter((l) => /fatal:|UNREACHABLE|ERROR|failed\b/.test(l) && !/failed=0/.test(l)).slice(0, 20);
      resolve({ wallS: Number(m?.[1]), cpuS: Number(m?.[2]) + Number(m?.[3]), rssMiB: Math.round(Number(m?.[4]) / 1024), code: code ?? -1, output: `${failures.join('\n')}\n...\n${output.slice(-3000)}` });
    });
  });
}

/** Where Debian's ansible-mitogen puts its strategy plugins (found by ansible-core without configuration). */
const MITOGEN_STRATEGY = '/usr/lib/python3/dist-packages/ansible/plugins/strategy/mitogen_linear.py';

/** ansible-core and ansible-mitogen from Debian, installed when missing; returns their versions. */
async function ensureAnsible(): Promise<{ ansible: string; mitogen: string }> {
  const missing = [...(existsSync('/usr/bin/ansible-playbook') ? [] : ['ansible-core']), ...(existsSync(MITOGEN_STRATEGY) ? [] : ['ansible-mitogen'])];
  if (missing.length) {
    process.stderr.write(`bench: installing ${missing.join(' ')} from Debian\n`);
    await run('apt-get', ['update', '-qq']);
    const r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
    if (r.code !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed: ${r.stderr}`);
  }
  const version = async (pkg: string) => (await run('dpkg-query', ['-W', '-f', '${Version}', pkg])).stdout.trim();
  return { ansible: `${(await run('/usr/bin/ansible-playbook', ['--version'])).stdout.split('\n')[0]!.trim()} (${await version('ansible-core')})`, mitogen: `ansible-mitogen ${await version('ansible-mitogen')}, strategy mitogen_linear` };
}

function ansibleInventory(fleet: Fleet): string {
  const path = join(fleet.root, 'ansible-hosts.ini');
  const lines = ['[fleet]', ...fleet.hosts.map((h) => `${h.name} ansible_host=${h.address}`), '', '[fleet:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${fleet.operatorKey}`, 'ansible_python_interpreter=/usr/bin/python3', `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHostsPath} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'`];
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Rotate `xs` by `n`: each round starts with another tool, so that none always meets a warm or a cold fleet. */
const rotate = <T>(xs: T[], n: number) => xs.map((_, i) => xs[(i + n) % xs.length]!);

const hosts = numberOption('hosts', 50);
const rounds = numberOption('rounds', 3);
const versionsOfAnsible = await ensureAnsible();
const fleet = await createFleet({ hosts });
try {
  const ansibleHosts = ansibleInventory(fleet);
  // The floor, bundled as the CLI is: it must not pay a start-up that fleetfix does not.
  const floor = join(fleet.root, 'floor.mjs');
  const bundled = await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), join(ROOT, 'bench/floor.mjs'), floor]);
  if (bundled.code !== 0) throw new Error(`bundling the floor failed: ${bundled.stderr}`);
  // ANSIBLE_TIMEOUT: on a loaded 2-core machine, Ansible's 10 s SSH connect timeout can pass while 50 hosts start Python.
  const ansibleEnv = { ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(fleet.root, 'ansible-tmp'), ANSIBLE_RETRY_FILES_ENABLED: 'False', ANSIBLE_TIMEOUT: '60', ANSIBLE_SSH_CONTROL_PATH_DIR: join(fleet.root, 'ansible-cp') };
  const mitogenEnv = { ...ansibleEnv, ANSIBLE_STRATEGY: 'mitogen_linear' };
  const ansible = (check: boolean) => ['/usr/bin/ansible-playbook', '-i', ansibleHosts, '-f', String(hosts), ...(check ? ['--check', '--diff'] : []), '-e', `authorized_key='${fleet.operatorPublicKey}'`, ANSIBLE_PLAYBOOK];
  const fleetfix = (command: string) => [process.execPath, FLEETFIX, command, '-i', fleet.inventoryPath, '--forks', String(hosts), ...(command === 'apply' ? ['--yes'] : [])];
  const onAll = (script: string) => fleet.setUp(Object.fromEntries(fleet.hosts.map((h) => [h.name, script])));
  const breakAll = () => onAll(FAULTS);
  const tools: Record<'audit' | 'apply', [string, string[], Record<string, string>][]> = {
    audit: [
      ['fleetfix audit', fleetfix('audit'), {}],
      ['floor audit', [process.execPath, floor, fleet.inventoryPath, 'audit'], {}],
      ['ansible --check', ansible(true), ansibleEnv],
      ['mitogen --check', ansible(true), mitogenEnv],
    ],
    apply: [
      ['fleetfix apply', fleetfix('apply'), {}],
      ['floor apply', [process.execPath, floor, fleet.inventoryPath, 'apply'], {}],
      ['ansible apply', ansible(false), ansibleEnv],
      ['mitogen apply', ansible(false), mitogenEnv],
    ],
  };
  const results: Record<string, Timing[]> = Object.fromEntries([...tools.audit, ...tools.apply].map(([name]) => [name, []]));
  // A run that fails is run once more and the failure kept in the results: on a shared machine something else can
  // end the fleet's sessions (a test's pkill of "sshd: root@notty" reaches every lab host: they share the PID namespace).
  const retried: { name: string; round: number; code: number; failures: string }[] = [];
  const measure = async (name: string, round: number, cmd: string[], env: Record<string, string>, before?: () => Promise<void>) => {
    for (let attempt = 1; ; attempt++) {
      await before?.();
      const t = await timed(cmd, env);
      if (t.code === 0) {
        results[name]!.push({ wallS: t.wallS, cpuS: t.cpuS, rssMiB: t.rssMiB, code: t.code });
        process.stderr.write(`  ${name.padEnd(16)} ${t.wallS.toFixed(2)} s wall, ${t.cpuS.toFixed(2)} s CPU, ${t.rssMiB} MiB  (load ${loadavg()[0]!.toFixed(1)})\n`);
        return;
      }
      if (attempt === 2) throw new Error(`${name} exited ${t.code}:\n${t.output}`);
      retried.push({ name, round, code: t.code, failures: t.output.split('\n...\n')[0]! });
      process.stderr.write(`  ${name} exited ${t.code}; running it again:\n${t.output.split('\n...\n')[0]}\n`);
    }
  };
  // Converge first, unmeasured: each tool writes sshd_config its own way (Ansible uncomments "#Port 22"), so that
  // every measured audit meets a fleet that all call healthy.
  await onAll(FIREWALL);
  for (const [name, cmd, env] of [['fleetfix apply', fleetfix('apply'), {}], ['ansible apply', ansible(false), ansibleEnv]] as const) {
    const t = await timed([...cmd], env);
    if (t.code !== 0) throw new Error(`converging the fleet: ${name} exited ${t.code}:\n${t.output}`);
  }
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`round ${round}/${rounds}\n`);
    for (const [name, cmd, env] of rotate(tools.audit, round - 1)) await measure(name, round, cmd, env);
    for (const [name, cmd, env] of rotate(tools.apply, round - 1)) {
      await measure(name, round, cmd, env, breakAll);
      // Each must have fixed it: fleetfix's own audit is the judge.
      const after = await timed(fleetfix('audit'));
      if (after.code !== 0) throw new Error(`the fleet is not compliant after ${name}:\n${after.output}`);
    }
  }
  const med = Object.fromEntries(Object.entries(results).map(([k, ts]) => [k, { wallS: median(ts.map((t) => t.wallS)), cpuS: median(ts.map((t) => t.cpuS)), rssMiB: median(ts.map((t) => t.rssMiB)), runs: ts.length }]));
  // A ratio of medians, and the same ratio within each round (same fleet, minutes apart): its spread.
  const ratio = (num: string, den: string, digits: number) => {
    const perRound = results[num]!.map((t, i) => +(t.wallS / results[den]![i]!.wallS).toFixed(digits));
    return { median: +(med[num]!.wallS / med[den]!.wallS).toFixed(digits), perRound };
  };
  const ratios = {
    'audit: fleetfix / floor': ratio('fleetfix audit', 'floor audit', 2),
    'audit: ansible / fleetfix': ratio('ansible --check', 'fleetfix audit', 1),
    'audit: mitogen / fleetfix': ratio('mitogen --check', 'fleetfix audit', 1),
    'apply: fleetfix / floor': ratio('fleetfix apply', 'floor apply', 2),
    'apply: ansible / fleetfix': ratio('ansible apply', 'fleetfix apply', 1),
    'apply: mitogen / fleetfix': ratio('mitogen apply', 'fleetfix apply', 1),
  };
  const cpuMsPerHost = { 'fleetfix audit': +((med['fleetfix audit']!.cpuS * 1000) / hosts).toFixed(1), 'floor audit': +((med['floor audit']!.cpuS * 1000) / hosts).toFixed(1) };
  const lines = [
    `${hosts} hosts, ${rounds} rounds, medians`,
    '| run | wall s | CPU s | peak RSS MiB |',
    '|---|---|---|---|',
    ...Object.entries(med).map(([k, m]) => `| ${k} | ${m.wallS.toFixed(2)} | ${m.cpuS.toFixed(2)} | ${m.rssMiB} |`),
    '',
    ...Object.entries(ratios).map(([k, v]) => `- ${k}: ${v.median} (rounds: ${v.perRound.join(', ')})`),
    ...Object.entries(cpuMsPerHost).map(([k, v]) => `- ${k}: ${v} ms CPU per host`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const versions = { node: process.version, ...versionsOfAnsible, openssh: (await run('ssh', ['-V'])).stderr.trim() };
  const file = join(ROOT, `bench/results/lab-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) }, versions, hosts, rounds, medians: med, ratios, cpuMsPerHost, runs: results, retried }, null, 1)}\n`);
  process.stdout.write(`written ${file}\n`);
} finally {
  await fleet.destroy();
}
