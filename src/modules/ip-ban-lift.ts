// Lifting one ban of one address: through fail2ban-client where fail2ban runs and knows it, else the rule or set element itself.
import { describeOwner, type BanOwner } from '../facts/bans.js';
import type { Blocker, IptTable, Source, Verdict } from '../facts/firewall.js';
import { unifiedDiff } from '../report/diff.js';
import { shq } from '../util/shell.js';
import type { Change } from './types.js';

/** One listing of the rules (iptables-nft, ip6tables-legacy, nftables), judged for a source. */
export interface View {
  label: string;
  kind: 'iptables' | 'nft';
  /** The iptables filter table read, to delete a rule by its exact arguments. */
  table?: IptTable;
  evaluate(source?: Source): Verdict;
  /** Its chains (iptables) or tables (nftables, "family name"), by name. */
  tables(): string[];
}

export interface Ban {
  view: View;
  at: Blocker;
  owner: BanOwner;
}

export interface BanTools {
  /** fail2ban's server answers. */
  running: boolean;
  /** The jails fail2ban says ban the address. */
  banning: string[];
  sshguardRuns: boolean;
}

const JAIL = /^[A-Za-z0-9_.@-]+$/;

/**
 * The change that lifts `ban` for `addr` alone (no rollback: it cannot lock anyone out), or why none does: a rule or
 * element that bans more than the address (a network) is not lifted, since that would let others in too.
 */
export function liftChange(ban: Ban, addr: string, tools: BanTools): Change | string {
  const { owner, at, view } = ban;
  const what = `${view.label} ${describeBlocker(at)}`;
  const diff = unifiedDiff(`bans of ${addr}`, `${describeOwner(owner)}: ${what}\n`, '');
  if (owner.tool === 'fail2ban' && tools.running && tools.banning.includes(owner.jail) && JAIL.test(owner.jail)) {
    return { summary: `fail2ban jail ${owner.jail}: unban ${addr} (fail2ban-client set ${owner.jail} unbanip ${addr})`, diff, script: `set -eu\nfail2ban-client set ${shq(owner.jail)} unbanip ${shq(addr)} >/dev/null` };
  }
  if (!at.source?.exact) return `${describeOwner(owner)} bans a block wider than ${addr} (${what}): lifting it would let others in too; not changed`;
  const command = deleteCommand(ban, addr);
  if (!command) return `${describeOwner(owner)} bans ${addr} by ${what}, which fleetfix cannot delete alone; not changed`;
  const why = owner.tool === 'sshguard' ? `; sshguard has no client to unban through${tools.sshguardRuns ? ', and it runs: it may ban the address again' : ''}` : tools.running ? `; fail2ban does not list it as banned` : `; fail2ban is not running, and may restore the ban from its database when it starts`;
  return { summary: `${describeOwner(owner)}: delete the ban of ${addr} (${command.says})${why}`, diff, script: `set -eu\n${command.script}` };
}

/** A rule in words: `f2b-sshd: -s 198.51.100.7/32 -j REJECT`, `inet f2b-table f2b-chain handle 3 (set addr-set-sshd)`. */
export function describeBlocker(at: Blocker): string {
  if (at.table === 'filter') return `${at.chain}: ${at.rule}${at.source?.set ? ` (ipset ${at.source.set})` : ''}`;
  return `${at.table} ${at.chain} ${at.rule}${at.source?.set ? ` (set ${at.source.set})` : ''}`;
}

/** The guarded command that deletes the ban's rule or set element; only what was read is deleted, nothing if it is gone. */
function deleteCommand(ban: Ban, addr: string): { says: string; script: string } | undefined {
  const { at, view } = ban;
  const set = at.source?.set;
  if (view.kind === 'iptables') {
    const bin = view.label;
    if (set) return { says: `ipset del ${set} ${addr}`, script: `if ipset test ${shq(set)} ${shq(addr)} 2>/dev/null; then ipset del ${shq(set)} ${shq(addr)}; fi` };
    const rule = view.table?.chains.get(at.chain)?.find((r) => r.text === at.rule);
    if (!rule) return undefined;
    const args = `${shq(at.chain)} ${rule.tokens.map(shq).join(' ')}`;
    return { says: `${bin} -D ${at.chain} ${at.rule}`, script: `if ${bin} -C ${args} 2>/dev/null; then ${bin} -D ${args}; fi` };
  }
  const [family, table] = at.table.split(' ') as [string, string];
  if (set) {
    const element = shq(`{ ${addr} }`);
    return { says: `nft delete element ${at.table} ${set} { ${addr} }`, script: `if nft get element ${shq(family)} ${shq(table)} ${shq(set)} ${element} >/dev/null 2>&1; then nft delete element ${shq(family)} ${shq(table)} ${shq(set)} ${element}; fi` };
  }
  const handle = /^handle (\d+)$/.exec(at.rule)?.[1];
  if (!handle) return undefined;
  const list = `nft -a list chain ${shq(family)} ${shq(table)} ${shq(at.chain)}`;
  return { says: `nft delete rule ${at.table} ${at.chain} ${at.rule}`, script: `if ${list} 2>/dev/null | grep -q ${shq(`# handle ${handle}$`)}; then nft delete rule ${shq(family)} ${shq(table)} ${shq(at.chain)} handle ${handle}; fi` };
}
