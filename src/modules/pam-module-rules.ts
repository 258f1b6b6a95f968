// What pam_listfile, pam_succeed_if and pam_time (Linux-PAM 1.5) decide for one login over sshd: whether the module
// fails for the user ("maybe" where that cannot be known here), and why, with the file and line that decide it.
import { wildcard } from '../facts/sshd-match.js';
import type { PamLine } from '../facts/pam-stack.js';
import type { Tri } from './pam-access-rules.js';
import type { PamAccount } from './pam-facts.js';

/**
 * The login as these modules see it (PAM_SERVICE is sshd, PAM_TTY "ssh", PAM_RUSER unset): the account, every group
 * the user is in, and `from`, PAM_RHOST as an address (undefined where it is unknown or may be a name).
 */
export type ModuleLogin = Pick<PamAccount, 'user' | 'uid' | 'gid' | 'home' | 'shell' | 'groups'> & { from?: string };

/** The files a module may read: text where read; otherwise why not. */
export interface ModuleFiles {
  text(path: string): string | undefined;
  /** Absent, unreadable here (special, too large, not gathered), or unsafe for pam_listfile. */
  state(path: string): 'absent' | 'unknown' | 'unsafe' | 'read';
}

/** Whether the module fails for the login, and why. */
export interface ModuleVerdict {
  fails: Tri;
  why: string;
}

const SERVICE = 'sshd';
const TTY = 'ssh';

