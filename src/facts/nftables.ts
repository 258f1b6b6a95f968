// nftables rulesets (nft -j list ruleset): does a new TCP connection to the port get through every input base chain?
import { combine, negate, type Match, type Outcome, type Verdict } from './firewall.js';

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
