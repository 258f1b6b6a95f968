// Ansible's connection variables mapped onto fleetfix's host settings. Every value is hostile input: host names and
// addresses, user names, ports and paths are checked, and a password is only ever a reference to where it is kept.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { addressProblem } from './address.js';
import { configError, type Where } from './ansible-inventory.js';
import { shlexSplit, TextError } from './ansible-text.js';
import { controlCharIn, localPathString, nameString, type SecretRef } from './fields.js';
import type { HostSettings } from './inventory-schema.js';
import { expandHome } from '../util/paths.js';

export interface JumpSettings {
  address: string;
  port?: number;
  user?: string;
}

export interface AnsibleConnection {
  settings: HostSettings;
  /** A jump host named by ansible_ssh_common_args (-J, ProxyJump, or ProxyCommand "ssh -W %h:%p HOST"). */
  jump?: JumpSettings;
}

/** Variables that name the same setting; the first that is set wins, as in Ansible. */
const ALIASES: Record<string, string[]> = {
  host: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  key: ['ansible_ssh_private_key_file', 'ansible_private_key_file'],
  password: ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'],
};

/** ssh options that change nothing about which host, user, key or host key fleetfix uses: they are let be. */
const HARMLESS_OPTIONS = new Set(
  ['controlmaster', 'controlpersist', 'controlpath', 'serveraliveinterval', 'serveralivecountmax', 'tcpkeepalive', 'compression', 'forwardagent', 'forwardx11', 'loglevel', 'identitiesonly', 'connectionattempts', 'gssapiauthentication', 'gssapidelegatecredentials', 'kbdinteractiveauthentication', 'passwordauthentication', 'pubkeyauthentication', 'preferredauthentications', 'batchmode', 'addkeystoagent', 'requesttty', 'sendenv', 'hashknownhosts', 'globalknownhostsfile', 'checkhostip', 'visualhostkey', 'updatehostkeys', 'verifyhostkeydns', 'addressfamily'].map((s) => s.toLowerCase()),
);
const HARMLESS_FLAGS = new Set(['-q', '-v', '-vv', '-vvv', '-C', '-T', '-t', '-tt', '-x', '-X', '-Y', '-A', '-a', '-4', '-6', '-n', '-N']);

/** The connection settings one Ansible host's merged variables give. `where(name)` says where a variable was set. */
export function ansibleConnection(name: string, vars: Record<string, unknown>, where: (v: string) => Where): AnsibleConnection {
  const pick = (what: keyof typeof ALIASES) => {
    const key = ALIASES[what]!.find((k) => vars[k] !== undefined && vars[k] !== null);
    return key === undefined ? undefined : { key, value: vars[key], at: where(key) };
  };
  const s: HostSettings = {};
  const connection = vars.ansible_connection;
  if (connection !== undefined && connection !== null) {
    const c = String(connection);
    if (c === 'local') s.transport = 'local';
    else if (c === 'ssh' || c === 'smart' || c === 'paramiko' || c === 'paramiko_ssh') s.transport = 'ssh';
    else throw configError(where('ansible_connection'), `ansible_connection: fleetfix reaches hosts by ssh or local, not ${JSON.stringify(c)}`);
  }
  const host = pick('host');
  if (host) s.address = hostName(host.key, host.value, host.at);
  const port = pick('port');
  if (port) s.port = portNumber(port.key, port.value, port.at);
  const user = pick('user');
  if (user) s.user = userName(user.key, user.value, user.at);
  const key = pick('key');
  if (key) {
    s.identity = localPath(key.key, key.value, key.at);
    if (s.transport !== 'local' && !existsSync(s.identity)) throw configError(key.at, `${key.key}: identity file ${s.identity} does not exist`);
  }
  const password = pick('password');
  if (password) s.password = secretRef(password.key, password.value, password.at);
  if (vars.ansible_become !== undefined && vars.ansible_become !== null) {
    const become = truthy('ansible_become', vars.ansible_become, where('ansible_become'));
    if (become) {
      const method = vars.ansible_become_method;
      if (method !== undefined && method !== null && method !== 'sudo') throw configError(where('ansible_become_method'), `ansible_become_method: fleetfix becomes root with sudo -n only, not ${JSON.stringify(String(method))}`);
      const to = vars.ansible_become_user;
      if (to !== undefined && to !== null && to !== 'root') throw configError(where('ansible_become_user'), `ansible_become_user: fleetfix becomes root only, not ${JSON.stringify(String(to))}`);
      s.become = 'sudo';
    } else {
      s.become = false;
    }
  }
  if (vars.ansible_become_password !== undefined || vars.ansible_become_pass !== undefined) {
    const k = vars.ansible_become_password !== undefined ? 'ansible_become_password' : 'ansible_become_pass';
    throw configError(where(k), `${k}: fleetfix runs sudo -n (no password); give the user passwordless sudo, or log in as root`);
  }
  let jump: JumpSettings | undefined;
  for (const k of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const v = vars[k];
    if (v === undefined || v === null || v === '') continue;
    const args = sshArgs(k, v, where(k));
    if (args.jump) jump = args.jump;
    if (args.knownHosts) s.known_hosts = args.knownHosts;
    if (args.hostKeyPolicy) s.host_key_policy = args.hostKeyPolicy;
    if (args.connectTimeout) s.connect_timeout = args.connectTimeout;
  }
  for (const k of ['ansible_host_key_checking', 'ansible_ssh_host_key_checking']) {
    if (vars[k] !== undefined && vars[k] !== null && !s.host_key_policy) s.host_key_policy = truthy(k, vars[k], where(k)) ? 'strict' : 'accept-new';
  }
  if (vars.ansible_ssh_timeout !== undefined || vars.ansible_timeout !== undefined) {
    const k = vars.ansible_ssh_timeout !== undefined ? 'ansible_ssh_timeout' : 'ansible_timeout';
    s.connect_timeout ??= boundedInt(k, vars[k], 1, 600, where(k));
  }
  void name;
  return { settings: s, jump };
}