/** pam_listfile: is the item (user, group, shell, rhost, tty, ruser) listed in `file=`, and what `sense=` makes of it. */
export function listfileVerdict(line: PamLine, login: ModuleLogin, files: ModuleFiles): ModuleVerdict {
  let onerr = 'fail';
  const opts = new Map<string, string>();
  for (const arg of line.args) {
    const eq = arg.indexOf('=');
    if (arg === 'quiet' || eq < 0) continue;
    const [key, value] = [arg.slice(0, eq), arg.slice(eq + 1)];
    if (key === 'onerr' && !['succeed', 'fail'].includes(value)) return { fails: 'yes', why: `onerr=${value} is not succeed or fail` };
    if (key === 'onerr') onerr = value;
    else if (['sense', 'file', 'item', 'apply'].includes(key)) opts.set(key, value);
    else return onError(onerr, `its option ${key} is unknown`);
  }
  const [item, sense, file, apply] = ['item', 'sense', 'file', 'apply'].map((k) => opts.get(k));
  if (!item || !['user', 'tty', 'rhost', 'ruser', 'group', 'shell'].includes(item)) return onError(onerr, 'item= is missing or unknown');
  if (!file) return onError(onerr, 'file= is missing');
  if (sense !== 'allow' && sense !== 'deny') return onError(onerr, 'sense= is missing or unknown');
  if (apply !== undefined && !['user', 'ruser', 'group'].includes(item)) {
    if (apply === '' || apply === '@') return onError(onerr, 'apply= names no one');
    const applies = apply.startsWith('@') ? login.groups.includes(apply.slice(1)) : apply === login.user;
    if (!applies) return { fails: 'no', why: `apply=${apply} leaves ${login.user} out` };
  }
  const value = { user: login.user, tty: TTY, rhost: login.from, ruser: '', group: login.user, shell: login.shell }[item];
  if (value === '') return { fails: sense === 'allow' ? 'yes' : 'no', why: `sshd sets no ${item}, so nothing is listed and sense=${sense} ${sense === 'allow' ? 'refuses' : 'lets in'}` };
  const state = files.state(file);
  if (state === 'absent') return onError(onerr, `${file} does not exist`);
  if (state === 'unsafe') return { fails: 'yes', why: `${file} is a link, not a regular file, or writable by others, which pam_listfile refuses for everyone` };
  const text = files.text(file);
  if (value === undefined || text === undefined) return { fails: 'maybe', why: `whether ${file} lists the ${item} is unknown here` };
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const at = lines.findIndex((l) => l !== '' && (item === 'group' ? login.groups.includes(l) : (item === 'tty' ? l.replace(/^\/dev\//, '') : l) === value));
  const what = item === 'group' ? `a group of ${login.user}` : `${item} ${value}`;
  if (sense === 'deny') return at >= 0 ? { fails: 'yes', why: `${file} line ${at + 1} lists ${what} ("${lines[at]}"), and sense=deny` } : { fails: 'no', why: `${file} does not list ${what}` };
  return at >= 0 ? { fails: 'no', why: `${file} line ${at + 1} lists ${what}` } : { fails: 'yes', why: `${file} does not list ${what}, and sense=allow` };
}

function onError(onerr: string, why: string): ModuleVerdict {
  return { fails: onerr === 'fail' ? 'yes' : 'no', why: `${why}, so pam_listfile answers onerr=${onerr}` };
}

const SUCCEED_IF_OPTIONS = new Set(['debug', 'use_uid', 'quiet', 'quiet_fail', 'quiet_success', 'audit']);

/** pam_succeed_if: every condition (`field op value`) must hold, or the module fails. */
export function succeedIfVerdict(line: PamLine, login: ModuleLogin): ModuleVerdict {
  if (line.args.includes('use_uid')) return { fails: 'maybe', why: 'use_uid judges the process calling PAM, not the user' };
  const terms = line.args.filter((a) => !SUCCEED_IF_OPTIONS.has(a));
  if (terms.length % 3 !== 0) return { fails: 'yes', why: `its conditions (${terms.join(' ')}) are incomplete` };
  const conditions = Array.from({ length: terms.length / 3 }, (_, i) => terms.slice(i * 3, i * 3 + 3) as [string, string, string]);
  const judged = conditions.map((c) => ({ c: c.join(' '), holds: condition(c, login) }));
  const failing = judged.find((j) => j.holds === 'no') ?? judged.find((j) => j.holds === 'maybe');
  if (!failing) return { fails: 'no', why: 'every condition holds' };
  return { fails: failing.holds === 'no' ? 'yes' : 'maybe', why: `the condition "${failing.c}" ${failing.holds === 'no' ? 'does not hold' : 'cannot be judged here'} for ${login.user}` };
}

function condition([field, op, right]: [string, string, string], login: ModuleLogin): Tri {
  const left = attribute(field.toLowerCase(), login);
  if (left === undefined) return 'maybe';
  const holds = (b: boolean): Tri => (b ? 'yes' : 'no');
  const numbers = [left, right].map((s) => (/^[+-]?\d+$/.test(s) ? Number(s) : NaN));
  const [l, r] = numbers as [number, number];
  const numeric: Record<string, () => boolean> = { '<': () => l < r, lt: () => l < r, '<=': () => l <= r, le: () => l <= r, '>': () => l > r, gt: () => l > r, '>=': () => l >= r, ge: () => l >= r, eq: () => l === r, ne: () => l !== r };
  const o = op.toLowerCase();
  if (o in numeric) return numbers.some(Number.isNaN) ? 'maybe' : holds(numeric[o]!());
  const list = right.split(':');
  const inGroups = () => list.some((g) => login.groups.includes(g));
  const strings: Record<string, () => boolean> = {
    '=': () => left === right,
    '!=': () => left !== right,
    '=~': () => wildcard(left, right),
    glob: () => wildcard(left, right),
    '!~': () => !wildcard(left, right),
    noglob: () => !wildcard(left, right),
    in: () => list.includes(left),
    notin: () => !list.includes(left),
    ingroup: inGroups,
    notingroup: () => !inGroups(),
  };
  return o in strings ? holds(strings[o]!()) : 'maybe';
}

function attribute(field: string, login: ModuleLogin): string | undefined {
  if (['login', 'name', 'user'].includes(field)) return login.user;
  if (['home', 'dir', 'homedir'].includes(field)) return login.home;
  return { uid: login.uid, gid: login.gid, shell: login.shell, service: SERVICE, rhost: login.from, tty: TTY }[field];
}

/** pam_time: the rules of time.conf whose services, ttys and users take in this login; each limits it to its times. */
export function timeRules(text: string, login: ModuleLogin): { line: number; text: string; certain: boolean }[] {
  const out: { line: number; text: string; certain: boolean }[] = [];
  let start = 0;
  let rule = '';
  text.split('\n').forEach((raw, i) => {
    if (!rule) start = i + 1;
    const content = raw.replace(/#.*/, '');
    rule += content.replace(/\\$/, '');
    if (content.endsWith('\\')) return;
    const fields = rule.replace(/\s+/g, '').split(';');
    const written = rule.trim();
    rule = '';
    if (fields.length !== 4) return;
    const [services, ttys, users] = fields as [string, string, string];
    const netgroup = users.startsWith('@');
    if (logicField(services, SERVICE) && logicField(ttys, TTY) && (netgroup || logicField(users, login.user))) out.push({ line: start, text: written, certain: !netgroup });
  });
  return out;
}

/** logic_field(): tokens joined by & and |, read left to right, each negated by an odd number of !; is_same() for each. */
function logicField(field: string, value: string): boolean {
  let result = false;
  let and = false;
  for (const m of field.matchAll(/(!*)([^&|!]+)|([&|])/g)) {
    if (m[3]) {
      and = m[3] === '&';
      continue;
    }
    const hit = starMatch(value, m[2]!) !== (m[1]!.length % 2 === 1);
    result = and ? result && hit : result || hit;
  }
  return result;
}

/** is_same(): the whole value, where a `*` stands for any text between what precedes and what follows it. */
function starMatch(value: string, pattern: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return value === pattern;
  const [head, tail] = [pattern.slice(0, star), pattern.slice(star + 1)];
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

/** The shadow fields pam_unix ages a password by (days; -1 where a field is empty), and today on the host. */
export interface Aging {
  today: number;
  lastChange: number;
  maxDays: number;
  inactiveDays: number;
}

/**
 * pam_unix's account check on the password's age (check_shadow_expiry, the account's own expiry left to sshd_user):
 * `new_authtok_reqd` (a change is forced) or `authtok_expired` (too old, and inactive too long), with why; none otherwise.
 */
export function unixAging(a: Aging, user: string): { code: string; why: string } | undefined {
  if (a.today < 0) return undefined;
  if (a.lastChange === 0) return { code: 'new_authtok_reqd', why: `the password of ${user} must be changed first (/etc/shadow's last-change field is 0: chage -d 0 or passwd -e)` };
  if (a.today < a.lastChange) return undefined;
  const age = a.today - a.lastChange;
  if (a.maxDays !== -1 && a.inactiveDays !== -1 && age > a.maxDays && age > a.inactiveDays && age > a.maxDays + a.inactiveDays) {
    return { code: 'authtok_expired', why: `the password of ${user} is ${age} days old, past its maximum of ${a.maxDays} days and the ${a.inactiveDays} inactive days after it (/etc/shadow's 3rd, 5th and 7th fields)` };
  }
  if (a.maxDays !== -1 && age > a.maxDays) return { code: 'new_authtok_reqd', why: `the password of ${user} is ${age} days old, past its maximum of ${a.maxDays} days (/etc/shadow's 3rd and 5th fields)` };
  return undefined;
}
