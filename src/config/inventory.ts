// Inventory loading: YAML -> validated file -> one fully resolved HostSpec per host.
import { accessSync, closeSync, constants, existsSync, openSync, readSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, extname } from 'node:path';
import { addressProblem } from './address.js';
import { ansibleConnection, type JumpSettings } from './ansible-connection.js';
import { configError, parseAnsibleIni, parseAnsibleYaml, resolveAnsible, runInventoryScript, type AnsibleData, type Where } from './ansible-inventory.js';
import { ConfigError, ConfigErrors, type SourcePosition } from './errors.js';
import { controlCharIn } from './fields.js';
import { lookAlikeHostNames, type NameWhere } from './host-names.js';
import { inventorySchema, type ConsoleSettings, type FallbackSettings, type HostSettings } from './inventory-schema.js';
import { resolveSecret } from './secrets.js';
import { parseWith } from './validate.js';
import { ambiguousNumbers } from './yaml-limits.js';
import { readRegularFile, YamlSource, type ValuePath } from './yaml-source.js';
import { expandHome, resolveFrom } from '../util/paths.js';
import { DEFAULT_MAX_OUTPUT_MIB } from '../transport/output-cap.js';

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface JumpSpec {
  address: string;
  port: number;
  user: string;
  identities: string[];
  password?: string;
}

/** One way in over SSH: the primary one, or a fallback with some settings overridden. */
export interface SshAccess {
  label: string;
  port: number;
  user: string;
  identities: string[];
  passphrase?: string;
  agent?: string;
  /** `agent: true` was asked for (not merely an SSH_AUTH_SOCK in the environment): the agent must hold the key. */
  agentAsked?: boolean;
  password?: string;
  jump?: JumpSpec;
}

export interface ConsoleSpec {
  tcp?: { host: string; port: number };
  command?: string;
  pty: boolean;
  user: string;
  password?: string;
  promptTimeoutMs: number;
}

export interface HostSpec {
  name: string;
  address: string;
  transport: 'ssh' | 'local' | 'exec';
  /** The command for transport: exec. */
  exec?: string;
  groups: string[];
  ssh: SshAccess;
  fallbacks: SshAccess[];
  console?: ConsoleSpec;
  knownHosts: string;
  hostKeyPolicy: HostKeyPolicy;
  become?: 'sudo';
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** The most one script may send back (`max_output`, MiB): past it the host's run is an error. */
  maxOutputBytes: number;
  vars: Record<string, unknown>;
  /** Where one of `vars` was set (the last layer that set it), for errors in its value; looked up only then. */
  varPosition?: (name: string) => SourcePosition | undefined;
  /** For SSH hosts: the name `ssh -G` is asked about, and the settings the inventory left open for ssh_config to fill. */
  sshConfig?: { query: string; open: SshConfigField[] };
}

/** Settings that ssh_config may give a host when its inventory leaves them open. */
export type SshConfigField = 'address' | 'user' | 'port' | 'identity' | 'knownHosts' | 'hostKeyPolicy' | 'jump';

export interface Inventory {
  file?: string;
  hosts: HostSpec[];
  groups: Map<string, string[]>;
  /** Where a host's name is written, for an error that names two hosts. */
  whereIs?: (name: string) => NameWhere;
}

const DEFAULT_IDENTITIES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

/** The inventory used when -i is absent: this machine, run locally. */
export function localInventory(): Inventory {
  const base = resolveHost('localhost', { transport: 'local' }, [], process.cwd(), 'localhost');
  return { hosts: [base], groups: new Map() };
}

/** The inventory `file` names (this machine's without one), refused when two of its host names look alike. */
export async function loadCheckedInventory(file: string | undefined): Promise<Inventory> {
  const inventory = file ? loadInventory(file) : localInventory();
  const problems = await lookAlikeHostNames(inventory.hosts.map((h) => h.name), inventory.whereIs ?? (() => inventory.file ?? 'the inventory'));
  if (problems.length > 0) throw new ConfigErrors(problems);
  return inventory;
}

/** Room for tens of thousands of hosts; a larger file is refused before it is parsed. */
export const MAX_INVENTORY_BYTES = 4 * 1024 * 1024;

/** How an inventory file is read: fleetfix's YAML, Ansible's YAML or INI, or an Ansible dynamic-inventory executable. */
export type InventoryFormat = 'fleetfix' | 'ansible-yaml' | 'ansible-ini' | 'ansible-script';

