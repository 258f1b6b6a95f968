// pam_access's rules for one login, as access.conf(5) and Linux-PAM 1.5's login_access() read them: in order, the first
// that matches deciding; what cannot be decided here (netgroups, names to resolve) is "maybe", never a verdict.
import { toBits } from '../facts/address.js';

/** Whether something holds: certainly, certainly not, or not knowable here. */
export type Tri = 'yes' | 'no' | 'maybe';

/** Who logs in, from where, as pam_access sees it. */
export interface AccessLogin {
  user: string;
  uid: string;
  /** Every group the user is in, by name and by id. */
  groups: string[];
  gids: string[];
  /** PAM_RHOST as an address (sshd's, with UseDNS no); undefined where it is unknown or may be a name. */
  from?: string;
  /** This host's name, which `user@host` tokens are matched against. */
  hostname: string;
}

/** The module's arguments that change how rules read. */
export interface AccessOptions {
  fieldsep: string;
  listsep: string;
  nodefgroup: boolean;
}

export const ACCESS_DEFAULTS: AccessOptions = { fieldsep: ':', listsep: ', \t', nodefgroup: false };

/** One rule that matches the login, or may. */
export interface AccessRule {
  file: string;
  line: number;
  text: string;
  allow: boolean;
  match: Tri;
}

/**
 * The rules of `files` (in order) that match the login, or may, up to the first that certainly does (`decided`);
 * without one, pam_access lets the login through. A last line without a newline, which Linux-PAM 1.5 skips and later
 * versions read, may match at most.
 */
export function accessRules(files: { path: string; text: string }[], login: AccessLogin, opts: AccessOptions): { rules: AccessRule[]; decided: boolean } {
  const rules: AccessRule[] = [];
  for (const { path, text } of files) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      const terminated = i < lines.length - 1;
      if (raw.startsWith('#') || (!terminated && raw === '')) continue;
      const line = raw.replace(/\s+$/, '');
      if (!line) continue;
      const perm = strtok(line, 0, opts.fieldsep);
      const users = perm && strtok(line, perm.next, opts.fieldsep);
      const froms = users && users.next < line.length ? line.slice(users.next) : undefined;
      if (!perm || !users || froms === undefined || !/^[+-]/.test(perm.token)) continue;
      const who = listMatch(split(users.token, opts.listsep), (t) => userMatch(t, login, opts));
      const match = and(and(who, who === 'no' ? 'no' : listMatch(split(froms, opts.listsep), (t) => fromMatch(t, login))), terminated ? 'yes' : 'maybe');
      if (match === 'no') continue;
      rules.push({ file: path, line: i + 1, text: line, allow: perm.token.startsWith('+'), match });
      if (match === 'yes') return { rules, decided: true };
    }
  }
  return { rules, decided: false };
}

/** list_match(): the tokens before EXCEPT, any of them; a match then undone where the list after EXCEPT matches. */
function listMatch(tokens: string[], matches: (token: string) => Tri): Tri {
  const except = tokens.findIndex((t) => t.toUpperCase() === 'EXCEPT');
  const head = or((except < 0 ? tokens : tokens.slice(0, except)).map(matches));
  if (head === 'no' || except < 0) return head;
  return and(head, not(listMatch(tokens.slice(except + 1), matches)));
}

/** user_match(): `(group)`, `user@host` (host: this host's name), `@netgroup`, ALL, the name, a group of that name. */
function userMatch(tok: string, login: AccessLogin, opts: AccessOptions): Tri {
  if (tok.startsWith('(') && tok.endsWith(')')) return tok.length >= 3 && login.groups.includes(tok.slice(1, -1)) ? 'yes' : 'no';
  const at = tok.indexOf('@', tok.length - tok.replace(/^@+/, '').length);
  if (at >= 0) {
    const user = userMatch(tok.slice(0, at), login, opts);
    return user === 'no' ? 'no' : and(user, hostMatch(tok.slice(at + 1), login.hostname));
  }
  if (tok.startsWith('@')) return 'maybe';
  if (tok.toUpperCase() === 'ALL' || tok.toLowerCase() === login.user.toLowerCase()) return 'yes';
  if (!opts.nodefgroup && login.groups.includes(tok)) return 'yes';
  // Later Linux-PAM reads a number as a uid or gid.
  if (/^\d+$/.test(tok) && (tok === login.uid || login.gids.includes(tok))) return 'maybe';
  return 'no';
}

