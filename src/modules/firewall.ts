// firewall module: a new TCP connection to the SSH port gets through iptables, ip6tables (nft and legacy) and nftables; ufw and firewalld by their own commands.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { intLike } from '../config/fields.js';
import { evaluateIptables, evaluateNft, evaluateUfw, iptAcceptArgs, iptablesAfter, nftTextAfter, parseIptablesSave, parseNftJson, parseUfwApps, parseUfwNumbered, type UfwRule, type Verdict } from '../facts/firewall.js';
import { first, parseRecords, recordLines } from '../facts/records.js';
import { unifiedDiff } from '../report/diff.js';
import { asRecords, BASE64, RC_LINKED_FN, shq } from '../util/shell.js';
import { defineFact } from '../facts/fact.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  port: intLike(1, 65535).optional(),
  ipv6: z.boolean().optional(),
});
type Params = z.output<typeof params>;

const COMMENT = 'fleetfix: ssh access';
const FAMILIES = [
  { v: 4, family: 'ip', label: 'IPv4', names: '/proc/net/ip_tables_names', persist: '/etc/iptables/rules.v4', tool: 'iptables' },
  { v: 6, family: 'ip6', label: 'IPv6', names: '/proc/net/ip6_tables_names', persist: '/etc/iptables/rules.v6', tool: 'ip6tables' },
] as const;
type Family = (typeof FAMILIES)[number];

/**
 * The normalized `*-save -t filter` text: no comments or counters, so that it hashes the same until a rule changes.
 * The gather reads the raw text and normalizes it here (normalizeSave); the guard before a change does it on the host.
 */
const saveFilter = (save: string) => `${save} -t filter 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//g'`;

/** Pure: what saveFilter prints, from the raw save output. */
export function normalizeSave(raw: string): string {
  if (raw === '') return '';
  const text = raw.endsWith('\n') ? raw : `${raw}\n`;
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n')
    .replace(/\[[0-9]*:[0-9]*\]/g, '');
}
const NFT_JSON = 'nft -s -j list ruleset 2>/dev/null';
const NFT_TEXT = 'nft -s -a list ruleset 2>/dev/null';
const b64 = (cmd: string) => `"$(${cmd} | ${BASE64})"`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const decode = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');

/** The facts the firewall check reads. */
const firewallRulesFact = defineFact<Params>({
  name: 'firewall.rules',
  script(p) {
    const port = p.port ?? 22;
    const lines = [
      RC_LINKED_FN,
      `ff_has_line() { [ -r "$2" ] && while read -r ff_l; do [ "$ff_l" = "$1" ] && return 0; done < "$2"; return 1; }`,
      // ufw: its numbered rules (in C: the words are parsed), whether it filters IPv6 and its default input policy as
      // it reads them (the last line wins), and where a rule names something other than ports (an application), the
      // application profiles' ports.
      `if command -v ufw >/dev/null 2>&1 && ff_ufw=$(LC_ALL=C ufw status numbered 2>/dev/null); then case "$ff_ufw" in 'Status: active'*) echo ufw=active; printf '%s\\n' "$ff_ufw" | sed 's/^/ufw_rule=/'; sed -n -e 's/^IPV6=/ufw_ipv6=/p' -e 's/^DEFAULT_INPUT_POLICY=/ufw_input=/p' /etc/default/ufw 2>/dev/null; [ -d /proc/sys/net/ipv6 ] || echo ufw_ipv6=no; if printf '%s\\n' "$ff_ufw" | grep -v '^\\[ *[0-9]*\\] Anywhere' | grep -q '^\\[ *[0-9]*\\] [A-Za-z]'; then sed -n -e 's/^\\[/ufw_app=[/p' -e 's/^ports *= */ufw_app=ports=/p' /etc/ufw/applications.d/* 2>/dev/null; fi ;; esac; fi`,
      `if command -v firewall-cmd >/dev/null 2>&1 && [ "$(firewall-cmd --state 2>/dev/null)" = running ]; then echo firewalld=running; firewall-cmd --query-port=${port}/tcp >/dev/null 2>&1 && echo firewalld_open=port; firewall-cmd --query-service=ssh >/dev/null 2>&1 && echo firewalld_open=service; fi`,
    ];
    // nftables first (the text listing, only for the diff, where something could drop or reject). iptables-nft keeps
    // its rules in the tables "ip filter" and "ip6 filter": where nft lists no such table, iptables-nft-save (the
    // costliest fact here) has nothing to show and is not run.
    // nft -j prints compact JSON, one line: it travels as it is.
    lines.push(`ff_nft=; if command -v nft >/dev/null 2>&1; then ff_nft=$(${NFT_JSON}); printf 'nft_json=%s\\n' "$ff_nft"; case "$ff_nft" in *'"drop"'*|*'"reject"'*|*'"policy": "drop"'*) printf 'nft_text=%s\\n' ${b64(NFT_TEXT)} ;; esac; fi`);
    for (const f of FAMILIES) {
      const table = `"family": "${f.family}", "name": "filter"`;
      lines.push(`if command -v ${f.tool}-nft-save >/dev/null 2>&1; then case "$ff_nft" in ''|*'${table}'*) ${f.tool}-nft-save -t filter 2>/dev/null | ${asRecords(`ipt_nft_v${f.v}`)} ;; esac; fi`);
      // Legacy tables are read only where they already exist: listing them would create them.
      lines.push(`if ff_has_line filter ${f.names} && command -v ${f.tool}-legacy-save >/dev/null 2>&1; then ${f.tool}-legacy-save -t filter 2>/dev/null | ${asRecords(`ipt_legacy_v${f.v}`)}; fi`);
      lines.push(`[ -f ${f.persist} ] && echo 'persist_v${f.v}=${f.persist}'`);
    }
    // /etc/nftables.conf is only the source of the rules where the nftables service loads it at boot.
    lines.push(`if [ -f /etc/nftables.conf ] && { { [ -d /run/systemd/system ] && [ "$(systemctl is-enabled nftables 2>/dev/null)" = enabled ]; } || ff_rc_linked nftables; }; then echo 'persist_nft=/etc/nftables.conf'; fi`);
    lines.push('true');
    return lines.join('\n');
  },
});

