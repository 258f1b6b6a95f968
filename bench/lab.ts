// fleetfix against Ansible on the same lab fleet, and against the floor (one ssh2 connection per host, one script).
// Rounds alternate the tools; each run is timed by /usr/bin/time (wall, user+sys of the tool's process tree, the
// largest process's RSS). The fleet's sshd is not the tool's child, so it is not counted.
//   npm run bench -- [--hosts 50] [--rounds 3]
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFleet, run, type Fleet } from '../test/lab/fleet.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FLEETFIX = join(ROOT, 'bin/fleetfix.js');
const ANSIBLE_PLAYBOOK = join(ROOT, 'bench/peers/ansible/ssh-access.yml');
/** Faults both tools can fix over SSH (root still logs in): a starved MaxStartups, loose ~/.ssh and authorized_keys modes. */
const FAULTS = "echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && /etc/init.d/ssh restart >/dev/null && chmod 0755 /root/.ssh && chmod 0644 /root/.ssh/authorized_keys";
/** A healthy fleet has a firewall that lets SSH in (IPv4 and IPv6): both tools read it, neither has work there. */
const FIREWALL = 'for t in iptables ip6tables; do $t -I INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT || exit 1; done';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Timing {
  wallS: number;
  cpuS: number;
  rssMiB: number;
  code: number;
}

/** Run a command under /usr/bin/time; its own output is kept only for errors. */
function timed(cmd: string[], env: Record<string, string> = {}): Promise<Timing & { output: string }> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'FLEETFIX_TIME %e %U %S %M', ...cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => {
      const m = /FLEETFIX_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(output);
      resolve({ wallS: Number(m?.[1]), cpuS: Number(m?.[2]) + Number(m?.[3]), rssMiB: Math.round(Number(m?.[4]) / 1024), code: code ?? -1, output: output.slice(-3000) });
    });
  });
}

async function ensureAnsible(): Promise<string> {
  if (!existsSync('/usr/bin/ansible-playbook')) {
    process.stderr.write('bench: installing ansible-core from Debian\n');
    await run('apt-get', ['update', '-qq']);
    const r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'ansible-core']);
    if (r.code !== 0) throw new Error(`apt-get install ansible-core failed: ${r.stderr}`);
  }
  return (await run('/usr/bin/ansible-playbook', ['--version'])).stdout.split('\n')[0]!.trim();
}

