// nftables fixes: add or insert "tcp dport PORT accept" in the chain that blocks the port, guarded by that chain.
import { nftTextAfter } from '../facts/nftables.js';
import type { Verdict } from '../facts/firewall.js';
import { unifiedDiff } from '../report/diff.js';
import { shq } from '../util/shell.js';
import type { Change } from './types.js';
import { COMMENT, persistLines } from './firewall-change.js';

export function nftChange(text: string, verdict: Verdict & { blocked: true }, port: number, persist: string | undefined): Change {
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