/** A dynamic inventory's --list (and each --host) gets this long and may print this much. */
export const INVENTORY_SCRIPT_LIMITS = { timeoutMs: 30_000, maxBytes: MAX_INVENTORY_BYTES };

/**
 * The format of `file`, from the file itself: an executable that starts with "#!" (or is an ELF binary) is a dynamic
 * inventory, run only because -i names it; .ini is INI; otherwise YAML whose top level is fleetfix's (hosts:,
 * defaults:, groups:) or Ansible's (groups), and INI when the first line that says anything is not YAML-shaped.
 */
export function loadInventory(file: string): Inventory {
  if (isExecutableProgram(file)) return ansibleInventory(runInventoryScript(file, INVENTORY_SCRIPT_LIMITS));
  const text = readRegularFile(file, MAX_INVENTORY_BYTES);
  const ext = extname(file).toLowerCase();
  if (ext === '.ini' || ext === '.cfg' || (ext !== '.yml' && ext !== '.yaml' && ext !== '.json' && looksLikeIni(text))) return ansibleInventory(parseAnsibleIni(file, text));
  const source = YamlSource.fromText(file, text);
  const numbers = ambiguousNumbers(source.doc);
  if (numbers.length > 0) throw new ConfigErrors(numbers.map((p) => new ConfigError(p.message, source.offsetPosition(p.offset))));
  const raw = source.value();
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && !isFleetfixShape(raw as Record<string, unknown>)) return ansibleInventory(parseAnsibleYaml(source, raw));
  return loadFleetfixInventory(file, source, raw);
}

/**
 * Ansible's YAML has groups at the top: `all:`, or only mappings of hosts:, children: and vars: (or nothing). Anything
 * else is fleetfix's own (hosts:, defaults:, groups:), whose errors then say what is wrong with it.
 */
function isFleetfixShape(raw: Record<string, unknown>): boolean {
  if ('all' in raw || 'plugin' in raw) return false;
  const groupShaped = (v: unknown) => v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => k === 'hosts' || k === 'children' || k === 'vars'));
  return Object.keys(raw).length === 0 || 'defaults' in raw || !Object.values(raw).every(groupShaped);
}

