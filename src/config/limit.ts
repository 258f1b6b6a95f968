// --limit: Ansible's host patterns (inventory/manager.py): terms split on "," (or on ":" outside brackets when there is
// no comma), each a host or group name, an fnmatch glob (* ? [abc] [!abc]), or ~regex, with an optional [i] or
// [start:end] subscript; "&" intersects, "!" excludes, and the result keeps the inventory's order.
import picomatch from 'picomatch';
import { ConfigError } from './errors.js';
import type { HostSpec, Inventory } from './inventory.js';

const SUPPORTED = 'patterns: names, globs (* ? [abc] [!a-c]), ~regex, group[0] or group[0:2], joined by "," or ":", with &TERM to intersect and !TERM to exclude';

/** Ansible's split_host_pattern: commas if any; else one term if it is an address (IPv6, host:port); else ":" outside [...]. */
export function splitPattern(pattern: string): string[] {
  let terms: string[];
  if (pattern.includes(',')) terms = pattern.split(',');
  else if (/^\[[^\]]+\]:\d+$/.test(pattern) || isIPv6Like(pattern)) terms = [pattern];
  else terms = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return terms.map((t) => t.trim()).filter(Boolean);
}

function isIPv6Like(text: string): boolean {
  if (!/^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$/.test(text) || text.includes(':::')) return false;
  return text.includes('::') || text.split(':').length === 8;
}

/** fnmatch as Python has it: case-sensitive, * and ? and [...] (with [!...]); no braces, no extglobs. */
const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nobrace: true, noextglob: true, noglobstar: true, nonegate: true, posix: true };

function matcher(expr: string): (name: string) => boolean {
  if (expr.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(expr.slice(1), 'u');
    } catch (err) {
      throw new ConfigError(`--limit: "${expr}" is not a valid regular expression: ${(err as Error).message}`);
    }
    // Python's re.match: anchored at the start only.
    return (name) => re.exec(name)?.index === 0;
  }
  if (!/[*?[]/.test(expr)) return (name) => name === expr;
  const isMatch = picomatch(expr, GLOB_OPTIONS);
  return (name) => isMatch(name);
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

/** Ansible's words for the subscript [x-y], which it reads as [x:y] with a warning: the form was removed. */
const REMOVED_RANGE = 'use [x:y] inclusive subscripts instead of [x-y], which has been removed';

/** The removed range subscript in `term` ("web[1-2]"), said as Ansible says it; undefined when it has none. */
function removedRange(term: string): string | undefined {
  const m = term.startsWith('~') ? null : SUBSCRIPT.exec(term);
  if (m?.[4] !== '-') return undefined;
  return `"${term}": ${REMOVED_RANGE}; it is read as "${m[1]}[${m[3]}:${m[5]}]", hosts ${m[3]} to ${m[5] || 'the last'} of "${m[1]}" (counted from 0), not as a glob`;
}

/** The hosts `term` (without its & or !) names, in inventory order; throws when it names nothing. */
function matchTerm(inventory: Inventory, term: string, byName: Map<string, HostSpec>): HostSpec[] {
  if (byName.has(term)) return [byName.get(term)!];
  let expr = term;
  let subscript: [number, number | undefined] | undefined;
  const m = term.startsWith('~') ? null : SUBSCRIPT.exec(term);
  if (m) {
    expr = m[1]!;
    subscript = m[2] !== undefined ? [Number(m[2]), undefined] : [Number(m[3]), m[5] ? Number(m[5]) : -1];
  }
  let found: HostSpec[];
  if (expr === 'all' || expr === '*') found = inventory.hosts;
  else {
    const test = matcher(expr);
    const names = new Set<string>();
    const groups = [...inventory.groups.keys()].filter((g) => g !== 'all' && test(g));
    for (const g of groups) for (const h of inventory.groups.get(g)!) names.add(h);
    // A glob or regex may match hosts as well as groups; a plain word matches hosts only when no group has its name.
    if (groups.length === 0 || expr.startsWith('~') || /[.?*[]/.test(expr)) for (const h of inventory.hosts) if (test(h.name)) names.add(h.name);
    found = [...names].map((n) => byName.get(n)).filter((h): h is HostSpec => h !== undefined);
    // Subscripts count in the order the group lists its hosts; otherwise the order does not matter here.
  }
  if (found.length === 0) throw new ConfigError(`--limit: no host or group matches "${term}" (${SUPPORTED})`);
  if (subscript) {
    const [start, end] = subscript;
    const picked = end === undefined ? [found.at(start)] : found.slice(start, (end === -1 ? found.length - 1 : end) + 1);
    const hosts = picked.filter((h): h is HostSpec => h !== undefined);
    if (hosts.length === 0) throw new ConfigError(`--limit: "${term}" is past the end: "${expr}" matches ${found.length} host${found.length === 1 ? '' : 's'} (counted from 0)`);
    return hosts;
  }
  return found;
}

/**
 * The hosts `pattern` selects, in inventory order. A term that matches nothing is an error; `warn` hears of a term
 * that works but is written in a removed form (as Ansible warns of it).
 */
export function limitHosts(inventory: Inventory, pattern: string | undefined, warn: (message: string) => void = () => {}): HostSpec[] {
  if (!pattern) return inventory.hosts;
  const terms = splitPattern(pattern);
  if (terms.length === 0) throw new ConfigError(`--limit "${pattern}": no pattern in it (${SUPPORTED})`);
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  const plain = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const ands = terms.filter((t) => t.startsWith('&')).map((t) => t.slice(1));
  const nots = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  if ([...ands, ...nots].some((t) => t === '')) throw new ConfigError(`--limit "${pattern}": "&" and "!" need a pattern after them (${SUPPORTED})`);
  const unmatched: string[] = [];
  const tryTerm = (t: string) => {
    try {
      return new Set(matchTerm(inventory, t, byName));
    } catch (err) {
      if (err instanceof ConfigError && err.message.startsWith('--limit: no host or group matches')) {
        unmatched.push(t);
        return new Set<HostSpec>();
      }
      throw err;
    }
  };
  const included = plain.length === 0 ? new Set(inventory.hosts) : new Set(plain.flatMap((t) => [...tryTerm(t)]));
  const intersections = ands.map(tryTerm);
  const exclusions = nots.map(tryTerm);
  const ranges = unmatched.map(removedRange).filter((r) => r !== undefined);
  if (unmatched.length) throw new ConfigError(`--limit: no host or group matches ${unmatched.map((t) => `"${t}"`).join(', ')} (${SUPPORTED})${ranges.map((r) => `; ${r}`).join('')}`);
  for (const t of [...plain, ...ands, ...nots]) {
    const range = removedRange(t);
    if (range) warn(`--limit ${range}`);
  }
  const selected = inventory.hosts.filter((h) => included.has(h) && intersections.every((s) => s.has(h)) && !exclusions.some((s) => s.has(h)));
  if (selected.length === 0) throw new ConfigError(`--limit "${pattern}" leaves no hosts`);
  return selected;
}
