// ufw plan: judge each family by ufw's own rules, and fix with ufw allow, insert or reload, guarded by the listing read.
import type { Verdict } from '../facts/firewall.js';
import { recordLines } from '../facts/records.js';
import { evaluateUfw, parseUfwApps, parseUfwNumbered, type UfwRule } from '../facts/ufw.js';
import { unifiedDiff } from '../report/diff.js';
import { shq } from '../util/shell.js';
import type { Change, CheckPlan } from './types.js';
import { COMMENT, sha } from './firewall-change.js';

const UFW_FAMILIES = [
  { v6: false, label: 'IPv4', any: '0.0.0.0/0' },
  { v6: true, label: 'IPv6', any: '::/0' },
] as const;
type UfwFamily = (typeof UFW_FAMILIES)[number];

/** A setting of /etc/default/ufw as ufw reads it: the last line, unquoted, in lower case. */
const ufwSetting = (r: Map<string, string[]>, key: string) => r.get(key)?.slice(-1)[0]?.replace(/["']/g, '').toLowerCase();

export function planUfw(ipv6: boolean | undefined, port: number, r: Map<string, string[]>): CheckPlan {
  const listing = r.get('ufw_rule') ?? [];
  const rules = parseUfwNumbered(listing, port, parseUfwApps(r.get('ufw_app') ?? []));
  const filtered = UFW_FAMILIES.filter((f) => !f.v6 || ufwSetting(r, 'ufw_ipv6') === 'yes');
  const verdicts = filtered.filter((f) => !f.v6 || ipv6 !== false).map((f) => ({ f, v: ufwVerdict(r, rules, f) }));
  const seen = verdicts.map(({ f, v }) => `${f.label}: ${v.by}`);
  if (filtered.length === 1 && ipv6 !== false) seen.push('IPv6: not filtered by ufw (IPV6 is not yes)');
  const blocked = verdicts.filter((x) => x.v.blocked);
  if (blocked.length === 0) return { ok: true, message: `ufw lets tcp dport ${port} through (${seen.join('; ')})`, changes: [] };
  return { ok: false, message: `ufw blocks tcp dport ${port} (${seen.join('; ')})`, changes: [ufwChange(port, listing, rules, filtered, blocked)] };
}

/**
 * The family's verdict by ufw's rules, and by the live rules where a LIMIT decides: `ufw limit` after `ufw enable`
 * leaves the live ufw6-user-limit-accept chain (IPv6) without its ACCEPT until ufw reloads (ufw 0.36), and the LIMIT
 * then lets nothing through. `chain: 'reload'` marks that.
 */
function ufwVerdict(r: Map<string, string[]>, rules: UfwRule[], f: UfwFamily): Verdict {
  const v = evaluateUfw(rules, f.v6, ufwSetting(r, 'ufw_input') ?? 'drop');
  const chain = `${f.v6 ? 'ufw6' : 'ufw'}-user-limit-accept`;
  const live = ['nft', 'legacy'].map((b) => recordLines(r, `ipt_${b}_v${f.v6 ? 6 : 4}`) ?? '');
  if (v.rule?.action !== 'LIMIT' || !live.some((t) => t.includes(`:${chain} `) && !t.includes(`-A ${chain} -j ACCEPT`))) return v;
  return { blocked: true, by: `${v.by}, but the live ${chain} chain accepts nothing until ufw reloads`, chain: 'reload' };
}

/**
 * ufw rules that let the port through ahead of what blocks it, in each family that needs them: appended where the
 * connection falls to the default policy, else inserted at the blocking rule's number. ufw keeps one `PORT/tcp`
 * rule per family: if that rule is the blocker, adding ours replaces it; if it comes later, it is moved ahead (a
 * LIMIT stays a LIMIT). IPv6 first: its numbers follow IPv4's. Guarded by the listing the plan read.
 */
function ufwChange(port: number, listing: string[], rules: UfwRule[], filtered: readonly UfwFamily[], blocked: { f: UfwFamily; v: Verdict }[]): Change {
  const entries = rules.map((x) => ({ v6: x.v6, text: x.text }));
  const ours = (v6: boolean, action = 'ALLOW') => ({ v6, text: `${port}/tcp${v6 ? ' (v6)' : ''} ${action} IN Anywhere${v6 ? ' (v6)' : ''} # ${COMMENT}` });
  const append = (v6: boolean) => entries.splice(v6 ? entries.length : entries.filter((e) => !e.v6).length, 0, ours(v6));
  const commands: string[] = [];
  const says: string[] = [];
  const blocker = (v: Verdict) => (v.blocked ? rules.find((x) => x.num === v.before) : undefined);
  // Falling to the policy, or blocked by ufw's own PORT/tcp rule: `ufw allow` appends ours, or replaces that rule.
  const simple = (v: Verdict) => v.blocked && v.chain !== 'reload' && (v.before === undefined || !!blocker(v)?.plain);
  const everywhere = filtered.every((f) => blocked.some((b) => b.f === f && simple(b.v)));
  const reload = blocked.filter((b) => b.v.blocked && b.v.chain === 'reload');
  if (everywhere) commands.push(`ufw allow ${port}/tcp comment ${shq(COMMENT)}`);
  if (everywhere) says.push(`ufw allow ${port}/tcp`);
  for (const { f, v } of [...blocked].reverse().filter((b) => !reload.includes(b))) {
    const spec = `proto tcp from ${f.any} to ${f.any} port ${port} comment ${shq(COMMENT)}`;
    const at = blocker(v)?.num;
    if (simple(v)) {
      if (at === undefined) append(f.v6);
      else entries[at - 1] = ours(f.v6);
      if (everywhere) continue;
      commands.push(`ufw allow ${spec}`);
      says.push(`ufw ${f.label}: allow ${port}/tcp ${at === undefined ? 'ahead of' : 'in place of'} ${v.by}`);
      continue;
    }
    const later = rules.find((x) => x.v6 === f.v6 && x.plain && x.num > at!);
    const action = later?.action === 'LIMIT' ? 'limit' : 'allow';
    if (later) commands.push(`ufw --force delete ${later.num}`);
    if (later) entries.splice(later.num - 1, 1);
    commands.push(`ufw insert ${at} ${action} ${spec}`);
    entries.splice(at! - 1, 0, ours(f.v6, action.toUpperCase()));
    says.push(`ufw ${f.label}: ${later ? `move [${later.num}] ${later.text}` : `insert allow ${port}/tcp`} ahead of ${v.by}`);
  }
  if (reload.length) commands.push('ufw reload');
  for (const { f } of reload) says.push(`ufw reload (${f.label}: the LIMIT's live accept chain is empty)`);
  const numbered = (list: { text: string }[]) => list.map((e, i) => `[${String(i + 1).padStart(2)}] ${e.text}\n`).join('');
  const listed = `${listing.join('\n')}\n`;
  const [before, after] = [numbered(rules), numbered(entries)];
  return {
    summary: says.join('; '),
    diff: before === after ? undefined : unifiedDiff('ufw status numbered', before, after),
    script: [
      'set -eu',
      `if [ "$(printf '%s\\n' "$(LC_ALL=C ufw status numbered)" | sha256sum)" != ${shq(`${sha(listed)}  -`)} ]; then echo 'ufw rules changed since they were read; run again' >&2; exit 3; fi`,
      ...commands,
    ].join('\n'),
  };
}
