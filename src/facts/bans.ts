// Which intrusion-prevention tool a firewall rule or set belongs to, by the names fail2ban's and sshguard's actions give them.
import type { Blocker } from './firewall.js';

/**
 * fail2ban: iptables(-multiport, -allports) chain `f2b-JAIL` holding `-s ADDR -j REJECT`; iptables-ipset set `f2b-JAIL`
 * (`f2b-JAIL6` for IPv6); nftables table `inet f2b-table`, set `addr-set-JAIL` (`addr6-set-JAIL`). sshguard: iptables
 * chain `sshguard`, ipsets `sshguard4` / `sshguard6`, nftables tables `ip sshguard` / `ip6 sshguard` (set `attackers`).
 */
export type BanOwner = { tool: 'fail2ban'; jail: string } | { tool: 'sshguard' };

/** The tool whose ban `at` is (in the rules of IPv6 when `v6`), or undefined for a rule of anyone else's. */
export function banOwner(at: Blocker, v6: boolean): BanOwner | undefined {
  const set = at.source?.set;
  if (at.table === 'filter') {
    if (set && /^sshguard[46]$/.test(set)) return { tool: 'sshguard' };
    const jail = set ? (v6 ? /^f2b-(.+)6$/ : /^f2b-(.+)$/).exec(set)?.[1] : /^f2b-(.+)$/.exec(at.chain)?.[1];
    if (jail) return { tool: 'fail2ban', jail };
    return at.chain === 'sshguard' ? { tool: 'sshguard' } : undefined;
  }
  if (at.table === 'inet f2b-table') {
    const jail = set && /^addr6?-set-(.+)$/.exec(set)?.[1];
    return jail ? { tool: 'fail2ban', jail } : undefined;
  }
  return at.table === 'ip sshguard' || at.table === 'ip6 sshguard' ? { tool: 'sshguard' } : undefined;
}

/** The owner in words: `fail2ban jail sshd`, `sshguard`. */
export function describeOwner(owner: BanOwner): string {
  return owner.tool === 'fail2ban' ? `fail2ban jail ${owner.jail}` : 'sshguard';
}
