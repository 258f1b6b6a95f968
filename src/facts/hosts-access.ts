// TCP wrappers (hosts_access(5), Debian's libwrap): does /etc/hosts.allow, then /etc/hosts.deny, let a client address reach a daemon?
import { inCidr, inMasked, sameAddress, toBits } from './address.js';
import { wildcard } from './sshd-match.js';

export const HOSTS_ALLOW = '/etc/hosts.allow';
export const HOSTS_DENY = '/etc/hosts.deny';

/** Three-valued: `maybe` where the answer rests on what fleetfix cannot know (DNS, NIS, ident, another file). */
export type Tri = 'yes' | 'no' | 'maybe';

/** One access rule: a logical line (continuations joined), where it stands, and its fields. */
export interface AccessRule {
  file: string;
  /** 0-based index of its first and last physical line. */
  first: number;
  last: number;
  text: string;
  daemons: string;
  clients: string;
  /** The option fields after the client list, as written. */
  options: string[];
  /** What a match does: the file's own verdict, or an `allow` / `deny` option; `twist` replaces the daemon by a command. */
  effect: 'allow' | 'deny' | 'twist';
  /** Options that run something (spawn, twist, a shell command): such a line is not edited. */
  runs?: string;
}

/** Where a line's match could not be decided, and why. */
export interface Unsure {
  rule: AccessRule;
  why: string;
}

export type AccessVerdict =
  | { allowed: true; by?: AccessRule; unsure: Unsure[] }
  | { allowed: false; by: AccessRule; unsure: Unsure[] }
  /** Lines that may or may not match decide it: some would let the client in, some would not. */
  | { allowed: undefined; unsure: Unsure[]; by?: AccessRule };

const LIST_SEPARATORS = /[,\s]+/;
const HARMLESS_OPTIONS = new Set(['severity', 'banners', 'nice', 'umask', 'user', 'setenv', 'keepalive', 'linger', 'rfc931']);

/** The rules of one file, in order: comments and blank lines left out, `\` continuations joined. */
export function parseAccessFile(file: string, text: string): AccessRule[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const rules: AccessRule[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    let joined = lines[i]!.replace(/\r$/, '');
    while (joined.endsWith('\\') && i + 1 < lines.length) joined = joined.slice(0, -1) + lines[++i]!.replace(/\r$/, '');
    const trimmed = joined.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [daemons = '', clients, ...options] = splitFields(trimmed);
    const rule: AccessRule = { file, first, last: i, text: trimmed, daemons: daemons.trim(), clients: (clients ?? '').trim(), options: options.map((o) => o.trim()).filter(Boolean), effect: file === HOSTS_DENY ? 'deny' : 'allow' };
    for (const option of rule.options) {
      const keyword = option.split(/[\s=]/)[0]!.toLowerCase();
      if (keyword === 'allow' || keyword === 'deny') rule.effect = keyword;
      else if (keyword === 'twist') Object.assign(rule, { effect: 'twist', runs: option });
      else if (!HARMLESS_OPTIONS.has(keyword)) rule.runs ??= option;
    }
    rules.push(rule);
  }
  return rules;
}

/** Fields split at `:`, except inside `[...]` (IPv6 addresses) or escaped with `\`. */
function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let bracket = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && line[i + 1] === ':') current += line[++i];
    else if (c === ':' && !bracket) (fields.push(current), (current = ''));
    else {
      if (c === '[') bracket = true;
      if (c === ']') bracket = false;
      current += c;
    }
  }
  fields.push(current);
  return fields;
}

/**
 * Judge a connection from `addr` (undefined: unknown) to `daemon` as hosts_access() does: the first line of
 * hosts.allow that matches grants, else the first of hosts.deny denies, else it is granted. A line whose match fleetfix
 * cannot decide is kept in `unsure`; the verdict is undefined where such a line could change it.
 */
export function evaluateAccess(rules: AccessRule[], daemon: string, addr: string | undefined): AccessVerdict {
  const ordered = [...rules.filter((r) => r.file !== HOSTS_DENY), ...rules.filter((r) => r.file === HOSTS_DENY)];
  const unsure: Unsure[] = [];
  const possible = new Set<boolean>();
  for (const rule of ordered) {
    const why: string[] = [];
    const match = and(listMatch(rule.daemons, (t) => daemonMatch(t, daemon, why)), () => listMatch(rule.clients, (t) => clientMatch(t, addr, why)));
    if (match === 'no') continue;
    if (match === 'maybe') {
      unsure.push({ rule, why: [...new Set(why)].join('; ') });
      possible.add(rule.effect === 'allow');
      continue;
    }
    const allowed = rule.effect === 'allow';
    if (possible.size === 0 || (possible.size === 1 && possible.has(allowed))) return { allowed, by: rule, unsure } as AccessVerdict;
    return { allowed: undefined, by: rule, unsure };
  }
  return possible.has(false) ? { allowed: undefined, unsure } : { allowed: true, unsure };
}

