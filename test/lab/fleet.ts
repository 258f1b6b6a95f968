// The lab fleet: N real OpenSSH hosts on this machine (namespaces, or systemd-nspawn containers), with an inventory and known_hosts for them.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { stringify } from 'yaml';

export const LAB_ROOT = '/var/tmp/fleetfix-lab';
const LAB_SH = fileURLToPath(new URL('./lab.sh', import.meta.url));
const SYSTEMD_SH = fileURLToPath(new URL('./systemd.sh', import.meta.url));
const TOOLS: Record<string, string> = { sshd: 'openssh-server', ssh: 'openssh-client', iptables: 'iptables', nft: 'nftables', socat: 'socat', ip: 'iproute2', nsenter: 'util-linux', 'ssh-keygen': 'openssh-client', sudo: 'sudo', ping: 'iputils-ping', 'fail2ban-client': 'fail2ban', ipset: 'ipset', sshguard: 'sshguard' };
/** What the systemd kind needs besides: its hosts boot with systemd-nspawn from a base built by mmdebstrap. */
const SYSTEMD_TOOLS: Record<string, string> = { 'systemd-nspawn': 'systemd-container', mmdebstrap: 'mmdebstrap' };

/**
 * `namespaces`: this machine's Debian in namespaces, sshd started by /etc/init.d/ssh, logging to auth.log.
 * `systemd`: systemd as PID 1 (systemd-nspawn) on a Debian base, sshd as ssh.service or, for the hosts named in
 * `socketActivated`, as Ubuntu's ssh.socket; logs in the journal, and for the hosts named in `rsyslog` through
 * rsyslog to /var/log/auth.log too; hosts can reboot.
 */
export type HostKind = 'namespaces' | 'systemd';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LabHost {
  name: string;
  kind: HostKind;
  index: number;
  address: string;
  address6: string;
  consolePort: number;
  dir: string;
  /** The host's network namespace: `ip netns pids` lists exactly its processes (namespaces kind; empty for systemd hosts). */
  netns: string;
  /** Run a script inside the host as root, through the lab's own access (not SSH). */
  sh(script: string): Promise<Exec>;
  /** systemd kind: `systemctl reboot` inside the host; resolves once the new boot is running. */
  reboot(): Promise<void>;
}

export interface Fleet {
  slot: number;
  root: string;
  hosts: LabHost[];
  inventoryPath: string;
  /** The same fleet reached by the lab's own access (nsenter into each host), for hosts SSH cannot reach. */
  execInventoryPath: string;
  knownHostsPath: string;
  operatorKey: string;
  operatorPublicKey: string;
  consolePasswordFile: string;
  /** Log in with the real OpenSSH client and the operator key, host keys checked strictly. */
  /** With `address` (say, the IPv6 one) the host key is still checked against the host's entry. */
  sshLogin(host: LabHost, command?: string, opts?: { user?: string; port?: number; address?: string }): Promise<Exec>;
  /** Run each named host's script (its faults, say) through the lab's own access; throws naming a host whose script failed. */
  setUp(scripts: Record<string, string>): Promise<void>;
  destroy(): Promise<void>;
}

export interface FleetOptions {
  hosts: number | string[];
  kind?: HostKind;
  /** systemd kind: the hosts whose sshd is socket-activated (ssh.socket); the others run ssh.service. */
  socketActivated?: string[];
  /** systemd kind: the hosts that also run rsyslog, which writes sshd's lines with its own times to /var/log/auth.log. */
  rsyslog?: string[];
  /** Extra inventory settings merged into `defaults`. */
  defaults?: Record<string, unknown>;
}

export function run(cmd: string, args: string[], input?: string): Promise<Exec> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

function which(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin']).some((d) => existsSync(join(d, cmd)));
}

