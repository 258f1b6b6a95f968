// firewall module: a new TCP connection to the SSH port gets through iptables, ip6tables (nft and legacy) and nftables; ufw and firewalld by their own commands.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { intLike } from '../config/fields.js';
import { evaluateIptables, evaluateNft, iptAcceptArgs, iptablesAfter, nftTextAfter, parseIptablesSave, parseNftJson, type Verdict } from '../facts/firewall.js';
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
      `if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q '^Status: active'; then echo ufw=active; ufw status | sed 's/^/ufw_rule=/'; fi`,
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
    if (first(r, 'ufw') === 'active') return planUfw(port, r.get('ufw_rule') ?? []);
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
        if (verdict.blocked) {
          seen.push(`nftables ${f.label}: ${verdict.by}`);
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

function planUfw(port: number, rules: string[]): CheckPlan {
  const open = rules.some((l) => new RegExp(`^(${port}(/tcp)?|OpenSSH)\\s+(\\(v6\\)\\s+)?ALLOW`, 'i').test(l.trim()));
  if (open) return { ok: true, message: `ufw allows ${port}/tcp`, changes: [] };
  return { ok: false, message: `ufw is active and does not allow ${port}/tcp`, changes: [{ summary: `ufw allow ${port}/tcp`, diff: `ufw: + ${port}/tcp ALLOW Anywhere`, script: `ufw allow ${port}/tcp` }] };
}

function planFirewalld(port: number, open: string[]): CheckPlan {
  if (open.includes('port') || (port === 22 && open.includes('service'))) return { ok: true, message: `firewalld allows ${port}/tcp`, changes: [] };
  return {
    ok: false,
    message: `firewalld is running and does not allow ${port}/tcp`,
    changes: [{ summary: `firewall-cmd --add-port=${port}/tcp (runtime and permanent)`, diff: `firewalld: + port ${port}/tcp`, script: `set -e\nfirewall-cmd --add-port=${port}/tcp\nfirewall-cmd --permanent --add-port=${port}/tcp` }],
  };
}