export const firewallModule = defineModule({
  name: 'firewall',
  summary: 'the SSH port accepts new TCP connections through iptables, ip6tables, nftables, ufw or firewalld',
  params,
  facts: (p: Params) => ({ rules: firewallRulesFact(p) }),
  plan(p: Params, facts): CheckPlan {
    const port = p.port ?? 22;
    const r = parseRecords(facts.rules!.stdout);
    if (first(r, 'ufw') === 'active') return planUfw(p, port, r);
    if (first(r, 'firewalld') === 'running') return planFirewalld(port, r.get('firewalld_open') ?? []);

    const families = FAMILIES.filter((f) => f.v === 4 || p.ipv6 !== false);
    const changes: Change[] = [];
    const seen: string[] = [];
    const skipTables: string[] = [];
    for (const f of families) {
      for (const backend of ['nft', 'legacy'] as const) {
        const raw = recordLines(r, `ipt_${backend}_v${f.v}`);
        if (raw === undefined) continue;
        const text = normalizeSave(raw);
        if (backend === 'nft' && text.includes('*filter')) skipTables.push(`${f.family} filter`);
        const verdict = evaluateIptables(parseIptablesSave(text), port);
        seen.push(`${f.tool}-${backend}: ${verdict.by}`);
        if (verdict.blocked) changes.push(iptablesChange(f, backend, text, verdict, port, first(r, `persist_v${f.v}`)));
      }
    }
    const json = first(r, 'nft_json');
    if (json) {
      const ruleset = parseNftJson(json, skipTables);
      for (const f of families) {
        const verdict = evaluateNft(ruleset, port, f.family);
        seen.push(`nftables ${f.label}: ${verdict.by}`);
        if (verdict.blocked) {
          if (!changes.some((c) => c.summary.includes(verdict.chain))) changes.push(nftChange(decode(first(r, 'nft_text')), verdict, port, skipTables.length === 0 ? first(r, 'persist_nft') : undefined));
        }
      }
    }
    if (changes.length === 0) return { ok: true, message: `tcp dport ${port} gets through (${seen.join('; ') || 'no firewall rules'})`, changes };
    return { ok: false, message: changes.map((c) => c.summary).join('; '), changes };
  },
});

function iptablesChange(f: Family, backend: 'nft' | 'legacy', before: string, verdict: Verdict & { blocked: true }, port: number, persist: string | undefined): Change {
  const bin = `${f.tool}-${backend}`;
  const args = iptAcceptArgs(port).map(shq).join(' ');
  const insert = verdict.before === undefined ? `${bin} -A INPUT ${args}` : `${bin} -I INPUT ${verdict.before + 1} ${args}`;
  const lines = [
    'set -eu',
    `if [ "$(${saveFilter(`${bin}-save`)} | sha256sum)" != ${shq(`${sha(before)}  -`)} ]; then echo ${shq(`${bin} rules changed since they were read; run again`)} >&2; exit 3; fi`,
    insert,
  ];
  if (persist) lines.push(...persistLines(persist, `${bin}-save`));
  return {
    summary: `${bin}: insert ACCEPT tcp dport ${port} ahead of ${verdict.by}${persist ? `; save to ${persist}` : ''}`,
    diff: unifiedDiff(`${bin}-save -t filter (${f.label})`, before, iptablesAfter(before, verdict, port)),
    script: lines.join('\n'),
    rollback: `if ${bin} -C INPUT ${args} 2>/dev/null; then ${bin} -D INPUT ${args}; fi`,
  };
}