function ansibleInventory(fleet: Fleet): string {
  const path = join(fleet.root, 'ansible-hosts.ini');
  const lines = ['[fleet]', ...fleet.hosts.map((h) => `${h.name} ansible_host=${h.address}`), '', '[fleet:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${fleet.operatorKey}`, 'ansible_python_interpreter=/usr/bin/python3', `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHostsPath} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'`];
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const hosts = arg('hosts', 50);
const rounds = arg('rounds', 3);
const ansibleVersion = await ensureAnsible();
const fleet = await createFleet({ hosts });
try {
  const ansibleHosts = ansibleInventory(fleet);
  // The floor, bundled as the CLI is: it must not pay a start-up that fleetfix does not.
  const floor = join(fleet.root, 'floor.mjs');
  const bundled = await run(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), join(ROOT, 'bench/floor.mjs'), floor]);
  if (bundled.code !== 0) throw new Error(`bundling the floor failed: ${bundled.stderr}`);
  const ansibleEnv = { ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(fleet.root, 'ansible-tmp'), ANSIBLE_RETRY_FILES_ENABLED: 'False' };
  const ansible = (check: boolean) => ['/usr/bin/ansible-playbook', '-i', ansibleHosts, '-f', String(hosts), ...(check ? ['--check', '--diff'] : []), '-e', `authorized_key='${fleet.operatorPublicKey}'`, ANSIBLE_PLAYBOOK];
  const fleetfix = (command: string) => [process.execPath, FLEETFIX, command, '-i', fleet.inventoryPath, '--forks', String(hosts), ...(command === 'apply' ? ['--yes'] : [])];
  const onAll = (script: string) => fleet.setUp(Object.fromEntries(fleet.hosts.map((h) => [h.name, script])));
  const breakAll = () => onAll(FAULTS);
  const results: Record<string, Timing[]> = { 'fleetfix audit': [], 'ansible --check': [], floor: [], 'fleetfix apply': [], 'ansible apply': [] };
  const record = (name: string, t: Timing & { output: string }, wantCodes: number[]) => {
    if (!wantCodes.includes(t.code)) throw new Error(`${name} exited ${t.code}:\n${t.output}`);
    results[name]!.push(t);
    process.stderr.write(`  ${name.padEnd(16)} ${t.wallS.toFixed(2)} s wall, ${t.cpuS.toFixed(2)} s CPU, ${t.rssMiB} MiB\n`);
  };
  // Converge first, unmeasured: each tool writes sshd_config its own way (Ansible uncomments "#Port 22"), so that
  // every measured audit meets a fleet that both call healthy.
  await onAll(FIREWALL);
  for (const [name, cmd, env] of [['fleetfix apply', fleetfix('apply'), {}], ['ansible apply', ansible(false), ansibleEnv]] as const) {
    const t = await timed([...cmd], env);
    if (t.code !== 0) throw new Error(`converging the fleet: ${name} exited ${t.code}:\n${t.output}`);
  }
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`round ${round}/${rounds}\n`);
    const audits: [string, () => Promise<void>][] = [
      ['fleetfix audit', async () => record('fleetfix audit', await timed(fleetfix('audit')), [0])],
      ['ansible --check', async () => record('ansible --check', await timed(ansible(true), ansibleEnv), [0])],
      ['floor', async () => record('floor', await timed([process.execPath, floor, fleet.inventoryPath]), [0])],
    ];
    // Alternate who goes first, so that neither always meets a warm or a cold fleet.
    for (const [, go] of round % 2 ? audits : [...audits].reverse()) await go();
    const applies: [() => Promise<void>][] = [
      [async () => { await breakAll(); record('fleetfix apply', await timed(fleetfix('apply')), [0]); }],
      [async () => { await breakAll(); record('ansible apply', await timed(ansible(false), ansibleEnv), [0]); }],
    ];
    for (const [go] of round % 2 ? applies : [...applies].reverse()) await go();
    // Both must have fixed it: fleetfix's own audit is the judge.
    const after = await timed(fleetfix('audit'));
    if (after.code !== 0) throw new Error(`the fleet is not compliant after the applies:\n${after.output}`);
  }
  const med = Object.fromEntries(Object.entries(results).map(([k, ts]) => [k, { wallS: median(ts.map((t) => t.wallS)), cpuS: median(ts.map((t) => t.cpuS)), rssMiB: median(ts.map((t) => t.rssMiB)), runs: ts.length }]));
  const ratio = (a: string, b: string) => +(med[b]!.wallS / med[a]!.wallS).toFixed(1);
  const ratios = {
    'audit: ansible / fleetfix': ratio('fleetfix audit', 'ansible --check'),
    'audit: fleetfix / floor': +(med['fleetfix audit']!.wallS / med.floor!.wallS).toFixed(2),
    'apply: ansible / fleetfix': ratio('fleetfix apply', 'ansible apply'),
    'audit CPU ms per host (fleetfix)': +((med['fleetfix audit']!.cpuS * 1000) / hosts).toFixed(1),
  };
  const lines = [`${hosts} hosts, ${rounds} rounds, medians`, '| run | wall s | CPU s | peak RSS MiB |', '|---|---|---|---|', ...Object.entries(med).map(([k, m]) => `| ${k} | ${m.wallS.toFixed(2)} | ${m.cpuS.toFixed(2)} | ${m.rssMiB} |`), '', ...Object.entries(ratios).map(([k, v]) => `- ${k}: ${v}`)];
  process.stdout.write(`${lines.join('\n')}\n`);
  const versions = { node: process.version, ansible: ansibleVersion, openssh: (await run('ssh', ['-V'])).stderr.trim() };
  const file = join(ROOT, `bench/results/lab-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) }, versions, hosts, rounds, medians: med, ratios, runs: results }, null, 1)}\n`);
  process.stdout.write(`written ${file}\n`);
} finally {
  await fleet.destroy();
}
