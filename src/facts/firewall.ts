// Firewall verdicts shared by every backend, and iptables rulesets (iptables-save): does a new TCP connection to the port get through?
import { inCidr, inMasked, toBits } from './address.js';

export type Match = 'yes' | 'no' | 'maybe';

/** Where a new connection to the port is stopped, and where an ACCEPT must go to let it through. */
export type Verdict =
  | { blocked: false; by: string }
  | { blocked: true; by: string; chain: string; /** insert before this rule (0-based index or nft handle); undefined: append */ before?: number; /** the rule that stops it (none: a policy) */ at?: Blocker };

/** The rule that stops a connection: its table and chain, the rule itself, and how its source criterion took the connection in. */
export interface Blocker {
  /** `filter` for iptables, `FAMILY NAME` for nftables. */
  table: string;
  chain: string;
  /** As iptables-save prints it after `-A CHAIN`, or `handle N` for nftables. */
  rule: string;
  /** Its source criterion that matched a known source: through a set (an ipset, or an nftables set) or an address, exactly the source's (`exact`) or a wider block. */
  source?: { set?: string; exact: boolean };
}

/**
 * The source of the connection, where a check knows it (the firewall check does not: it judges a connection from
 * anywhere, and a rule that names sources is `maybe` to it).
 */
export interface Source {
  addr: string;
  /** The ipsets the address is in (true) or not (false), as the host tested it; any other set is unknown. */
  ipsets?: ReadonlyMap<string, boolean>;
  /** Rules that let the connection go on whatever they say: another check's to judge, or already planned away. */
  passes?(at: Blocker): boolean;
}

/** What one rule (with the chains it jumps to) does to the connection; undefined: it goes on. */
export type Outcome = 'accept' | 'return' | { drop: string; at: Blocker } | undefined;

/** Is `port` in a comma-separated list of ports and ranges (`22,6000:6007`)? */
export function portIn(port: number, spec: string): boolean {
  return spec.split(',').some((part) => {
    const [a, b] = part.split(/[:-]/);
    const lo = a === '' || a === undefined ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    return port >= lo && port <= hi;
  });
}

export const combine = (results: Match[]): Match => (results.includes('no') ? 'no' : results.includes('maybe') ? 'maybe' : 'yes');
export const negate = (m: Match, neg: boolean): Match => (!neg || m === 'maybe' ? m : m === 'yes' ? 'no' : 'yes');

// ---------------------------------------------------------------- iptables

export interface IptRule {
  chain: string;
  text: string;
  tokens: string[];
}

export interface IptTable {
  policies: Map<string, string>;
  chains: Map<string, IptRule[]>;
}

/** The filter table of `iptables-save` output (counters and comments ignored). */
export function parseIptablesSave(text: string): IptTable {
  const table: IptTable = { policies: new Map(), chains: new Map() };
  let inFilter = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) inFilter = line === '*filter';
    if (!inFilter || !line || line.startsWith('#')) continue;
    const chainDecl = /^:(\S+)\s+(\S+)/.exec(line);
    if (chainDecl) {
      table.chains.set(chainDecl[1]!, table.chains.get(chainDecl[1]!) ?? []);
      if (chainDecl[2] !== '-') table.policies.set(chainDecl[1]!, chainDecl[2]!);
      continue;
    }
    const rule = /^-A\s+(\S+)\s+(.*)$/.exec(line);
    if (rule) {
      const list = table.chains.get(rule[1]!) ?? [];
      list.push({ chain: rule[1]!, text: rule[2]!, tokens: tokenize(rule[2]!) });
      table.chains.set(rule[1]!, list);
    }
  }
  return table;
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(m[1] ?? m[2]!);
  return out;
}

/**
 * Does an iptables rule match a new TCP connection to `port` from a non-loopback source, `source` or any? Criteria
 * fleetfix cannot decide (a source range or set for an unknown source, rate limits) make it "maybe". Where a source
 * criterion matched `source`, `took` says how.
 */
export function iptRuleMatches(tokens: string[], port: number, source?: Source, took?: { source?: Blocker['source'] }): Match {
  const results: Match[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const neg = tokens[i] === '!';
    if (neg) i++;
    const opt = tokens[i]!;
    const arg = tokens[i + 1] ?? '';
    const take = (m: Match) => {
      results.push(negate(m, neg));
      i++;
    };
    switch (opt) {
      case '-p':
      case '--protocol':
        take(arg === 'tcp' || arg === '6' || arg === 'all' || arg === '0' ? 'yes' : 'no');
        break;
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports':
      case '--ports':
        take(portIn(port, arg) ? 'yes' : 'no');
        break;
      case '-i':
      case '--in-interface':
        take(arg === 'lo' ? 'no' : 'yes');
        break;
      case '-s':
      case '--source':
        if (!source) take(/^(0\.0\.0\.0|::)\/0$/.test(arg) ? 'yes' : 'maybe');
        else {
          const hit = arg.split(',').find((net) => inNetwork(source.addr, net));
          if (hit && !neg && took) took.source = { exact: isWholeAddress(hit) };
          take(hit ? 'yes' : 'no');
        }
        break;
      case '--match-set': {
        const [set, flags] = [arg, tokens[i + 2] ?? ''];
        const member = source && flags === 'src' ? source.ipsets?.get(set) : undefined;
        if (member && !neg && took) took.source = { set, exact: true };
        take(member === undefined ? 'maybe' : member ? 'yes' : 'no');
        i++;
        break;
      }
      case '-d':
      case '--destination':
        take(/^(0\.0\.0\.0|::)\/0$/.test(arg) ? 'yes' : 'maybe');
        break;
      case '--ctstate':
      case '--state':
        take(arg.split(',').includes('NEW') ? 'yes' : 'no');
        break;
      case '--syn':
        results.push(negate('yes', neg));
        break;
      case '-m':
      case '--match':
      case '-j':
      case '--jump':
      case '-g':
      case '--goto':
      case '--comment':
      case '--reject-with':
      case '--log-prefix':
      case '--log-level':
        i++;
        break;
      default:
        if (opt.startsWith('-')) {
          results.push('maybe');
          if (tokens[i + 1] !== undefined && !tokens[i + 1]!.startsWith('-')) i++;
        }
    }
  }
  return combine(results);
}