function nftChange(text: string, verdict: Verdict & { blocked: true }, port: number, persist: string | undefined): Change {
  const [family, table, chain] = verdict.chain.split(' ') as [string, string, string];
  const rule = `tcp dport ${port} accept comment ${JSON.stringify(COMMENT)}`;
  const where = verdict.before === undefined ? 'add rule' : 'insert rule';
  const position = verdict.before === undefined ? '' : ` position ${verdict.before}`;
  const list = `nft -a list chain ${shq(family)} ${shq(table)} ${shq(chain)}`;
  // Guarded by the chain itself, not the whole ruleset: an iptables-nft fix in the same run changes the rest.
  const lines = [
    'set -eu',
    `if ${list} | grep -qF ${shq(COMMENT)}; then exit 0; fi`,
    verdict.before === undefined ? '' : `${list} | grep -q ${shq(`# handle ${verdict.before}$`)} || { echo ${shq(`nftables rule handle ${verdict.before} is gone since it was read; run again`)} >&2; exit 3; }`,
    `nft ${where} ${shq(family)} ${shq(table)} ${shq(chain)}${position} tcp dport ${port} accept comment ${shq(JSON.stringify(COMMENT))}`,
  ].filter(Boolean);
  if (persist) lines.push(...persistLines(persist, `{ echo '#!/usr/sbin/nft -f'; echo 'flush ruleset'; nft -s list ruleset; }`, 'nft -c -f'));
  return {
    summary: `nftables ${verdict.chain}: ${verdict.before === undefined ? 'add' : 'insert'} "tcp dport ${port} accept" ahead of ${verdict.by}${persist ? `; save to ${persist}` : ''}`,
    diff: unifiedDiff('nft list ruleset', text, nftTextAfter(text, verdict.chain, verdict.before, rule)),
    script: lines.join('\n'),
    rollback: `ff_h=$(${list} | grep -F ${shq(COMMENT)} | sed -n 's/.*# handle \\([0-9]*\\)$/\\1/p' | head -n 1); [ -z "$ff_h" ] || nft delete rule ${shq(family)} ${shq(table)} ${shq(chain)} handle "$ff_h"`,
  };
}

/**
 * Save the live rules where the host loads them at boot: `produce` writes them to a temp file beside `persist`,
 * `check` (given the temp file) must accept them; the old file is kept as a timestamped backup, the new one gets
 * its owner and mode and is renamed over it. The temp file is removed if anything fails.
 */
function persistLines(persist: string, produce: string, check?: string): string[] {
  const f = shq(persist);
  return [
    `ff_tmp=$(mktemp ${shq(`${persist}.fleetfix.`)}XXXXXX)`,
    `trap 'rm -f "$ff_tmp"' EXIT`,
    `${produce} > "$ff_tmp"`,
    ...(check ? [`${check} "$ff_tmp"`] : []),
    `chown "$(stat -c %u:%g -- ${f})" "$ff_tmp" && chmod "$(stat -c %a -- ${f})" "$ff_tmp"`,
    `cp -p -- ${f} ${f}.fleetfix-"$(date +%Y%m%dT%H%M%S)".bak`,
    `mv -f -- "$ff_tmp" ${f}`,
    'trap - EXIT',
  ];
}

const UFW_FAMILIES = [
  { v6: false, label: 'IPv4', any: '0.0.0.0/0' },
  { v6: true, label: 'IPv6', any: '::/0' },
] as const;
type UfwFamily = (typeof UFW_FAMILIES)[number];

/** A setting of /etc/default/ufw as ufw reads it: the last line, unquoted, in lower case. */
const ufwSetting = (r: Map<string, string[]>, key: string) => r.get(key)?.slice(-1)[0]?.replace(/["']/g, '').toLowerCase();

function planUfw(p: Params, port: number, r: Map<string, string[]>): CheckPlan {
  const listing = r.get('ufw_rule') ?? [];
  const rules = parseUfwNumbered(listing, port, parseUfwApps(r.get('ufw_app') ?? []));
  const filtered = UFW_FAMILIES.filter((f) => !f.v6 || ufwSetting(r, 'ufw_ipv6') === 'yes');
  const verdicts = filtered.filter((f) => !f.v6 || p.ipv6 !== false).map((f) => ({ f, v: ufwVerdict(r, rules, f) }));
  const seen = verdicts.map(({ f, v }) => `${f.label}: ${v.by}`);
  if (filtered.length === 1 && p.ipv6 !== false) seen.push('IPv6: not filtered by ufw (IPV6 is not yes)');
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

function planFirewalld(port: number, open: string[]): CheckPlan {
  if (open.includes('port') || (port === 22 && open.includes('service'))) return { ok: true, message: `firewalld allows ${port}/tcp`, changes: [] };
  return {
    ok: false,
    message: `firewalld is running and does not allow ${port}/tcp`,
    changes: [{ summary: `firewall-cmd --add-port=${port}/tcp (runtime and permanent)`, diff: `firewalld: + port ${port}/tcp`, script: `set -e\nfirewall-cmd --add-port=${port}/tcp\nfirewall-cmd --permanent --add-port=${port}/tcp` }],
  };
}
