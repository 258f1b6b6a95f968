// Which sshd_config Match blocks apply to one connection (user, groups, host, addresses, port), as servconf.c decides.
import { inCidr } from './address.js';

/** A connection as `sshd -T -C` takes it; what is unknown is left out, and a criterion on it does not match. */
export interface Connection {
  user: string;
  /** The user's groups, primary first (Match Group). */
  groups?: string[];
  host?: string;
  addr?: string;
  laddr?: string;
  lport?: number;
}

/** The `-C` spec for sshd -T: only the fields known, each checked to hold no separator. */
export function connectionSpec(c: Connection): string {
  const fields: [string, string | number | undefined][] = [['user', c.user], ['host', c.host], ['addr', c.addr], ['laddr', c.laddr], ['lport', c.lport]];
  return fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${v}`).join(',');
}

/** match_pattern(): `*` and `?` wildcards, the whole string. */
export function wildcard(text: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(text);
}

/** match_pattern_list(): a comma list where a matching `!pattern` denies, whatever else matches. */
export function patternList(text: string, list: string, caseless = false): boolean {
  let got = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = caseless ? (negated ? raw.slice(1) : raw).toLowerCase() : negated ? raw.slice(1) : raw;
    if (wildcard(caseless ? text.toLowerCase() : text, pattern)) {
      if (negated) return false;
      got = true;
    }
  }
  return got;
}

/** addr_match_list(): addresses, CIDR blocks and wildcards, `!` denies. */
export function addressList(addr: string, list: string): boolean {
  let got = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const hit = pattern.includes('/') ? inCidr(addr, pattern) : wildcard(addr, pattern);
    if (hit) {
      if (negated) return false;
      got = true;
    }
  }
  return got;
}

/**
 * Whether a `Match` line's criteria (its arguments) all hold for `c`: `All`, `User`, `Group`, `Host`, `Address`,
 * `LocalAddress`, `LocalPort`. A criterion on something `c` does not know, or one fleetfix does not know, does not match.
 */
export function matchApplies(args: string[], c: Connection): boolean {
  if (args.length === 1 && args[0]!.toLowerCase() === 'all') return true;
  for (let i = 0; i < args.length; i += 2) {
    const what = args[i]!.toLowerCase();
    const list = args[i + 1];
    if (list === undefined) return false;
    let hit: boolean;
    switch (what) {
      case 'user':
        hit = patternList(c.user, list);
        break;
      case 'group':
        hit = c.groups !== undefined && c.groups.some((g) => patternList(g, list)) && !c.groups.some((g) => list.split(',').some((p) => p.startsWith('!') && wildcard(g, p.slice(1))));
        break;
      case 'host':
        hit = c.host !== undefined && patternList(c.host, list, true);
        break;
      case 'address':
        hit = c.addr !== undefined && addressList(c.addr, list);
        break;
      case 'localaddress':
        hit = c.laddr !== undefined && addressList(c.laddr, list);
        break;
      case 'localport':
        hit = c.lport !== undefined && list.split(',').some((p) => Number(p) === c.lport);
        break;
      default:
        return false;
    }
    if (!hit) return false;
  }
  return true;
}