const and = (a: Tri, b: () => Tri): Tri => (a === 'no' ? 'no' : combine(a, b()));
const combine = (a: Tri, b: Tri): Tri => (a === 'no' || b === 'no' ? 'no' : a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes');

/** list_match(): any item up to EXCEPT matches, and the list after EXCEPT (itself with EXCEPTs) does not. */
export function listMatch(list: string, item: (token: string) => Tri): Tri {
  const tokens = list.split(LIST_SEPARATORS).filter(Boolean);
  const except = tokens.findIndex((t) => t === 'EXCEPT');
  const head = except < 0 ? tokens : tokens.slice(0, except);
  const results = head.map(item);
  const matched: Tri = results.includes('yes') ? 'yes' : results.includes('maybe') ? 'maybe' : 'no';
  if (matched === 'no' || except < 0) return matched;
  const excepted = listMatch(tokens.slice(except + 1).join(' '), item);
  return combine(matched, excepted === 'yes' ? 'no' : excepted === 'no' ? 'yes' : 'maybe');
}

/** A daemon pattern: `ALL`, `KNOWN`, the name, a wildcard; `name@host` also names the server's address, which is not judged. */
function daemonMatch(token: string, daemon: string, why: string[]): Tri {
  if (token.toUpperCase() === 'KNOWN') return 'yes';
  const at = token.indexOf('@');
  if (at > 0) {
    if (stringMatch(token.slice(0, at), daemon) === 'no') return 'no';
    why.push(`"${token}" names the address sshd was reached on`);
    return 'maybe';
  }
  return stringMatch(token, daemon);
}

/**
 * A client pattern against the client's address (host_match()): addresses, `a.b.c.` prefixes, net/mask and /len,
 * `[v6]/len`, wildcards, ALL. What rests on the client's host name (a name, `.domain`, KNOWN, LOCAL, PARANOID,
 * UNKNOWN), a NIS netgroup, a user (ident) or a file of patterns is `maybe`, and says why.
 */
export function clientMatch(token: string, addr: string | undefined, why: string[]): Tri {
  const unknown = (reason: string): Tri => (why.push(`"${token}" ${reason}`), 'maybe');
  if (token.toUpperCase() === 'ALL') return 'yes';
  const at = token.indexOf('@');
  if (at > 0) {
    if (token.slice(0, at).toUpperCase() !== 'ALL') return unknown('asks the client for its user name (ident)');
    return clientMatch(token.slice(at + 1), addr, why);
  }
  if (at === 0) return unknown('is a NIS netgroup');
  if (['KNOWN', 'UNKNOWN', 'LOCAL', 'PARANOID'].includes(token.toUpperCase())) return unknown('rests on the host name DNS gives the client');
  if (token.startsWith('/')) return unknown('is a file of patterns');
  if (addr === undefined) return unknown("needs this machine's address, which is unknown here");
  if (token.startsWith('[')) {
    const v6 = /^\[([0-9A-Fa-f:.]+)\](?:\/(\d+))?$/.exec(token);
    if (!v6) return unknown('is not an IPv6 pattern fleetfix reads');
    return (v6[2] === undefined ? sameAddress(addr, v6[1]!) : inCidr(addr, `${v6[1]}/${v6[2]}`)) ? 'yes' : 'no';
  }
  const slash = token.indexOf('/');
  if (slash >= 0) {
    const [net, mask] = [token.slice(0, slash), token.slice(slash + 1)];
    const hit = /^\d+$/.test(mask) ? (toBits(net)?.length === 32 ? inCidr(addr, token) : undefined) : inMasked(addr, net, mask);
    return hit === undefined ? unknown('is not a net/mask fleetfix reads') : hit ? 'yes' : 'no';
  }
  if (stringMatch(token, addr) === 'yes') return 'yes';
  // Only a pattern with more than digits, dots and slashes is also compared with the host name (NOT_INADDR).
  if (/^[0-9./]*$/.test(token) || token.includes(':')) return 'no';
  return unknown('is compared with the host name DNS gives the client');
}

/** string_match(): `.suffix`, ALL, `prefix.`, Debian's `*` and `?` wildcards, else the whole string, case aside. */
function stringMatch(token: string, text: string): Tri {
  const t = token.toLowerCase();
  const s = text.toLowerCase();
  if (t.startsWith('.')) return s.length > t.length && s.endsWith(t) ? 'yes' : 'no';
  if (t === 'all') return 'yes';
  if (t.endsWith('.')) return s.startsWith(t) ? 'yes' : 'no';
  if (/[*?]/.test(t)) return wildcard(s, t) ? 'yes' : 'no';
  return s === t ? 'yes' : 'no';
}
