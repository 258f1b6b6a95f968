// Ansible inventories as Ansible reads them: INI, YAML and dynamic-inventory executables, into one model of groups
// (hosts, children, vars) and hosts (vars), then into fleetfix's hosts with Ansible's variable precedence and its
// connection variables mapped onto fleetfix's settings.
import { spawnSync } from 'node:child_process';
import { basename, resolve } from 'node:path';
import { ConfigError, type SourcePosition } from './errors.js';
import { expandHostRange, literalValue, shlexSplit, splitHostPort, TextError } from './ansible-text.js';
import { YamlSource, type ValuePath } from './yaml-source.js';
import { controlCharIn } from './fields.js';

/** Where a value was set: a position in a file, or (for a script's output) words that say where. */
export type Where = SourcePosition | string;

export interface AnsibleGroup {
  name: string;
  /** Hosts listed directly in the group, in file order. */
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
  varWhere: Map<string, Where>;
  where: Where;
}

export interface AnsibleHost {
  name: string;
  vars: Record<string, unknown>;
  varWhere: Map<string, Where>;
  where: Where;
}

/** One inventory source, parsed: groups and hosts in the order they first appear. */
export interface AnsibleData {
  file: string;
  groups: Map<string, AnsibleGroup>;
  hosts: Map<string, AnsibleHost>;
}

/** Room for big fleets; a range like web[0:99999999] is refused rather than expanded. */
export const MAX_ANSIBLE_HOSTS = 100_000;

export function configError(where: Where, message: string): ConfigError {
  return typeof where === 'string' ? new ConfigError(`${where}: ${message}`) : new ConfigError(message, where);
}

class Builder {
  readonly data: AnsibleData;
  constructor(file: string) {
    this.data = { file, groups: new Map(), hosts: new Map() };
  }

  group(name: string, where: Where): AnsibleGroup {
    let g = this.data.groups.get(name);
    if (!g) {
      const problem = groupNameProblem(name);
      if (problem) throw configError(where, problem);
      g = { name, hosts: [], children: [], vars: {}, varWhere: new Map(), where };
      this.data.groups.set(name, g);
    }
    return g;
  }

  host(name: string, where: Where): AnsibleHost {
    let h = this.data.hosts.get(name);
    if (!h) {
      const problem = hostNameProblem(name);
      if (problem) throw configError(where, `host ${JSON.stringify(name)}: ${problem}`);
      if (this.data.hosts.size >= MAX_ANSIBLE_HOSTS) throw configError(where, `more than ${MAX_ANSIBLE_HOSTS} hosts`);
      h = { name, vars: {}, varWhere: new Map(), where };
      this.data.hosts.set(name, h);
    }
    return h;
  }

  addHost(group: AnsibleGroup, name: string, where: Where): AnsibleHost {
    const h = this.host(name, where);
    if (!group.hosts.includes(name)) group.hosts.push(name);
    return h;
  }

  addChild(parent: AnsibleGroup, child: AnsibleGroup, where: Where): void {
    if (child.name === 'all') throw configError(where, `group "all" cannot be a child of "${parent.name}"`);
    if (parent.name === child.name || this.descendants(child).has(parent.name)) throw configError(where, `group "${child.name}" under "${parent.name}" makes a loop of groups`);
    if (!parent.children.includes(child.name)) parent.children.push(child.name);
  }

  descendants(g: AnsibleGroup, seen = new Set<string>()): Set<string> {
    for (const c of g.children) {
      if (seen.has(c)) continue;
      seen.add(c);
      const child = this.data.groups.get(c);
      if (child) this.descendants(child, seen);
    }
    return seen;
  }
}

/** Group names as fleetfix's --limit can name them: letters, digits, "_", "-", "." (Ansible warns of more than "_"). */
function groupNameProblem(name: string): string | undefined {
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) && name.length <= 255) return undefined;
  return `group name ${JSON.stringify(name)}: expected letters, digits, "_", "-" and "." (not "-" or "." first)`;
}

const LABEL = String.raw`[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?`;
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

/**
 * An Ansible host's name: a DNS name (labels of letters, digits, "_" and "-") or an IPv4 or IPv6 address, as Ansible
 * names hosts; undefined when `text` is one. A name that is also the host's address is checked as one (address.ts).
 */