/** from_match() for the host part of `user@host`: this host's name, which only names or domains decide here. */
function hostMatch(tok: string, hostname: string): Tri {
  if (tok.startsWith('@')) return 'maybe';
  if (tok.toUpperCase() === 'ALL' || tok.toLowerCase() === hostname.toLowerCase()) return 'yes';
  if (tok.toUpperCase() === 'LOCAL') return 'no';
  if (tok.startsWith('.')) return endsWith(hostname, tok);
  return looksLikeHost(tok) || toBits(tok.split('/')[0]!) || tok.endsWith('.') ? 'maybe' : 'no';
}

/** from_match() for PAM_RHOST: ALL, the address itself, LOCAL (never, over sshd), a domain, a prefix `10.1.`, a network. */
function fromMatch(tok: string, login: AccessLogin): Tri {
  if (tok.toUpperCase() === 'ALL') return 'yes';
  if (tok.toUpperCase() === 'LOCAL') return 'no';
  const from = login.from;
  if (tok.startsWith('@') || from === undefined) return 'maybe';
  if (tok.toLowerCase() === from.toLowerCase()) return 'yes';
  if (tok.startsWith('.')) return endsWith(from, tok);
  if (tok.endsWith('.')) return toBits(from)?.length === 32 && `${from}.`.startsWith(tok) ? 'yes' : 'no';
  return networkMatch(tok, from);
}

/** network_netmask_match(): an address, or address/prefix-length, or address/netmask; a name is resolved by later Linux-PAM. */
function networkMatch(tok: string, from: string): Tri {
  const slash = tok.indexOf('/');
  const net = toBits(slash < 0 ? tok : tok.slice(0, slash));
  if (!net) return slash < 0 && looksLikeHost(tok) ? 'maybe' : 'no';
  let mask: string | undefined;
  if (slash >= 0) {
    const m = tok.slice(slash + 1);
    const asAddress = toBits(m);
    const bits = asAddress ? undefined : cInteger(m);
    if (!asAddress && (bits === undefined || bits < 0 || bits > net.length)) return 'no';
    // A mask of another family is not applied; a length of 0 is no mask at all (number_to_netmask).
    mask = asAddress ? (asAddress.length === net.length ? asAddress : undefined) : bits ? '1'.repeat(bits!).padEnd(net.length, '0') : undefined;
  }
  const addr = toBits(from);
  if (!addr || addr.length !== net.length) return 'no';
  const masked = (bits: string) => (mask ? [...bits].map((b, i) => (mask![i] === '1' ? b : '0')).join('') : bits);
  return masked(addr) === masked(net) ? 'yes' : 'no';
}

/** A token a later Linux-PAM resolves as a host name (not a tty or an X display, which only local logins have). */
function looksLikeHost(tok: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(tok) && /[A-Za-z]/.test(tok) && !/^(tty|pts|console|vc)/i.test(tok);
}

function endsWith(text: string, suffix: string): Tri {
  return text.length > suffix.length && text.toLowerCase().endsWith(suffix.toLowerCase()) ? 'yes' : 'no';
}

/** strtol(text, &end, 0) over the whole text: decimal, 0x hex or 0 octal; undefined where it does not parse entirely. */
function cInteger(text: string): number | undefined {
  const m = /^([+-]?)(?:0x([0-9a-f]+)|(0[0-7]*)|([1-9]\d*))$/i.exec(text);
  if (!m) return undefined;
  const value = m[2] ? parseInt(m[2], 16) : m[3] ? parseInt(m[3], 8) : parseInt(m[4]!, 10);
  return m[1] === '-' ? -value : value;
}

/** strtok(): the next token of `text` from `from` that none of `delims` is in, and where the one after it starts. */
function strtok(text: string, from: number, delims: string): { token: string; next: number } | undefined {
  let start = from;
  while (start < text.length && delims.includes(text[start]!)) start++;
  if (start >= text.length) return undefined;
  let end = start;
  while (end < text.length && !delims.includes(text[end]!)) end++;
  return { token: text.slice(start, end), next: Math.min(end + 1, text.length) };
}

function split(list: string, delims: string): string[] {
  const out: string[] = [];
  for (let t = strtok(list, 0, delims); t; t = strtok(list, t.next, delims)) out.push(t.token);
  return out;
}

function or(values: Tri[]): Tri {
  return values.includes('yes') ? 'yes' : values.includes('maybe') ? 'maybe' : 'no';
}

function and(a: Tri, b: Tri): Tri {
  return a === 'no' || b === 'no' ? 'no' : a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes';
}

function not(a: Tri): Tri {
  return a === 'yes' ? 'no' : a === 'no' ? 'yes' : 'maybe';
}