/** Install what the lab needs when it is missing; refuse clearly when not root. */
export async function ensureLabTools(kind: HostKind = 'namespaces'): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the lab fleet needs root (it creates network and mount namespaces); run as root');
  const tools = kind === 'systemd' ? { ...TOOLS, ...SYSTEMD_TOOLS } : TOOLS;
  const missing = [...new Set(Object.entries(tools).filter(([cmd]) => !which(cmd)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  process.stderr.write(`lab: installing ${missing.join(' ')}\n`);
  await must('apt-get', ['update', '-qq']);
  const r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  if (r.code !== 0) throw new Error(`lab: apt-get install ${missing.join(' ')} failed: ${r.stderr.trim()}`);
}

/** Remove labs whose owning process is gone (a crashed test run). */
export async function reapStaleLabs(all = false): Promise<number> {
  if (!existsSync(LAB_ROOT)) return 0;
  let reaped = 0;
  for (const entry of readdirSync(LAB_ROOT)) {
    const root = join(LAB_ROOT, entry);
    const owner = Number(readFileOr(join(root, 'owner.pid'), '0'));
    if (!all && owner > 0 && isAlive(owner)) continue;
    await destroyLab(Number(entry), root);
    reaped++;
  }
  return reaped;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readFileOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

async function destroyLab(slot: number, root: string): Promise<void> {
  const hostDirs = existsSync(root) ? readdirSync(root).filter((d) => existsSync(join(root, d, 'host.env'))) : [];
  const limit = pLimit(8);
  await Promise.all(hostDirs.map((d) => limit(() => run(LAB_SH, ['host-down', join(root, d)]))));
  await run(LAB_SH, ['net-down', String(slot)]);
  await run('umount', ['-l', root]);
  rmSync(root, { recursive: true, force: true });
}

function allocateSlot(): { slot: number; root: string } {
  mkdirSync(LAB_ROOT, { recursive: true });
  for (let slot = 1; slot <= 250; slot++) {
    const root = join(LAB_ROOT, String(slot));
    try {
      mkdirSync(root);
      return { slot, root };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`no free lab slot under ${LAB_ROOT}: run "npm run lab -- down-all"`);
}

export async function createFleet(opts: FleetOptions): Promise<Fleet> {
  const kind = opts.kind ?? 'namespaces';
  await ensureLabTools(kind);
  await reapStaleLabs();
  // The systemd base is built (or found in the cache) before a slot is taken: a first build takes a while.
  const base = kind === 'systemd' ? (await must(SYSTEMD_SH, ['base'])).trim() : '';
  const { slot, root } = allocateSlot();
  writeFileSync(join(root, 'owner.pid'), String(process.pid));
  try {
    await must('mount', ['--bind', root, root]);
    await must('mount', ['--make-private', root]);
    const operatorKey = join(root, 'operator_ed25519');
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator@fleetfix-lab', '-f', operatorKey]);
    const consolePasswordFile = join(root, 'console-password');
    writeFileSync(consolePasswordFile, `${randomBytes(12).toString('base64url')}\n`, { mode: 0o600 });
    await must(LAB_SH, ['net-up', String(slot)]);

    const names = typeof opts.hosts === 'number' ? Array.from({ length: opts.hosts }, (_, i) => `h${i + 1}`) : opts.hosts;
    const hosts: LabHost[] = names.map((name, i) => {
      const dir = join(root, name);
      return {
        name,
        kind,
        index: i + 1,
        address: `198.18.${slot}.${11 + i}`,
        address6: `fd00:ff:${slot}::${11 + i}`,
        consolePort: 20000 + slot * 100 + i + 1,
        dir,
        netns: kind === 'namespaces' ? `fflab${slot}-${name}` : '',
        sh: (script: string) => run(LAB_SH, ['host-sh', dir], script),
        reboot: async () => {
          if (kind !== 'systemd') throw new Error(`${name} is a ${kind} host: only systemd hosts reboot`);
          await must(SYSTEMD_SH, ['reboot', dir]);
        },
      };
    });
    if (hosts.length > 89) throw new Error('a lab holds at most 89 hosts');
    const limit = pLimit(4);
    const up = (h: LabHost) => {
      const args = [String(slot), String(h.index), h.name, h.dir, String(h.consolePort), `${operatorKey}.pub`, consolePasswordFile];
      if (kind === 'namespaces') return must(LAB_SH, ['host-up', ...args]);
      return must(SYSTEMD_SH, ['host-up', ...args, opts.socketActivated?.includes(h.name) ? 'socket' : 'service', base, opts.rsyslog?.includes(h.name) ? 'rsyslog' : 'journal']);
    };
    await Promise.all(hosts.map((h) => limit(() => up(h))));

    const knownHostsPath = join(root, 'known_hosts');
    const keyLines = await Promise.all(
      hosts.map(async (h) => {
        const pubs = await h.sh('cat /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub /etc/ssh/ssh_host_rsa_key.pub');
        return pubs.stdout
          .trim()
          .split('\n')
          .map((line) => `${h.address} ${line.split(' ').slice(0, 2).join(' ')}`);
      }),
    );
    writeFileSync(knownHostsPath, `${keyLines.flat().join('\n')}\n`, { mode: 0o600 });

    const operatorPublicKey = readFileSync(`${operatorKey}.pub`, 'utf8').trim();
    const inventory = {
      defaults: {
        user: 'root',
        identity: operatorKey,
        known_hosts: knownHostsPath,
        host_key_policy: 'strict',
        connect_timeout: 5,
        console: { user: 'root', password: { file: consolePasswordFile } },
        vars: { ssh_user: 'root', authorized_key: operatorPublicKey },
        ...opts.defaults,
      },
      hosts: Object.fromEntries(hosts.map((h) => [h.name, { address: h.address, console: { tcp: `127.0.0.1:${h.consolePort}` } }])),
    };
    const inventoryPath = join(root, 'inventory.yml');
    writeFileSync(inventoryPath, `# fleetfix lab fleet ${slot}: ${hosts.length} hosts\n${stringify(inventory, { lineWidth: 0 })}`);
    const execInventory = {
      ...inventory,
      hosts: Object.fromEntries(
        hosts.map((h) => [h.name, { address: h.address, exec: kind === 'namespaces' ? `nsenter --net=/run/netns/${h.netns} --mount=${h.dir}/mnt --uts=${h.dir}/uts -- sh -s` : `${LAB_SH} host-sh ${h.dir}` }]),
      ),
    };
    const execInventoryPath = join(root, 'inventory.exec.yml');
    writeFileSync(execInventoryPath, `# fleetfix lab fleet ${slot}, reached by nsenter\n${stringify(execInventory, { lineWidth: 0 })}`);

    return {
      slot,
      root,
      hosts,
      inventoryPath,
      execInventoryPath,
      knownHostsPath,
      operatorKey,
      operatorPublicKey,
      consolePasswordFile,
      sshLogin: (host, command = 'true', o = {}) =>
        run('ssh', [
          '-i', operatorKey, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
          '-o', `UserKnownHostsFile=${knownHostsPath}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5',
          '-o', `HostKeyAlias=${host.address}`, '-p', String(o.port ?? 22), `${o.user ?? 'root'}@${o.address ?? host.address}`, command,
        ]),
      setUp: async (scripts) => {
        const runs = await Promise.all(hosts.filter((h) => h.name in scripts).map(async (h) => ({ h, r: await h.sh(scripts[h.name]!) })));
        const failed = runs.find(({ r }) => r.code !== 0);
        if (failed) throw new Error(`setting up ${failed.h.name} failed (exit ${failed.r.code}): ${failed.r.stderr}`);
      },
      destroy: () => destroyLab(slot, root),
    };
  } catch (err) {
    await destroyLab(slot, root);
    throw err;
  }
}

