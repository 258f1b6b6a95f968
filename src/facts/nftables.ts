// nftables rulesets (nft -j list ruleset): does a new TCP connection to the port get through every input base chain?
import { inPrefix, sameAddress, toBits } from './address.js';
import { combine, negate, type Blocker, type Match, type Outcome, type Source, type Verdict } from './firewall.js';

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
  /** Each named set's elements, by "family table name". */
  sets: Map<string, unknown[]>;
}

/** `nft -j list ruleset`; tables in `skipTables` ("family name") belong to iptables-nft and are judged through it. */
export function parseNftJson(text: string, skipTables: string[] = []): NftRuleset {
  const doc = JSON.parse(text) as { nftables?: Record<string, Record<string, unknown>>[] };
  const chains = new Map<string, NftChain>();
  const sets = new Map<string, unknown[]>();
  const key = (f: unknown, t: unknown, c: unknown) => `${String(f)} ${String(t)} ${String(c)}`;
  for (const item of doc.nftables ?? []) {
    const set = item.set;
    if (set && !skipTables.includes(`${String(set.family)} ${String(set.table)}`)) sets.set(key(set.family, set.table, set.name), Array.isArray(set.elem) ? set.elem : []);
    const c = item.chain;
    if (c && !skipTables.includes(`${String(c.family)} ${String(c.table)}`)) {
      chains.set(key(c.family, c.table, c.name), { family: String(c.family), table: String(c.table), name: String(c.name), hook: c.hook as string | undefined, policy: c.policy as string | undefined, prio: c.prio as number | undefined, rules: [] });
    }
    const r = item.rule;
    if (r) chains.get(key(r.family, r.table, r.chain))?.rules.push({ handle: Number(r.handle), expr: (r.expr as unknown[]) ?? [] });
  }
  return { chains: [...chains.values()], sets };
}

/** Where a rule's source match took in a known source, for its Blocker. */
interface SourceContext {
  source: Source;
  sets: Map<string, unknown[]>;
  /** "family table" of the rule's chain: where its named sets live. */
  table: string;
  took: { source?: Blocker['source'] };
}

function nftMatch(expr: Record<string, unknown>, port: number, known?: SourceContext): Match | 'verdict' {
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
  if (left.payload?.field === 'saddr' && known) return negate(sourceMatch(left.payload.protocol, m.right, known), neg);
  return 'maybe';
}

/** `ip saddr` / `ip6 saddr` against a known source: an address, a prefix, a range, an anonymous or a named set. */
function sourceMatch(protocol: string | undefined, right: unknown, known: SourceContext): Match {
  const v6 = (toBits(known.source.addr)?.length ?? 0) === 128;
  if ((protocol === 'ip' && v6) || (protocol === 'ip6' && !v6)) return 'no';
  if (typeof right === 'string' && right.startsWith('@')) {
    const elems = known.sets.get(`${known.table} ${right.slice(1)}`);
    if (!elems) return 'maybe';
    const hit = elems.map((e) => elementHas(e, known.source.addr)).find((h) => h !== undefined);
    if (hit !== undefined) known.took.source = { set: right.slice(1), exact: hit };
    return hit === undefined ? 'no' : 'yes';
  }
  const values = right && typeof right === 'object' && 'set' in right ? ((right as { set: unknown[] }).set ?? []) : [right];
  const hit = values.map((e) => elementHas(e, known.source.addr)).find((h) => h !== undefined);
  if (hit !== undefined) known.took.source = { exact: hit };
  return hit === undefined ? 'no' : 'yes';
}

/** Whether a set element or match value holds `addr`: undefined if not, else whether it is that one address alone. */
function elementHas(e: unknown, addr: string): boolean | undefined {
  if (typeof e === 'string') return sameAddress(e, addr) ? true : undefined;
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { elem?: { val?: unknown }; prefix?: { addr: string; len: number }; range?: [string, string] };
  if (o.elem) return elementHas(o.elem.val, addr);
  if (o.prefix) return inPrefix(addr, o.prefix.addr, o.prefix.len) ? o.prefix.len === toBits(addr)?.length : undefined;
  if (o.range) {
    const [a, lo, hi] = [addr, ...o.range].map((x) => toBits(x));
    if (!a || !lo || !hi || a.length !== lo.length) return undefined;
    return a >= lo && a <= hi ? lo === hi : undefined;
  }
  return undefined;
}

function nftRuleOutcome(ruleset: NftRuleset, chain: NftChain, rule: NftChain['rules'][number], port: number, depth: number, source?: Source): Outcome {
  const known = source && { source, sets: ruleset.sets, table: `${chain.family} ${chain.table}`, took: {} };
  const match = combine(rule.expr.map((e) => nftMatch(e as Record<string, unknown>, port, known)).filter((p): p is Match => p !== 'verdict'));
  if (match !== 'yes' || depth > 16) return undefined;
  for (const e of rule.expr as Record<string, Record<string, string> | null>[]) {
    if ('accept' in e) return 'accept';
    if ('drop' in e || 'reject' in e) {
      const at: Blocker = { table: `${chain.family} ${chain.table}`, chain: chain.name, rule: `handle ${rule.handle}`, ...known?.took };
      return source?.passes?.(at) ? undefined : { drop: `${chain.name} handle ${rule.handle}`, at };
    }
    if ('return' in e) return 'return';
    const jump = e.jump ?? e.goto;
    if (!jump) continue;
    const sub = ruleset.chains.find((x) => x.family === chain.family && x.table === chain.table && x.name === jump.target);
    for (const r of sub?.rules ?? []) {
      const outcome = nftRuleOutcome(ruleset, sub!, r, port, depth + 1, source);
      if (outcome === 'return') break;
      if (outcome === 'accept') return outcome;
      if (outcome) return { drop: `jump ${jump.target} -> ${outcome.drop}`, at: outcome.at };
    }
    if ('goto' in e) return 'return';
  }
  return undefined;
}

/** Every base chain on the input hook must let the connection (from `source`, or from anywhere) through (an accept ends only its own chain). */
export function evaluateNft(ruleset: NftRuleset, port: number, family: 'ip' | 'ip6', source?: Source): Verdict {
  const bases = ruleset.chains.filter((c) => c.hook === 'input' && (c.family === 'inet' || c.family === family)).sort((a, b) => (a.prio ?? 0) - (b.prio ?? 0));
  const passed: string[] = [];
  for (const base of bases) {
    const where = `${base.family} ${base.table} ${base.name}`;
    let accepted: number | undefined;
    for (const rule of base.rules) {
      const outcome = nftRuleOutcome(ruleset, base, rule, port, 0, source);
      if (outcome === 'accept') accepted = rule.handle;
      if (outcome === 'accept' || outcome === 'return') break;
      if (outcome) return { blocked: true, by: `nft ${base.family} ${base.table} ${outcome.drop}`, chain: where, before: rule.handle, at: outcome.at };
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