function hostNameProblem(text: string): string | undefined {
  const control = controlCharIn(text);
  if (control) return `found ${control}; expected a host name or address`;
  if (text.length > 253) return `expected a host name or address of at most 253 characters, got ${text.length}`;
  if (HOSTNAME.test(text) || IPV4.test(text) || (IPV6.test(text) && isIPv6(text))) return undefined;
  return 'expected a host name (letters, digits, "-", "_", dots between labels) or an IPv4 or IPv6 address';
}

function isIPv6(text: string): boolean {
  try {
    return new URL(`http://[${text}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- INI

/** Ansible's INI inventory: [group], [group:children], [group:vars]; host lines `name[:port] key=value ...`. */
export function parseAnsibleIni(file: string, text: string): AnsibleData {
  const b = new Builder(file);
  b.group('all', { file, line: 1, col: 1 });
  b.group('ungrouped', { file, line: 1, col: 1 });
  let group = b.data.groups.get('ungrouped')!;
  let state: 'hosts' | 'children' | 'vars' = 'hosts';
  const pending = new Map<string, { where: Where; state: 'vars' | 'children'; parents: string[] }>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    const at = (offset = 0): SourcePosition => ({ file, line: lineNo, col: indent + offset + 1 });
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const control = controlCharIn(line.replace(/\t/g, ' '));
    if (control) throw configError(at(), `found ${control}; an inventory line has no control characters`);
    const section = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/.exec(line);
    if (section) {
      const name = section[1]!;
      const kind = section[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'children' && kind !== 'vars') throw configError(at(), `section [${name}:${kind}] has unknown type "${kind}" (expected [${name}], [${name}:children] or [${name}:vars])`);
      state = kind;
      if (!b.data.groups.has(name) && kind === 'vars' && !pending.has(name)) pending.set(name, { where: at(), state: 'vars', parents: [] });
      group = b.group(name, at(1));
      const waiting = pending.get(name);
      if (waiting && kind !== 'vars') {
        for (const p of waiting.parents) b.addChild(b.data.groups.get(p)!, group, waiting.where);
        pending.delete(name);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) throw configError(at(), `invalid section ${JSON.stringify(line)}: expected [group], [group:children] or [group:vars], with no spaces`);
    if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) throw configError(at(), `expected key=value in [${group.name}:vars], got ${JSON.stringify(line)}`);
      const key = line.slice(0, eq).trim();
      checkVarName(key, at());
      group.vars[key] = literalValue(line.slice(eq + 1).trim());
      group.varWhere.set(key, at(line.indexOf(line.slice(eq + 1).trim(), eq + 1)));
      return;
    }
    if (state === 'children') {
      const m = /^([^:\]\s]+)\s*(?:#.*)?$/.exec(line);
      if (!m) throw configError(at(), `expected a group name in [${group.name}:children], got ${JSON.stringify(line)}`);
      const child = m[1]!;
      const existing = b.data.groups.get(child);
      if (existing && !pending.has(child)) b.addChild(group, existing, at());
      else {
        const p = pending.get(child) ?? { where: at(), state: 'children' as const, parents: [] };
        p.parents.push(group.name);
        if (p.state === 'vars') p.state = 'children';
        pending.set(child, p);
        if (!existing) b.group(child, at());
      }
      return;
    }
    let words;
    try {
      words = shlexSplit(line);
    } catch (err) {
      if (err instanceof TextError) throw configError(at(err.at), `cannot read host line: ${err.message}`);
      throw err;
    }
    if (words.length === 0) return;
    const [first, ...rest] = words;
    const pattern = first!.text;
    if (pattern === '---') throw configError(at(), 'a host named "---": this looks like a YAML file; name it .yml or .yaml');
    if (pattern.endsWith(':')) throw configError(at(), `host ${JSON.stringify(pattern)} ends in ":", which is reserved for a port (host:PORT)`);
    const vars: [string, unknown, Where][] = rest.map((w) => {
      const eq = w.text.indexOf('=');
      if (eq <= 0) throw configError(at(w.start), `expected key=value after the host name, got ${JSON.stringify(w.text)}`);
      const key = w.text.slice(0, eq);
      checkVarName(key, at(w.start));
      return [key, literalValue(w.text.slice(eq + 1)), at(w.start + eq + 1)];
    });
    for (const name of expandPattern(pattern, at())) {
      const h = b.addHost(group, name.host, at());
      if (name.port !== undefined) setVar(h, 'ansible_port', name.port, at());
      for (const [k, v, w] of vars) setVar(h, k, v, w);
    }
  });
  for (const [name, p] of pending) {
    if (p.state === 'vars') throw configError(p.where, `section [${name}:vars] is for a group that is defined nowhere: ${name}`);
    throw configError(p.where, `section [${p.parents.at(-1)}:children] names a group that is defined nowhere: ${name}`);
  }
  return b.data;
}

function checkVarName(key: string, where: Where): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw configError(where, `variable name ${JSON.stringify(key)}: expected letters, digits and "_", not a digit first`);
}

function setVar(target: { vars: Record<string, unknown>; varWhere: Map<string, Where> }, key: string, value: unknown, where: Where): void {
  target.vars[key] = value;
  target.varWhere.set(key, where);
}

function expandPattern(pattern: string, where: Where): { host: string; port?: number }[] {
  const { host, port } = splitHostPort(pattern);
  if (port !== undefined && (port < 1 || port > 65535)) throw configError(where, `host ${JSON.stringify(pattern)}: port ${port} is not from 1 to 65535`);
  try {
    return expandHostRange(host, MAX_ANSIBLE_HOSTS).map((h) => ({ host: h, port }));
  } catch (err) {
    if (err instanceof TextError) throw configError(where, `host ${JSON.stringify(pattern)}: ${err.message}`);
    throw err;
  }
}

// ---------------------------------------------------------------- YAML

/** Ansible's YAML inventory: top-level groups, each with optional hosts:, children: and vars:. */
export function parseAnsibleYaml(source: YamlSource, value: unknown): AnsibleData {
  const b = new Builder(source.file);
  const root = { file: source.file, line: 1, col: 1 };
  b.group('all', root);
  b.group('ungrouped', root);
  if (!isMapping(value)) throw configError(source.position([]), 'an Ansible YAML inventory is a mapping of groups (all:, with hosts:, children:, vars:)');
  if ('plugin' in value) throw configError(source.position(['plugin'], { key: true }), 'an inventory plugin configuration ("plugin:"): fleetfix reads inventories, not plugins; run `ansible-inventory -i FILE --list` and pass fleetfix a script that prints it');
  const parseGroup = (name: string, body: unknown, path: ValuePath): AnsibleGroup => {
    const where = source.position(path, { key: true });
    const group = b.group(name, where);
    if (body === null || body === undefined) return group;
    if (!isMapping(body)) throw configError(source.position(path), `group "${name}": expected a mapping with hosts:, children: or vars:`);
    for (const [key, section] of Object.entries(body)) {
      const at = [...path, key];
      if (key !== 'hosts' && key !== 'children' && key !== 'vars') throw configError(source.position(at, { key: true }), `group "${name}": unknown key "${key}" (expected hosts:, children: or vars:)`);
      if (section === null || section === undefined) continue;
      const entries = typeof section === 'string' ? { [section]: null } : section;
      if (!isMapping(entries)) throw configError(source.position(at), `group "${name}": ${key}: expected a mapping, got ${Array.isArray(section) ? 'a list' : typeof section}`);
      if (key === 'vars') {
        for (const [k, v] of Object.entries(entries)) {
          checkVarName(k, source.position([...at, k], { key: true }));
          setVar(group, k, v, source.position([...at, k]));
        }
      } else if (key === 'children') {
        for (const [child, childBody] of Object.entries(entries)) b.addChild(group, parseGroup(child, childBody, [...at, child]), source.position([...at, child], { key: true }));
      } else {
        for (const [pattern, hostVars] of Object.entries(entries)) {
          const hostAt = [...at, pattern];
          const where = source.position(hostAt, { key: true });
          if (hostVars !== null && hostVars !== undefined && !isMapping(hostVars)) throw configError(source.position(hostAt), `host "${pattern}": expected a mapping of variables`);
          for (const name of expandPattern(pattern, where)) {
            const h = b.addHost(group, name.host, where);
            if (name.port !== undefined) setVar(h, 'ansible_port', name.port, where);
            for (const [k, v] of Object.entries(hostVars ?? {})) {
              checkVarName(k, source.position([...hostAt, k], { key: true }));
              setVar(h, k, v, source.position([...hostAt, k]));
            }
          }
        }
      }
    }
    return group;
  };
  for (const [name, body] of Object.entries(value)) parseGroup(name, body, [name]);
  return b.data;
}

// ---------------------------------------------------------------- dynamic inventory

export interface ScriptLimits {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * Run a dynamic-inventory executable as Ansible does: `FILE --list`, then `FILE --host NAME` for each host when the
 * JSON has no `_meta.hostvars`. Each run is bounded in time and output; a failure names the script and what it said.
 */
export function runInventoryScript(file: string, limits: ScriptLimits): AnsibleData {
  const what = `${basename(file)} --list`;
  const list = runScript(file, ['--list'], limits);
  const data = parseJson(list, what);
  if (!isMapping(data)) throw new ConfigError(`inventory script ${file} --list: expected a JSON object of groups, got ${Array.isArray(data) ? 'a list' : typeof data}`);
  const b = new Builder(file);
  b.group('all', `${what}: group all`);
  b.group('ungrouped', `${what}: group ungrouped`);
  let hostvars: Record<string, unknown> | undefined;
  for (const [name, body] of Object.entries(data)) {
    const where = `${file} --list: group ${JSON.stringify(name)}`;
    if (name === '_meta') {
      if (isMapping(body) && 'hostvars' in body) {
        if (!isMapping(body.hostvars)) throw new ConfigError(`${file} --list: _meta.hostvars: expected an object of hosts`);
        hostvars = body.hostvars;
      }
      continue;
    }
    const group = b.group(name, where);
    const g: Record<string, unknown> = !isMapping(body) ? { hosts: body } : !('hosts' in body || 'vars' in body || 'children' in body) ? { hosts: [name], vars: body } : body;
    if (g.hosts !== undefined) {
      if (!Array.isArray(g.hosts)) throw new ConfigError(`${where}: hosts: expected a list of host names`);
      for (const h of g.hosts) {
        if (typeof h !== 'string') throw new ConfigError(`${where}: hosts: expected host names (strings), got ${JSON.stringify(h)}`);
        b.addHost(group, h, where);
      }
    }
    if (g.vars !== undefined) {
      if (!isMapping(g.vars)) throw new ConfigError(`${where}: vars: expected an object`);
      for (const [k, v] of Object.entries(g.vars)) {
        checkVarName(k, `${where} vars`);
        setVar(group, k, v, `${where} vars.${k}`);
      }
    }
    if (g.children !== undefined) {
      if (!Array.isArray(g.children)) throw new ConfigError(`${where}: children: expected a list of group names`);
      for (const c of g.children) {
        if (typeof c !== 'string') throw new ConfigError(`${where}: children: expected group names (strings), got ${JSON.stringify(c)}`);
        b.addChild(group, b.group(c, where), where);
      }
    }
  }
  for (const host of b.data.hosts.values()) {
    let vars: unknown;
    let where: string;
    if (hostvars) {
      vars = hostvars[host.name] ?? {};
      where = `${file} --list: _meta.hostvars.${host.name}`;
    } else {
      where = `${file} --host ${host.name}`;
      const out = runScript(file, ['--host', host.name], limits);
      vars = out.trim() === '' ? {} : parseJson(out, `${basename(file)} --host ${host.name}`);
    }
    if (!isMapping(vars)) throw new ConfigError(`${where}: expected an object of variables`);
    for (const [k, v] of Object.entries(vars)) {
      checkVarName(k, where);
      setVar(host, k, v, `${where}.${k}`);
    }
  }
  return b.data;
}

function runScript(file: string, args: string[], limits: ScriptLimits): string {
  const cmd = `${file} ${args.join(' ')}`;
  const r = spawnSync(resolve(file), args, { encoding: 'utf8', timeout: limits.timeoutMs, maxBuffer: limits.maxBytes, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  const said = tail(r.stderr ?? '');
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') throw new ConfigError(`inventory script ${cmd}: still running after ${limits.timeoutMs / 1000} s; stopped it${said}`);
    if (code === 'ENOBUFS') throw new ConfigError(`inventory script ${cmd}: printed more than ${limits.maxBytes} bytes; stopped it`);
    throw new ConfigError(`inventory script ${cmd}: cannot run it: ${code ?? r.error.message}`);
  }
  if (r.signal) throw new ConfigError(`inventory script ${cmd}: killed by ${r.signal}${said}`);
  if (r.status !== 0) throw new ConfigError(`inventory script ${cmd}: exited with ${r.status}${said}`);
  return r.stdout;
}

/** The last lines a script wrote to stderr, for its error; at most 500 characters. */
function tail(stderr: string): string {
  const text = stderr.trim();
  if (!text) return '';
  return `: ${text.length > 500 ? `...${text.slice(-500)}` : text}`.replace(/\n/g, ' | ');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    let where = '';
    if (m) {
      const before = text.slice(0, Number(m[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
    }
    throw new ConfigError(`inventory script ${what}: its output is not JSON${where}: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// ---------------------------------------------------------------- groups and variables

export interface ResolvedAnsibleHost {
  host: AnsibleHost;
  /** Every group the host is in, ancestors included, "all" and "ungrouped" left out (Ansible's group_names). */
  groups: string[];
  vars: Record<string, unknown>;
  varWhere: Map<string, Where>;
}

/**
 * Each host with its groups and its variables merged as Ansible merges them: "all" first, then groups by depth
 * (parents before children), groups of one depth by name, then the host's own.
 */
export function resolveAnsible(data: AnsibleData): { hosts: ResolvedAnsibleHost[]; groupHosts: Map<string, string[]> } {
  const all = data.groups.get('all')!;
  const ungrouped = data.groups.get('ungrouped')!;
  const parents = new Map<string, string[]>();
  for (const g of data.groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  // Groups nobody claims are children of all, as Ansible makes them.
  for (const g of data.groups.values()) if (g.name !== 'all' && !parents.has(g.name)) all.children.push(g.name), parents.set(g.name, ['all']);
  const depth = new Map<string, number>([['all', 0]]);
  const depthOf = (name: string, trail: string[] = []): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const d = 1 + Math.max(...(parents.get(name) ?? ['all']).map((p) => (trail.includes(p) ? 0 : depthOf(p, [...trail, name]))));
    depth.set(name, d);
    return d;
  };
  // Hosts in no group but all are in ungrouped.
  const direct = new Map<string, string[]>();
  for (const g of data.groups.values()) for (const h of g.hosts) direct.set(h, [...(direct.get(h) ?? []), g.name]);
  for (const h of data.hosts.keys()) {
    const in_ = (direct.get(h) ?? []).filter((g) => g !== 'all');
    if (in_.length === 0) {
      if (!ungrouped.hosts.includes(h)) ungrouped.hosts.push(h);
      direct.set(h, [...(direct.get(h) ?? []), 'ungrouped']);
    }
  }
  const ancestors = (g: string, out = new Set<string>()): Set<string> => {
    for (const p of parents.get(g) ?? []) if (!out.has(p)) out.add(p), ancestors(p, out);
    return out;
  };
  // A group's hosts: its own, then its children's, then theirs, level by level, each once (Ansible's Group.get_hosts,
  // which walks the descendants breadth first).
  const groupHosts = new Map<string, string[]>();
  const hostsOf = (g: string): string[] => {
    const cached = groupHosts.get(g);
    if (cached) return cached;
    const order = [g];
    const visited = new Set(order);
    for (let i = 0; i < order.length; i++) {
      for (const c of data.groups.get(order[i]!)!.children) if (!visited.has(c)) visited.add(c), order.push(c);
    }
    const seen = new Set(order.flatMap((name) => data.groups.get(name)!.hosts));
    const list = g === 'all' ? [...data.hosts.keys()] : [...seen];
    groupHosts.set(g, list);
    return list;
  };
  for (const g of data.groups.keys()) hostsOf(g);
  const hosts = [...data.hosts.values()].map((host) => {
    const member = new Set<string>();
    for (const g of direct.get(host.name) ?? []) {
      member.add(g);
      for (const a of ancestors(g)) member.add(a);
    }
    member.add('all');
    const ordered = [...member].sort((a, b) => depthOf(a) - depthOf(b) || (a < b ? -1 : a > b ? 1 : 0));
    const vars: Record<string, unknown> = {};
    const varWhere = new Map<string, Where>();
    for (const layer of [...ordered.map((g) => data.groups.get(g)!), host]) {
      for (const [k, v] of Object.entries(layer.vars)) {
        vars[k] = v;
        varWhere.set(k, layer.varWhere.get(k)!);
      }
    }
    return { host, groups: ordered.filter((g) => g !== 'all' && g !== 'ungrouped'), vars, varWhere };
  });
  return { hosts, groupHosts };
}
