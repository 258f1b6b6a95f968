// Firewall rulesets (iptables-save, nft -j, ufw status numbered) and the question that matters: does a new TCP connection to the port get through?

export type Match = 'yes' | 'no' | 'maybe';

/** Where a new connection to the port is stopped, and where an ACCEPT must go to let it through. */
export type Verdict =
  | { blocked: false; by: string }
  | { blocked: true; by: string; chain: string; /** insert before this rule (0-based index or nft handle); undefined: append */ before?: number };

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

function portIn(port: number, spec: string): boolean {
  return spec.split(',').some((part) => {
    const [a, b] = part.split(/[:-]/);
    const lo = a === '' || a === undefined ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    return port >= lo && port <= hi;
  });
}

const combine = (results: Match[]): Match => (results.includes('no') ? 'no' : results.includes('maybe') ? 'maybe' : 'yes');
const negate = (m: Match, neg: boolean): Match => (!neg || m === 'maybe' ? m : m === 'yes' ? 'no' : 'yes');

/**
 * Does an iptables rule match a new TCP connection to `port` from an unknown, non-loopback source?
 * Criteria fleetfix cannot decide (a source range, rate limits, sets) make it "maybe".
 */
export function iptRuleMatches(tokens: string[], port: number): Match {
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

function iptTarget(tokens: string[]): { target?: string; goto: boolean } {
  const j = tokens.findIndex((t) => t === '-j' || t === '--jump' || t === '-g' || t === '--goto');
  return j < 0 ? { goto: false } : { target: tokens[j + 1], goto: tokens[j] === '-g' || tokens[j] === '--goto' };
}

/** What one rule (with the chains it jumps to) does to the connection; undefined: it goes on. */
type Outcome = 'accept' | 'return' | { drop: string } | undefined;

/** Follow a new connection to `port` through the INPUT chain, into user chains and back. */
export function evaluateIptables(table: IptTable, port: number): Verdict {
  const input = table.chains.get('INPUT') ?? [];
  for (let k = 0; k < input.length; k++) {
    const outcome = iptRuleOutcome(table, input[k]!, port, 0);
    if (outcome === 'accept') return { blocked: false, by: `INPUT rule ${k + 1}: ${input[k]!.text}` };
    if (outcome === 'return') break;
    if (outcome) return { blocked: true, by: `INPUT rule ${k + 1}: ${outcome.drop}`, chain: 'INPUT', before: k };
  }
  const policy = table.policies.get('INPUT') ?? 'ACCEPT';
  return policy === 'ACCEPT' ? { blocked: false, by: 'INPUT policy ACCEPT' } : { blocked: true, by: `INPUT policy ${policy}`, chain: 'INPUT' };
}

function iptRuleOutcome(table: IptTable, rule: IptRule, port: number, depth: number): Outcome {
  const match = iptRuleMatches(rule.tokens, port);
  if (match !== 'yes' || depth > 16) return undefined;
  const { target, goto } = iptTarget(rule.tokens);
  if (target === 'ACCEPT') return 'accept';
  if (target === 'DROP' || target === 'REJECT') return { drop: rule.text };
  if (target === 'RETURN') return 'return';
  const sub = target ? table.chains.get(target) : undefined;
  if (!sub) return undefined;
  for (const r of sub) {
    const outcome = iptRuleOutcome(table, r, port, depth + 1);
    if (outcome === 'return') break;
    if (outcome === 'accept') return outcome;
    if (outcome) return { drop: `-j ${target} -> ${target}: ${outcome.drop}` };
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

// ---------------------------------------------------------------- nftables

interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  policy?: string;
  prio?: number;
  rules: { handle: number; expr: unknown[] }[];
}

export interface NftRuleset {
  chains: NftChain[];
}

/** `nft -j list ruleset`; tables in `skipTables` ("family name") belong to iptables-nft and are judged through it. */
export function parseNftJson(text: string, skipTables: string[] = []): NftRuleset {
  const doc = JSON.parse(text) as { nftables?: Record<string, Record<string, unknown>>[] };
  const chains = new Map<string, NftChain>();
  const key = (f: unknown, t: unknown, c: unknown) => `${String(f)} ${String(t)} ${String(c)}`;
  for (const item of doc.nftables ?? []) {
    const c = item.chain;
    if (c && !skipTables.includes(`${String(c.family)} ${String(c.table)}`)) {
      chains.set(key(c.family, c.table, c.name), { family: String(c.family), table: String(c.table), name: String(c.name), hook: c.hook as string | undefined, policy: c.policy as string | undefined, prio: c.prio as number | undefined, rules: [] });
    }
    const r = item.rule;
    if (r) chains.get(key(r.family, r.table, r.chain))?.rules.push({ handle: Number(r.handle), expr: (r.expr as unknown[]) ?? [] });
  }
  return { chains: [...chains.values()] };
}

function nftMatch(expr: Record<string, unknown>, port: number): Match | 'verdict' {
  const m = expr.match as { op: string; left: Record<string, Record<string, string>>; right: unknown } | undefined;
  if (!m) return 'verdict';
  const neg = m.op === '!=';
  const left = m.left;
  const values = (r: unknown): unknown[] => (Array.isArray(r) ? r : r && typeof r === 'object' && 'set' in r ? ((r as { set: unknown[] }).set ?? []) : [r]);
  const inSet = (r: unknown, test: (v: unknown) => boolean) => values(r).some(test);
  if (left.payload?.field === 'dport' && (left.payload.protocol === 'tcp' || left.payload.protocol === 'th')) {
    const hit = inSet(m.right, (v) => {
      if (v && typeof v === 'object' && 'range' in v) {
        const [lo, hi] = (v as { range: [number, number] }).range;
        return port >= lo && port <= hi;
      }
      return Number(v) === port;
    });
    return negate(hit ? 'yes' : 'no', neg);
  }
  if (left.payload?.protocol && left.payload.field === 'dport') return 'no';
  if (left.meta?.key === 'l4proto' || left.payload?.field === 'protocol' || left.payload?.field === 'nexthdr') return negate(inSet(m.right, (v) => v === 'tcp' || v === 6) ? 'yes' : 'no', neg);
  if (left.meta?.key === 'iifname' || left.meta?.key === 'iif') return negate(inSet(m.right, (v) => v === 'lo') ? 'no' : 'yes', neg);
  if (left.ct?.key === 'state') return negate(inSet(m.right, (v) => v === 'new') ? 'yes' : 'no', neg);
  if (left.payload?.field === 'saddr' || left.payload?.field === 'daddr') return 'maybe';
  return 'maybe';
}

function nftRuleOutcome(ruleset: NftRuleset, chain: NftChain, rule: NftChain['rules'][number], port: number, depth: number): Outcome {
  const match = combine(rule.expr.map((e) => nftMatch(e as Record<string, unknown>, port)).filter((p): p is Match => p !== 'verdict'));
  if (match !== 'yes' || depth > 16) return undefined;
  for (const e of rule.expr as Record<string, Record<string, string> | null>[]) {
    if ('accept' in e) return 'accept';
    if ('drop' in e || 'reject' in e) return { drop: `${chain.name} handle ${rule.handle}` };
    if ('return' in e) return 'return';
    const jump = e.jump ?? e.goto;
    if (!jump) continue;
    const sub = ruleset.chains.find((x) => x.family === chain.family && x.table === chain.table && x.name === jump.target);
    for (const r of sub?.rules ?? []) {
      const outcome = nftRuleOutcome(ruleset, sub!, r, port, depth + 1);
      if (outcome === 'return') break;
      if (outcome === 'accept') return outcome;
      if (outcome) return { drop: `jump ${jump.target} -> ${outcome.drop}` };
    }
    if ('goto' in e) return 'return';
  }
  return undefined;
}

/** Every base chain on the input hook must let the connection through (an accept ends only its own chain). */
export function evaluateNft(ruleset: NftRuleset, port: number, family: 'ip' | 'ip6'): Verdict {
  const bases = ruleset.chains.filter((c) => c.hook === 'input' && (c.family === 'inet' || c.family === family)).sort((a, b) => (a.prio ?? 0) - (b.prio ?? 0));
  const passed: string[] = [];
  for (const base of bases) {
    const where = `${base.family} ${base.table} ${base.name}`;
    let accepted: number | undefined;
    for (const rule of base.rules) {
      const outcome = nftRuleOutcome(ruleset, base, rule, port, 0);
      if (outcome === 'accept') accepted = rule.handle;
      if (outcome === 'accept' || outcome === 'return') break;
      if (outcome) return { blocked: true, by: `nft ${base.family} ${base.table} ${outcome.drop}`, chain: where, before: rule.handle };
    }
    if (accepted === undefined && base.policy === 'drop') return { blocked: true, by: `nft ${where} policy drop`, chain: where };
    passed.push(accepted === undefined ? `${where} policy ${base.policy ?? 'accept'}` : `${where} handle ${accepted} accepts`);
  }
  return { blocked: false, by: passed.length ? `nft ${passed.join(', ')}` : 'no nftables input chain' };
}

/** `nft -a list ruleset` text with an accept rule inserted before `handle` in `chain` ("family table name"), or at its end. */
export function nftTextAfter(text: string, chain: string, handle: number | undefined, rule: string): string {
  const [family, table, name] = chain.split(' ');
  const lines = text.split('\n');
  let inTable = false;
  let inChain = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l.startsWith('table ')) inTable = l.startsWith(`table ${family} ${table} `);
    if (inTable && l.startsWith('chain ')) inChain = l.startsWith(`chain ${name} `);
    if (!inChain) continue;
    if ((handle !== undefined && l.endsWith(`# handle ${handle}`)) || (handle === undefined && l === '}')) {
      lines.splice(i, 0, `\t\t${rule}`);
      break;
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- ufw

/** One rule of `ufw status numbered`, judged for a new inbound TCP connection to the port. */
export interface UfwRule {
  num: number;
  v6: boolean;
  action: 'ALLOW' | 'DENY' | 'REJECT' | 'LIMIT';
  /** 'iface': only connections that arrive on one interface; 'maybe': some (a source or destination address, a source port, an unknown profile) */
  match: Match | 'iface';
  /** Exactly `PORT/tcp` from Anywhere, inbound: the rule ufw keeps once per family; adding it with another action replaces it, inserting it is skipped. */
  plain: boolean;
  text: string;
}

/** Application profiles (`[Name]`, then `ports=22/tcp` or `80,443/tcp|53`) as name -> port specs. */
export function parseUfwApps(lines: string[]): Map<string, string[]> {
  const apps = new Map<string, string[]>();
  let name: string | undefined;
  for (const line of lines) {
    const section = /^\[(.+)\]\s*$/.exec(line);
    if (section) name = section[1];
    else if (name !== undefined) apps.set(name, line.replace(/^ports=/, '').trim().split('|'));
  }
  return apps;
}

const ADDRESS = /^(\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*)(\/\d+)?$/i;
/** `22`, `22/tcp`, `80,443/tcp`, `6000:6007/tcp`: does it take tcp `port`? */
const portSpecTakes = (spec: string, port: number) => {
  const m = /^([\d,:]+)(?:\/(\w+))?$/.exec(spec);
  return !!m && (m[2] === undefined || m[2] === 'tcp') && portIn(port, m[1]!);
};

/** The rule lines of `ufw status numbered` ("[ 2] 22/tcp (v6) on eth0  ALLOW IN  Anywhere (v6)  (log) # note"). */
export function parseUfwNumbered(lines: string[], port: number, apps: Map<string, string[]>): UfwRule[] {
  const rules: UfwRule[] = [];
  for (const line of lines) {
    const m = /^\[\s*(\d+)\]\s+(.+?)\s+(ALLOW|DENY|REJECT|LIMIT)\s+(IN|OUT|FWD)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, num, to, action, direction] = m as unknown as [string, string, string, UfwRule['action'], string];
    const from = m[5]!.replace(/\s+#\s.*$/, '').replace(/\s+\((?:log|log-all|out)(?:, \w+)*\)$/, '');
    const v6 = /\(v6\)/.test(to + from) || `${to} ${from}`.split(/\s+/).some((w) => w.includes(':') && ADDRESS.test(w));
    const iface = /\s+on\s+(\S+)$/.exec(to)?.[1];
    const words = to.replace(/\s+on\s+\S+$/, '').replace(/\s*\(v6\)/g, '').trim().split(/\s+/);
    const address = ADDRESS.test(words[0]!) ? words.shift() : undefined;
    const what = words.join(' ');
    // `what`: '' or Anywhere[/proto] (every port), a port spec, or an application profile's name.
    const anyPort = /^(?:Anywhere)?(?:\/(\w+))?$/.exec(what);
    const profile = apps.get(what);
    const ports: Match = anyPort
      ? (anyPort[1] ?? 'tcp') === 'tcp' ? 'yes' : 'no'
      : /^[\d,:]+(\/\w+)?$/.test(what) || profile
        ? (profile ?? [what]).some((spec) => portSpecTakes(spec, port)) ? 'yes' : 'no'
        : 'maybe';
    const source = from.replace(/\s*\(v6\)/g, '');
    const match: UfwRule['match'] =
      direction !== 'IN' || ports === 'no' || iface === 'lo' ? 'no' : ports === 'maybe' || address || !/^Anywhere(\/\w+)?$/.test(source) ? 'maybe' : iface ? 'iface' : 'yes';
    const plain = match === 'yes' && what === `${port}/tcp` && source === 'Anywhere';
    rules.push({ num: Number(num), v6, action, match, plain, text: line.replace(/^\[\s*\d+\]\s+/, '').replace(/\s+/g, ' ').trim() });
  }
  return rules;
}

/**
 * ufw's first match wins among one family's rules, then the default input policy. An ALLOW or LIMIT (a rate limit
 * lets connections through) counts only for every source and address on every interface; a DENY or REJECT blocks
 * unless it is bound to a source or destination address, as with iptables. `before`: the blocking rule's number;
 * `rule`: the rule that lets it through.
 */
export function evaluateUfw(rules: UfwRule[], v6: boolean, policy: string): Verdict & { rule?: UfwRule } {
  for (const r of rules.filter((x) => x.v6 === v6)) {
    const by = `[${r.num}] ${r.text}`;
    if ((r.action === 'ALLOW' || r.action === 'LIMIT') && r.match === 'yes') return { blocked: false, by, rule: r };
    if ((r.action === 'DENY' || r.action === 'REJECT') && (r.match === 'yes' || r.match === 'iface')) return { blocked: true, by, chain: v6 ? 'IPv6' : 'IPv4', before: r.num };
  }
  return policy === 'accept' ? { blocked: false, by: 'default policy accept' } : { blocked: true, by: `default policy ${policy}`, chain: v6 ? 'IPv6' : 'IPv4' };
}