function text(key: string, value: unknown, at: Where): string {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw configError(at, `${key}: expected a string, got ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value}`);
  if (value.includes('{{') || value.includes('{%')) throw configError(at, `${key}: a template ({{ ... }}) is not evaluated in a connection variable; write the value itself`);
  return value;
}

function hostName(key: string, value: unknown, at: Where): string {
  const v = text(key, value, at);
  const problem = addressProblem(v);
  if (problem) throw configError(at, `${key}: ${problem}`);
  return v;
}

function boundedInt(key: string, value: unknown, min: number, max: number, at: Where): number {
  const v = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(v) || v < min || v > max) throw configError(at, `${key}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return v;
}

function portNumber(key: string, value: unknown, at: Where): number {
  return boundedInt(key, value, 1, 65535, at);
}

function fromSchema(schema: z.ZodType, key: string, value: string, at: Where): string {
  const r = schema.safeParse(value);
  if (!r.success) throw configError(at, `${key}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return value;
}

const userSchema = nameString('user');

function userName(key: string, value: unknown, at: Where): string {
  return fromSchema(userSchema, key, text(key, value, at), at);
}

/** A local path on one line; ~ is the home directory and a relative path is relative to the current directory, as ssh takes it. */
function localPath(key: string, value: unknown, at: Where): string {
  const v = text(key, value, at);
  const control = controlCharIn(v);
  if (v === '' || control) throw configError(at, `${key}: expected a path on one line; ${control ? `found ${control}` : 'got an empty string'}`);
  const problem = localPathString.safeParse(v).error?.issues[0]?.message;
  if (problem) throw configError(at, `${key}: ${problem}`);
  const expanded = expandHome(v);
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

function truthy(key: string, value: unknown, at: Where): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  const v = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (v !== undefined && ['yes', 'true', 'on', '1', 'y', 't'].includes(v)) return true;
  if (v !== undefined && ['no', 'false', 'off', '0', 'n', 'f'].includes(v)) return false;
  throw configError(at, `${key}: expected true or false, got ${JSON.stringify(value)}`);
}

const LOOKUP = /^\{\{\s*lookup\(\s*(['"])(?:ansible\.builtin\.)?(env|file)\1\s*,\s*(['"])([^'"{}]+)\3\s*\)\s*\}\}$/;

/**
 * A password is never written in the inventory itself: only `{{ lookup('env', 'NAME') }}` or
 * `{{ lookup('file', 'PATH') }}` is taken, and read as fleetfix's { env } or { file } secret. The value is never printed.
 */
function secretRef(key: string, value: unknown, at: Where): SecretRef {
  const m = typeof value === 'string' ? LOOKUP.exec(value.trim()) : null;
  if (!m) {
    const vault = typeof value === 'string' && value.trimStart().startsWith('$ANSIBLE_VAULT');
    throw configError(at, `${key}: ${vault ? 'a vault-encrypted value' : 'a password written in the inventory'} is refused (its value is not shown); write {{ lookup('env', 'NAME') }} or {{ lookup('file', 'PATH') }}`);
  }
  const ref = m[4]!;
  const control = controlCharIn(ref);
  if (control) throw configError(at, `${key}: the ${m[2]} lookup's argument has ${control}`);
  return m[2] === 'env' ? { env: ref } : { file: ref };
}

interface SshArgs {
  jump?: JumpSettings;
  knownHosts?: string;
  hostKeyPolicy?: 'strict' | 'accept-new';
  connectTimeout?: number;
}

/**
 * What ansible_ssh_common_args / ansible_ssh_extra_args say about reaching the host: a jump host (-J, ProxyJump,
 * ProxyCommand "ssh -W %h:%p HOST"), a known_hosts file, StrictHostKeyChecking, ConnectTimeout. Options that do not
 * change where or as whom fleetfix connects are let be; any other is refused, rather than silently not done.
 */
