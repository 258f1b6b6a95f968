// firewall module: a new TCP connection to the SSH port gets through iptables, ip6tables (nft and legacy) and nftables; ufw and firewalld by their own commands.
import { z } from 'zod';
import { intLike } from '../config/fields.js';
import { evaluateIptables, parseIptablesSave } from '../facts/firewall.js';
import { evaluateNft, parseNftJson } from '../facts/nftables.js';
import { first, parseRecords, recordLines } from '../facts/records.js';
import { asRecords, BASE64, RC_LINKED_FN } from '../util/shell.js';
import { defineFact } from '../facts/fact.js';
import { defineModule, type Change, type CheckPlan } from './types.js';
import { planFirewalld } from './firewall-firewalld.js';
import { FAMILIES, iptablesChange, normalizeSave } from './firewall-iptables.js';
import { nftChange } from './firewall-nftables.js';
import { planUfw } from './firewall-ufw.js';

const params = z.strictObject({
  port: intLike(1, 65535).optional(),
  ipv6: z.boolean().optional(),
});
type Params = z.output<typeof params>;

const NFT_JSON = 'nft -s -j list ruleset 2>/dev/null';
const NFT_TEXT = 'nft -s -a list ruleset 2>/dev/null';
const b64 = (cmd: string) => `"$(${cmd} | ${BASE64})"`;
const decode = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');

/** The facts the firewall check reads (the ban check reads them too: one read of the rules per host). */
export const firewallRulesFact = defineFact<Params>({
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
    if (first(r, 'ufw') === 'active') return planUfw(p.ipv6, port, r);
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
