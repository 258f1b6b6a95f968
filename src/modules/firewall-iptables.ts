// iptables and ip6tables fixes (nft and legacy backends): insert an ACCEPT ahead of what blocks the port, guarded by the rules read.
import { iptAcceptArgs, iptablesAfter, type Verdict } from '../facts/firewall.js';
import { unifiedDiff } from '../report/diff.js';
import { shq } from '../util/shell.js';
import type { Change } from './types.js';
import { persistLines, sha } from './firewall-change.js';

/** The address families: nftables' name, the iptables tool, where the kernel lists its legacy tables, where their rules are saved for boot. */
export const FAMILIES = [
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

export function iptablesChange(f: Family, backend: 'nft' | 'legacy', before: string, verdict: Verdict & { blocked: true }, port: number, persist: string | undefined): Change {
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