/** INI when the first line with something on it is a [section], or a host line rather than a YAML "key:" or "- item". */
function looksLikeIni(text: string): boolean {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (/^\[[^\]\s]+\]\s*(#.*)?$/.test(line)) return true;
    if (line === '---' || line.startsWith('- ') || line.startsWith('{') || /^[^\s#]+:(\s|$)/.test(line) || /^["'][^"']*["']\s*:/.test(line)) return false;
    return true;
  }
  return false;
}

/** An executable regular file that is a program: "#!" or ELF at its start. A YAML file with a stray x bit is not one. */
function isExecutableProgram(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    return false;
  }
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    return (n >= 2 && head.toString('latin1', 0, 2) === '#!') || (n === 4 && head.toString('latin1') === '\x7fELF');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function loadFleetfixInventory(file: string, source: YamlSource, raw: unknown): Inventory {
  if (raw === null || typeof raw !== 'object') throw source.error([], 'expected a mapping with "hosts:" (and optional "defaults:", "groups:")');
  const inv = parseWith(inventorySchema, raw, source);
  const baseDir = dirname(file);
  const hostNames = Object.keys(inv.hosts);
  const groups = new Map<string, string[]>();
  const memberOf = new Map<string, string[]>(hostNames.map((h) => [h, []]));
  const problems: ConfigError[] = [];
  for (const [group, body] of Object.entries(inv.groups ?? {})) {
    if (inv.hosts[group] !== undefined) problems.push(source.error(['groups', group], `group "${group}" has the name of a host`, { key: true }));
    const members = body?.hosts ?? [];
    members.forEach((h, i) => {
      if (!memberOf.has(h)) problems.push(source.error(['groups', group, 'hosts', i], `group "${group}" lists unknown host "${h}" (not under hosts:)`));
      else memberOf.get(h)!.push(group);
    });
    groups.set(group, members);
  }
  if (problems.length) throw new ConfigErrors(problems);

  const hosts = hostNames.map((name) => {
    const layers: HostSettings[] = [inv.defaults ?? {}];
    const layerPaths: ValuePath[] = [['defaults']];
    for (const g of memberOf.get(name)!) {
      const { hosts: _members, ...settings } = inv.groups?.[g] ?? {};
      layers.push(settings);
      layerPaths.push(['groups', g]);
    }
    layers.push(inv.hosts[name] ?? {});
    layerPaths.push(['hosts', name]);
    const merged = layers.reduce<HostSettings>((acc, layer) => deepMerge(acc, layer), {});
    const varPosition = (v: string) => {
      const i = layers.map((layer) => layer.vars !== undefined && Object.hasOwn(layer.vars, v)).lastIndexOf(true);
      return i < 0 ? undefined : source.position([...layerPaths[i]!, 'vars', v]);
    };
    let spec: HostSpec;
    try {
      spec = resolveHost(name, merged, memberOf.get(name)!, baseDir, file);
    } catch (err) {
      if (err instanceof ConfigError && !err.position) throw source.error(['hosts', name], err.message, { key: true });
      throw err;
    }
    const problem = spec.transport === 'ssh' && merged.address === undefined ? addressProblem(name) : undefined;
    if (problem) throw source.error(['hosts', name], `host ${JSON.stringify(name)} has no "address:", so fleetfix connects to its name: ${problem}`, { key: true });
    return { ...spec, varPosition, sshConfig: spec.transport === 'ssh' ? { query: merged.address ?? name, open: openFields(merged) } : undefined };
  });
  return { file, hosts, groups, whereIs: (name) => source.position(['hosts', name], { key: true }) };
}

/** What the merged settings leave for ssh_config to fill. */
function openFields(s: HostSettings, jump?: JumpSettings): SshConfigField[] {
  const open: SshConfigField[] = [];
  if (s.address === undefined) open.push('address');
  if (s.user === undefined) open.push('user');
  if (s.port === undefined) open.push('port');
  if (s.identity === undefined) open.push('identity');
  if (s.known_hosts === undefined) open.push('knownHosts');
  if (s.host_key_policy === undefined) open.push('hostKeyPolicy');
  if (jump === undefined) open.push('jump');
  return open;
}

/** An Ansible inventory's hosts as fleetfix hosts: Ansible's groups and variable precedence, its connection variables as fleetfix's settings. */
export function ansibleInventory(data: AnsibleData): Inventory {
  const { hosts: resolved, groupHosts } = resolveAnsible(data);
  const baseDir = dirname(data.file);
  const hosts = resolved.map(({ host, groups, vars, varWhere }) => {
    const where = (v: string): Where => varWhere.get(v) ?? host.where;
    const { settings, jump } = ansibleConnection(host.name, vars, where);
    let spec: HostSpec;
    try {
      spec = resolveHost(host.name, { ...settings, vars }, groups, baseDir, data.file);
    } catch (err) {
      // A secret that cannot be read is pointed at where its variable was set.
      const passwordVar = ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'].find((k) => vars[k] !== undefined);
      if (err instanceof ConfigError && !err.position) throw configError(/ password: /.test(err.message) && passwordVar ? where(passwordVar) : host.where, err.message);
      throw err;
    }
    const problem = spec.transport === 'ssh' && settings.address === undefined ? addressProblem(host.name) : undefined;
    if (problem) throw configError(host.where, `host ${JSON.stringify(host.name)} has no ansible_host, so fleetfix connects to its name: ${problem}`);
    if (jump) spec.ssh.jump = { address: jump.address, port: jump.port ?? 22, user: jump.user ?? spec.ssh.user, identities: spec.ssh.identities };
    const varPosition = (v: string) => {
      const w = varWhere.get(v);
      return w === undefined || typeof w === 'string' ? undefined : w;
    };
    return { ...spec, varPosition, sshConfig: spec.transport === 'ssh' ? { query: settings.address ?? host.name, open: openFields(settings, jump) } : undefined };
  });
  const groups = new Map<string, string[]>();
  for (const [name, members] of groupHosts) groups.set(name, members);
  return { file: data.file, hosts, groups, whereIs: (name) => data.hosts.get(name)?.where ?? data.file };
}

export function resolveHost(name: string, s: HostSettings, groups: string[], baseDir: string, where: string): HostSpec {
  const what = `host ${name}`;
  const transport = s.transport ?? (s.exec ? 'exec' : name === 'localhost' && !s.address ? 'local' : 'ssh');
  if (transport === 'exec' && !s.exec) throw new ConfigError(`${what}: transport: exec needs "exec: COMMAND" (a command that runs sh on the host, reading stdin)`);
  const user = s.user ?? userInfo().username;
  const identities = s.identity ? [resolveFrom(baseDir, s.identity)] : DEFAULT_IDENTITIES.map(expandHome).filter((p) => existsSync(p));
  if (s.identity && transport === 'ssh' && !existsSync(identities[0]!)) throw new ConfigError(`${what}: identity file ${identities[0]} does not exist (${where})`);
  const agent = s.agent === true || (s.agent === undefined && !s.identity) ? process.env.SSH_AUTH_SOCK : undefined;
  if (s.agent === true && !agent) throw new ConfigError(`${what}: agent: true but SSH_AUTH_SOCK is not set`);
  const ssh: SshAccess = {
    label: 'ssh',
    port: s.port ?? 22,
    user,
    identities,
    passphrase: s.passphrase ? resolveSecret(s.passphrase, `${what} passphrase`, baseDir) : undefined,
    agent,
    ...(s.agent === true ? { agentAsked: true } : {}),
    password: s.password ? resolveSecret(s.password, `${what} password`, baseDir) : undefined,
  };
  const fallbacks = (s.fallback ?? []).map((f, i) => resolveFallback(ssh, f, i, baseDir, what));
  return {
    name,
    address: s.address ?? name,
    transport,
    exec: s.exec,
    groups,
    ssh,
    fallbacks,
    // Console credentials alone (say, in defaults) give no console: a host needs its own tcp or command.
    console: s.console && (s.console.tcp || s.console.command) ? resolveConsole(s.console, user, what, baseDir) : undefined,
    knownHosts: resolveFrom(baseDir, s.known_hosts ?? '~/.ssh/known_hosts'),
    hostKeyPolicy: s.host_key_policy ?? 'strict',
    become: s.become === 'sudo' ? 'sudo' : undefined,
    connectTimeoutMs: (s.connect_timeout ?? 10) * 1000,
    commandTimeoutMs: (s.command_timeout ?? 120) * 1000,
    maxOutputBytes: (s.max_output ?? DEFAULT_MAX_OUTPUT_MIB) * 1024 * 1024,
    vars: s.vars ?? {},
  };
}

function resolveFallback(primary: SshAccess, f: FallbackSettings, index: number, baseDir: string, what: string): SshAccess {
  const parts = [f.port !== undefined && `port ${f.port}`, f.user && `user ${f.user}`, f.password && 'password', f.jump && `via ${f.jump.address}`].filter(Boolean);
  return {
    label: `fallback ${index + 1} (${parts.join(', ') || 'as primary'})`,
    port: f.port ?? primary.port,
    user: f.user ?? primary.user,
    identities: f.identity ? [resolveFrom(baseDir, f.identity)] : primary.identities,
    passphrase: primary.passphrase,
    agent: primary.agent,
    password: f.password ? resolveSecret(f.password, `${what} fallback ${index + 1} password`, baseDir) : undefined,
    jump: f.jump
      ? {
          address: f.jump.address,
          port: f.jump.port ?? 22,
          user: f.jump.user ?? primary.user,
          identities: f.jump.identity ? [resolveFrom(baseDir, f.jump.identity)] : primary.identities,
          password: f.jump.password ? resolveSecret(f.jump.password, `${what} jump password`, baseDir) : undefined,
        }
      : undefined,
  };
}

function resolveConsole(c: ConsoleSettings, user: string, what: string, baseDir: string): ConsoleSpec {
  if (c.tcp && c.command) throw new ConfigError(`${what}: console takes one of "tcp: HOST:PORT" or "command: ...", not both`);
  let tcp: ConsoleSpec['tcp'];
  if (c.tcp) {
    const at = c.tcp.lastIndexOf(':');
    tcp = { host: c.tcp.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(c.tcp.slice(at + 1)) };
  }
  return {
    tcp,
    command: c.command,
    pty: c.pty ?? false,
    user: c.user ?? user,
    password: c.password ? consolePassword(c.password, what, baseDir) : undefined,
    promptTimeoutMs: (c.prompt_timeout ?? 15) * 1000,
  };
}

/** The console types its password at the prompt and presses Enter: a password with a line break would type a command. */
function consolePassword(ref: NonNullable<ConsoleSettings['password']>, what: string, baseDir: string): string {
  const password = resolveSecret(ref, `${what} console password`, baseDir);
  const control = controlCharIn(password);
  if (control) throw new ConfigError(`${what}: the console password has ${control}; the console types it at the prompt and presses Enter, so it must be one line without control characters (its value is not shown)`);
  return password;
}

function deepMerge<T>(base: T, over: T): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