export function sshArgs(key: string, value: unknown, at: Where): SshArgs {
  const line = text(key, value, at);
  const control = controlCharIn(line);
  if (control) throw configError(at, `${key}: found ${control}`);
  let words: string[];
  try {
    words = shlexSplit(line).map((w) => w.text);
  } catch (err) {
    if (err instanceof TextError) throw configError(at, `${key}: ${err.message}`);
    throw err;
  }
  const out: SshArgs = {};
  const fail = (msg: string) => configError(at, `${key}: ${msg}`);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let opt: string | undefined;
    if (w === '-o') opt = words[++i];
    else if (w.startsWith('-o')) opt = w.slice(2);
    else if (w === '-J' || w.startsWith('-J')) {
      out.jump = jumpSpec(w === '-J' ? words[++i] : w.slice(2), fail);
      continue;
    } else if (HARMLESS_FLAGS.has(w)) continue;
    else throw fail(`${JSON.stringify(w)} is not understood (fleetfix takes -J, -o ProxyJump=, -o ProxyCommand="ssh -W %h:%p HOST", -o UserKnownHostsFile=, -o StrictHostKeyChecking=, -o ConnectTimeout=)`);
    if (opt === undefined) throw fail(`${w} needs a value`);
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/s.exec(opt);
    if (!m) throw fail(`expected -o Option=value, got ${JSON.stringify(opt)}`);
    const name = m[1]!.toLowerCase();
    const v = m[2]!.trim();
    if (name === 'proxyjump') out.jump = v.toLowerCase() === 'none' ? undefined : jumpSpec(v, fail);
    else if (name === 'proxycommand') out.jump = proxyCommand(v, fail);
    else if (name === 'userknownhostsfile') {
      const first = v.split(/\s+/)[0]!;
      out.knownHosts = localPath(`${key} UserKnownHostsFile`, first, at);
    } else if (name === 'stricthostkeychecking') {
      const p = v.toLowerCase();
      if (p === 'yes' || p === 'ask' || p === 'true') out.hostKeyPolicy = 'strict';
      else if (p === 'accept-new' || p === 'no' || p === 'off' || p === 'false') out.hostKeyPolicy = 'accept-new';
      else throw fail(`StrictHostKeyChecking: expected yes, accept-new or no, got ${JSON.stringify(v)}`);
    } else if (name === 'connecttimeout') out.connectTimeout = boundedInt(`${key} ConnectTimeout`, v, 1, 600, at);
    else if (!HARMLESS_OPTIONS.has(name)) throw fail(`-o ${m[1]} is not understood here (set the host, port, user and key with ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file)`);
  }
  return out;
}

/** `[user@]host[:port]`; one hop (a list of hops is refused). */
export function jumpSpec(spec: string | undefined, fail: (msg: string) => Error): JumpSettings {
  if (!spec) throw fail('-J needs a jump host');
  if (spec.includes(',')) throw fail(`jump hosts ${JSON.stringify(spec)}: fleetfix goes through one jump host, not a chain`);
  const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw fail(`jump host ${JSON.stringify(spec)}: expected [user@]host[:port]`);
  const address = m[2]!.replace(/^\[|\]$/g, '');
  const problem = addressProblem(address);
  if (problem) throw fail(`jump host ${JSON.stringify(spec)}: ${problem}`);
  const jump: JumpSettings = { address };
  if (m[1] !== undefined) {
    const r = userSchema.safeParse(m[1]);
    if (!r.success) throw fail(`jump host ${JSON.stringify(spec)}: ${r.error.issues[0]?.message}`);
    jump.user = m[1];
  }
  if (m[3] !== undefined) {
    const p = Number(m[3]);
    if (p < 1 || p > 65535) throw fail(`jump host ${JSON.stringify(spec)}: port ${p} is not from 1 to 65535`);
    jump.port = p;
  }
  return jump;
}

/** ProxyCommand, only in the form that is a jump host: `ssh [-q] [-l USER] [-p PORT] -W %h:%p [USER@]HOST`. */
function proxyCommand(cmd: string, fail: (msg: string) => Error): JumpSettings {
  let words: string[];
  try {
    words = shlexSplit(cmd).map((w) => w.text);
  } catch {
    words = [];
  }
  const refuse = () => fail(`ProxyCommand ${JSON.stringify(cmd)}: fleetfix takes only a jump host, "ssh -W %h:%p [USER@]HOST" (or -J / ProxyJump)`);
  if (words[0] !== 'ssh' && !words[0]?.endsWith('/ssh')) throw refuse();
  let user: string | undefined;
  let port: string | undefined;
  let target: string | undefined;
  let forwards = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-W') forwards = ['%h:%p', '[%h]:%p'].includes(words[++i] ?? '');
    else if (w === '-q') continue;
    else if (w === '-l') user = words[++i];
    else if (w === '-p') port = words[++i];
    else if (!w.startsWith('-') && target === undefined) target = w;
    else throw refuse();
  }
  if (!forwards || !target) throw refuse();
  const jump = jumpSpec(`${user && !target.includes('@') ? `${user}@` : ''}${target}${port ? `:${port}` : ''}`, fail);
  return jump;
}
