// ~/.ssh/config as OpenSSH reads it: `ssh -G NAME` says what ssh would use for a host, and fleetfix takes from it the
// settings the inventory leaves open (HostName, User, Port, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking,
// ProxyJump), so that a host `ssh NAME` reaches is reached the same way. When no file ssh reads sets any of these by
// host (ssh-config-scan.ts), one `ssh -G` answers for all hosts, each with its own HostName.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { homedir, hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { addressProblem } from './address.js';
import { jumpSpec } from './ansible-connection.js';
import { ConfigError } from './errors.js';
import { localPathString, nameString } from './fields.js';
import { mayVaryByHost } from './ssh-config-scan.js';
import type { HostSpec, JumpSpec } from './inventory.js';

/** What `ssh -G` printed: each keyword (lower case) with its values, in order. */
export type SshOptions = Map<string, string[]>;

export function parseSshG(text: string): SshOptions {
  const out: SshOptions = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    out.set(key, [...(out.get(key) ?? []), m[2]!]);
  }
  return out;
}

/** The identity files ssh tries when none is configured: seeing only these means "no IdentityFile". */
const DEFAULT_IDENTITIES = new Set(['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((f) => `~/.ssh/${f}`));

export interface SshConfigSource {
  /** `-F FILE` as given, or undefined for ssh's own choice; "none" reads no configuration at all. */
  file?: string;
}

/**
 * The ssh arguments that pick the configuration: `-F FILE` when given; with no -F, ssh's own (the account's
 * ~/.ssh/config and /etc/ssh/ssh_config), except that when $HOME is not the account's home (ssh ignores $HOME),
 * $HOME/.ssh/config is read, as fleetfix's other ~ paths are.
 */
export function sshConfigArgs(src: SshConfigSource): string[] | undefined {
  if (src.file === 'none') return undefined;
  if (src.file !== undefined) {
    const file = resolve(src.file);
    if (!existsSync(file)) throw new ConfigError(`-F ${src.file}: no such file`);
    return ['-F', file];
  }
  const home = homedir();
  const own = join(home, '.ssh', 'config');
  if (home !== userInfo().homedir && existsSync(own)) return ['-F', own];
  return [];
}

export interface SshGRunner {
  (args: string[]): Promise<string>;
}

const runSshG: SshGRunner = (args) =>
  new Promise((resolvePromise, reject) => {
    execFile('ssh', ['-G', ...args], { timeout: 10_000, maxBuffer: 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) {
        const said = String(stderr).replace(/\r/g, '').trim().split('\n').slice(0, 3).join(' | ');
        const code = (err as NodeJS.ErrnoException).code;
        reject(new ConfigError(`ssh -G ${args.at(-1)}: ${code === 'ENOENT' ? 'ssh is not installed' : said || err.message.split('\n')[0]}`));
      } else resolvePromise(String(stdout));
    }).stdin?.end();
  });

/**
 * The hosts with what ssh_config says filled in where the inventory left it open. Runs `ssh -G` for each SSH host
 * (a few at a time) and for each jump host it names, or once in all when the configuration cannot vary by host;
 * connects to nothing.
 */
export async function applySshConfig(hosts: HostSpec[], src: SshConfigSource = {}, run: SshGRunner = runSshG): Promise<HostSpec[]> {
  const base = sshConfigArgs(src);
  if (base === undefined) return hosts;
  const wanted = hosts.filter((h) => h.transport === 'ssh' && h.sshConfig && h.sshConfig.open.length > 0);
  if (wanted.length === 0) return hosts;
  // Without -F, no ssh client means no ssh_config to read; with -F, ssh -G says it is missing.
  if (src.file === undefined && run === runSshG && !onPath('ssh')) return hosts;
  const limit = pLimit(8);
  const ask = (name: string) => limit(() => run([...base, '--', name])).then(parseSshG);
  const cache = new Map<string, Promise<SshOptions>>();
  // When nothing fleetfix reads can vary by host, the first host's answer serves every host, with the HostName that
  // ssh gives the name each asks (names whose HostName only ssh can say are asked of it).
  const first = wanted[0]!.sshConfig!.query;
  const shared = wanted.length > 1 && !mayVaryByHost(base) ? ask(first) : undefined;
  if (shared) cache.set(first, shared);
  const answer = (name: string): Promise<SshOptions> => {
    const address = shared ? sshHostname(name) : undefined;
    return shared && address ? shared.then((opts) => new Map(opts).set('hostname', [address])) : ask(name);
  };
  const lookup = (name: string) => {
    let p = cache.get(name);
    if (!p) cache.set(name, (p = answer(name)));
    return p;
  };
  const updated = new Map<HostSpec, HostSpec>();
  await Promise.all(
    wanted.map(async (host) => {
      const opts = await lookup(host.sshConfig!.query);
      const next = applyOptions(host, opts);
      if (next.ssh.jump && host.sshConfig!.open.includes('jump') && next.ssh.jump !== host.ssh.jump) next.ssh.jump = await resolveJump(next.ssh.jump, lookup);
      updated.set(host, next);
    }),
  );
  return hosts.map((h) => updated.get(h) ?? h);
}

/**
 * The hostname `ssh -G NAME` prints when no HostName, Canonicalize* or AddressFamily applies (ssh.c): a DNS name in
 * lower case; an address as getnameinfo writes it, or as asked when only the case differs. Undefined for the names
 * only ssh can say: those inet_aton may read as an address (123 is 0.0.0.123), IPv6 written with an IPv4 tail, and
 * IPv6 whose first 80 bits are zero (::1, ::ffff:c000:201), which C libraries write differently.
 */
export function sshHostname(name: string): string | undefined {
  if (/^\w[\w.-]*$/.test(name)) {
    const numeric = /^[\d.]+$/.test(name) || name.split('.').every((label) => /^\d/.test(label));
    if (!numeric) return name.toLowerCase();
    return isIPv4(name) ? name : undefined;
  }
  const words = ipv6Words(name);
  if (!words || words.slice(0, 5).every((w) => w === 0)) return undefined;
  const text = ipv6Text(words);
  return text === name.toLowerCase() ? name : text;
}

/** The eight 16-bit words of an IPv6 address written in hex alone (no IPv4 tail, no zone), or undefined. */
function ipv6Words(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const [head = [], tail = []] = halves.map((h) => (h === '' ? [] : h.split(':')));
  const missing = 8 - head.length - tail.length;
  if (![...head, ...tail].every((w) => /^[\da-f]{1,4}$/i.test(w)) || (halves.length === 2 ? missing < 1 : missing !== 0)) return undefined;
  return [...head, ...Array<string>(missing).fill('0'), ...tail].map((w) => parseInt(w, 16));
}

/** IPv6 words as inet_ntop writes them: hex, and the first longest run of two or more zero words as "::". */
function ipv6Text(words: number[]): string {
  let zeros = { at: 0, length: 0 };
  for (let i = 0; i < words.length; i++) {
    let end = i;
    while (end < words.length && words[end] === 0) end++;
    if (end - i > zeros.length) zeros = { at: i, length: end - i };
    i = end;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return zeros.length < 2 ? hex(words) : `${hex(words.slice(0, zeros.at))}::${hex(words.slice(zeros.at + zeros.length))}`;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d !== '' && existsSync(join(d, cmd)));
}

const userSchema = nameString('user');

/** One host with `opts` (from `ssh -G`) applied to the settings its inventory left open. */
export function applyOptions(host: HostSpec, opts: SshOptions): HostSpec {
  const open = new Set(host.sshConfig?.open ?? []);
  const what = `ssh_config for ${host.sshConfig?.query ?? host.name}`;
  const one = (k: string) => opts.get(k)?.[0];
  const next: HostSpec = { ...host, ssh: { ...host.ssh }, fallbacks: host.fallbacks.map((f) => ({ ...f })) };
  const before = host.ssh;
  if (open.has('address')) {
    const name = one('hostname');
    if (name && name !== host.address) {
      const problem = addressProblem(name);
      if (problem) throw new ConfigError(`${what}: ssh -G gives HostName ${JSON.stringify(name)}, which fleetfix would connect to: ${problem}`);
      next.address = name;
    }
  }
  if (open.has('user')) {
    const user = one('user');
    if (user && user !== before.user) {
      const r = userSchema.safeParse(user);
      if (!r.success) throw new ConfigError(`${what}: User: ${r.error.issues[0]?.message}`);
      next.ssh.user = user;
    }
  }
  if (open.has('port')) next.ssh.port = sshGPort(one('port'), what) ?? next.ssh.port;
  const tokens = { h: next.address, r: next.ssh.user, n: host.sshConfig?.query ?? host.name, p: String(next.ssh.port) };
  if (open.has('identity')) {
    const files = opts.get('identityfile') ?? [];
    if (files.some((f) => !DEFAULT_IDENTITIES.has(f))) {
      const paths = files.map((f) => expandTokens(f, tokens, what)).filter((p) => existsSync(p));
      if (paths.length > 0) next.ssh.identities = paths;
    }
  }
  if (open.has('knownHosts')) {
    const first = one('userknownhostsfile')?.split(/\s+/)[0];
    if (first && first !== join(userInfo().homedir, '.ssh', 'known_hosts')) next.knownHosts = expandTokens(first, tokens, what);
  }
  if (open.has('hostKeyPolicy')) {
    const v = one('stricthostkeychecking')?.toLowerCase();
    if (v === 'true' || v === 'yes') next.hostKeyPolicy = 'strict';
    else if (v === 'accept-new' || v === 'false' || v === 'no' || v === 'off') next.hostKeyPolicy = 'accept-new';
  }
  if (open.has('jump')) {
    const fail = (msg: string) => new ConfigError(`${what}: ${msg}`);
    const pj = one('proxyjump');
    const pc = one('proxycommand');
    if (pj && pj.toLowerCase() !== 'none') {
      const j = jumpSpec(pj, fail);
      next.ssh.jump = { address: j.address, port: j.port ?? 0, user: j.user ?? '', identities: next.ssh.identities };
    } else if (pc && pc.toLowerCase() !== 'none') {
      throw fail(`ProxyCommand ${JSON.stringify(pc)}: fleetfix follows ProxyJump (a jump host), not a ProxyCommand; write "ProxyJump HOST"`);
    }
  }
  // Fallbacks that took the primary's user, port or keys follow what ssh_config changed.
  for (const f of next.fallbacks) {
    if (f.user === before.user) f.user = next.ssh.user;
    if (f.port === before.port) f.port = next.ssh.port;
    if (f.identities === before.identities) f.identities = next.ssh.identities;
  }
  if (next.console && next.console.user === before.user) next.console = { ...next.console, user: next.ssh.user };
  return next;
}

/** A jump host from ssh_config goes through ssh_config too: its HostName, Port, User and IdentityFile, as ssh -J would. */
async function resolveJump(jump: JumpSpec, lookup: (name: string) => Promise<SshOptions>): Promise<JumpSpec> {
  const opts = await lookup(jump.address);
  const what = `ssh_config for jump host ${jump.address}`;
  const one = (k: string) => opts.get(k)?.[0];
  const address = one('hostname') ?? jump.address;
  const problem = addressProblem(address);
  if (problem) throw new ConfigError(`${what}: ssh -G gives HostName ${JSON.stringify(address)}, which fleetfix would connect to: ${problem}`);
  const user = jump.user || one('user') || userInfo().username;
  const r = userSchema.safeParse(user);
  if (!r.success) throw new ConfigError(`${what}: User: ${r.error.issues[0]?.message}`);
  const port = jump.port || (sshGPort(one('port'), what) ?? 22);
  const files = opts.get('identityfile') ?? [];
  const tokens = { h: address, r: user, n: jump.address, p: String(port) };
  const own = files.some((f) => !DEFAULT_IDENTITIES.has(f)) ? files.map((f) => expandTokens(f, tokens, what)).filter((p) => existsSync(p)) : [];
  return { ...jump, address, user, port, identities: own.length > 0 ? own : jump.identities };
}

/** The Port `ssh -G` printed: a whole number from 1 to 65535 in decimal, or an error naming it. */
function sshGPort(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,4}$/.test(text) || Number(text) > 65535) throw new ConfigError(`${what}: ssh -G gives Port ${JSON.stringify(text)}: expected a whole number from 1 to 65535`);
  return Number(text);
}

/** ssh's ~ and %-tokens in a path: %d home, %h host, %r remote user, %u local user, %n name asked, %p port, %i uid, %l local host, %%. */
export function expandTokens(path: string, t: { h: string; r: string; n: string; p: string }, what: string): string {
  const problem = localPathString.safeParse(path).error?.issues[0]?.message;
  if (problem) throw new ConfigError(`${what}: ${problem}`);
  const home = homedir();
  const expanded = path.replace(/^~(?=\/|$)/, home).replace(/%(.)/g, (m, c: string) => {
    switch (c) {
      case '%': return '%';
      case 'd': return home;
      case 'h': return t.h;
      case 'r': return t.r;
      case 'u': return userInfo().username;
      case 'n': return t.n;
      case 'p': return t.p;
      case 'i': return String(process.getuid?.() ?? '');
      case 'l': return hostname();
      default: throw new ConfigError(`${what}: the path ${JSON.stringify(path)} has ${m}, which fleetfix does not expand (it takes %d %h %r %u %n %p %i %l %%)`);
    }
  });
  return resolve(expanded);
}