/** `addr` is in `net` as iptables prints it: an address, `/len`, or an IPv4 `/a.b.c.d` mask. */
function inNetwork(addr: string, net: string): boolean {
  const [base, mask] = net.split('/');
  if (mask !== undefined && mask.includes('.')) return inMasked(addr, base!, mask) === true;
  return inCidr(addr, net);
}

/** A network of one address: `a.b.c.d`, `/32`, `/128`, or the mask of all ones. */
function isWholeAddress(net: string): boolean {
  const [base, mask] = net.split('/');
  const bits = toBits(base!)?.length;
  return mask === undefined || Number(mask) === bits || mask === '255.255.255.255';
}

function iptTarget(tokens: string[]): { target?: string; goto: boolean } {
  const j = tokens.findIndex((t) => t === '-j' || t === '--jump' || t === '-g' || t === '--goto');
  return j < 0 ? { goto: false } : { target: tokens[j + 1], goto: tokens[j] === '-g' || tokens[j] === '--goto' };
}

/** Follow a new connection to `port` (from `source`, or from anywhere) through the INPUT chain, into user chains and back. */
export function evaluateIptables(table: IptTable, port: number, source?: Source): Verdict {
  const input = table.chains.get('INPUT') ?? [];
  for (let k = 0; k < input.length; k++) {
    const outcome = iptRuleOutcome(table, input[k]!, port, 0, source);
    if (outcome === 'accept') return { blocked: false, by: `INPUT rule ${k + 1}: ${input[k]!.text}` };
    if (outcome === 'return') break;
    if (outcome) return { blocked: true, by: `INPUT rule ${k + 1}: ${outcome.drop}`, chain: 'INPUT', before: k, at: outcome.at };
  }
  const policy = table.policies.get('INPUT') ?? 'ACCEPT';
  return policy === 'ACCEPT' ? { blocked: false, by: 'INPUT policy ACCEPT' } : { blocked: true, by: `INPUT policy ${policy}`, chain: 'INPUT' };
}

function iptRuleOutcome(table: IptTable, rule: IptRule, port: number, depth: number, source?: Source): Outcome {
  const took: { source?: Blocker['source'] } = {};
  const match = iptRuleMatches(rule.tokens, port, source, took);
  if (match !== 'yes' || depth > 16) return undefined;
  const { target, goto } = iptTarget(rule.tokens);
  if (target === 'ACCEPT') return 'accept';
  if (target === 'DROP' || target === 'REJECT') {
    const at: Blocker = { table: 'filter', chain: rule.chain, rule: rule.text, ...took };
    return source?.passes?.(at) ? undefined : { drop: rule.text, at };
  }
  if (target === 'RETURN') return 'return';
  const sub = target ? table.chains.get(target) : undefined;
  if (!sub) return undefined;
  for (const r of sub) {
    const outcome = iptRuleOutcome(table, r, port, depth + 1, source);
    if (outcome === 'return') break;
    if (outcome === 'accept') return outcome;
    if (outcome) return { drop: `-j ${target} -> ${target}: ${outcome.drop}`, at: outcome.at };
  }
  return goto ? 'return' : undefined;
}

/** The ACCEPT rule fleetfix inserts, as iptables arguments. */
export function iptAcceptArgs(port: number): string[] {
  return ['-p', 'tcp', '-m', 'tcp', '--dport', String(port), '-m', 'comment', '--comment', 'fleetfix: ssh access', '-j', 'ACCEPT'];
}

/** The ruleset text after the insert, for the diff. */
export function iptablesAfter(text: string, verdict: Verdict & { blocked: true }, port: number): string {
  const rule = `-A INPUT ${iptAcceptArgs(port).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`;
  const lines = text.split('\n');
  let seen = 0;
  let insertAt = -1;
  let lastInput = -1;
  lines.forEach((l, i) => {
    if (!l.startsWith('-A INPUT ')) return;
    if (seen === verdict.before && insertAt < 0) insertAt = i;
    seen++;
    lastInput = i;
  });
  if (insertAt < 0) insertAt = lastInput >= 0 ? lastInput + 1 : lines.findIndex((l) => l === 'COMMIT');
  lines.splice(insertAt < 0 ? lines.length : insertAt, 0, rule);
  return lines.join('\n');
}
