// ufw's rules (ufw status numbered, application profiles): does a new TCP connection to the port get through?
import { portIn, type Match, type Verdict } from './firewall.js';

/** One rule of `ufw status numbered`, judged for a new inbound TCP connection to the port. */
export interface UfwRule {
  num: number;
  v6: boolean;
  action: 'ALLOW' | 'DENY' | 'REJECT' | 'LIMIT';
  /** 'iface': only connections that arrive on one interface; 'maybe': some (a source or destination address, a source port, an unknown profile) */
  match: Match | 'iface';
  /** Exactly `PORT/tcp` from Anywhere, inbound: the rule ufw keeps once per family; adding it with another action replaces it, inserting it is skipped. */
  plain: boolean;
  text: string;
}

/** Application profiles (`[Name]`, then `ports=22/tcp` or `80,443/tcp|53`) as name -> port specs. */
export function parseUfwApps(lines: string[]): Map<string, string[]> {
  const apps = new Map<string, string[]>();
  let name: string | undefined;
  for (const line of lines) {
    const section = /^\[(.+)\]\s*$/.exec(line);
    if (section) name = section[1];
    else if (name !== undefined) apps.set(name, line.replace(/^ports=/, '').trim().split('|'));
  }
  return apps;
}

const ADDRESS = /^(\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*)(\/\d+)?$/i;
/** `22`, `22/tcp`, `80,443/tcp`, `6000:6007/tcp`: does it take tcp `port`? */
const portSpecTakes = (spec: string, port: number) => {
  const m = /^([\d,:]+)(?:\/(\w+))?$/.exec(spec);
  return !!m && (m[2] === undefined || m[2] === 'tcp') && portIn(port, m[1]!);
};

/** The rule lines of `ufw status numbered` ("[ 2] 22/tcp (v6) on eth0  ALLOW IN  Anywhere (v6)  (log) # note"). */
export function parseUfwNumbered(lines: string[], port: number, apps: Map<string, string[]>): UfwRule[] {
  const rules: UfwRule[] = [];
  for (const line of lines) {
    const m = /^\[\s*(\d+)\]\s+(.+?)\s+(ALLOW|DENY|REJECT|LIMIT)\s+(IN|OUT|FWD)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, num, to, action, direction] = m as unknown as [string, string, string, UfwRule['action'], string];
    const from = m[5]!.replace(/\s+#\s.*$/, '').replace(/\s+\((?:log|log-all|out)(?:, \w+)*\)$/, '');
    const v6 = /\(v6\)/.test(to + from) || `${to} ${from}`.split(/\s+/).some((w) => w.includes(':') && ADDRESS.test(w));
    const iface = /\s+on\s+(\S+)$/.exec(to)?.[1];
    const words = to.replace(/\s+on\s+\S+$/, '').replace(/\s*\(v6\)/g, '').trim().split(/\s+/);
    const address = ADDRESS.test(words[0]!) ? words.shift() : undefined;
    const what = words.join(' ');
    // `what`: '' or Anywhere[/proto] (every port), a port spec, or an application profile's name.
    const anyPort = /^(?:Anywhere)?(?:\/(\w+))?$/.exec(what);
    const profile = apps.get(what);
    const ports: Match = anyPort
      ? (anyPort[1] ?? 'tcp') === 'tcp' ? 'yes' : 'no'
      : /^[\d,:]+(\/\w+)?$/.test(what) || profile
        ? (profile ?? [what]).some((spec) => portSpecTakes(spec, port)) ? 'yes' : 'no'
        : 'maybe';
    const source = from.replace(/\s*\(v6\)/g, '');
    const match: UfwRule['match'] =
      direction !== 'IN' || ports === 'no' || iface === 'lo' ? 'no' : ports === 'maybe' || address || !/^Anywhere(\/\w+)?$/.test(source) ? 'maybe' : iface ? 'iface' : 'yes';
    const plain = match === 'yes' && what === `${port}/tcp` && source === 'Anywhere';
    rules.push({ num: Number(num), v6, action, match, plain, text: line.replace(/^\[\s*\d+\]\s+/, '').replace(/\s+/g, ' ').trim() });
  }
  return rules;
}

/**
 * ufw's first match wins among one family's rules, then the default input policy. An ALLOW or LIMIT (a rate limit
 * lets connections through) counts only for every source and address on every interface; a DENY or REJECT blocks
 * unless it is bound to a source or destination address, as with iptables. `before`: the blocking rule's number;
 * `rule`: the rule that lets it through.
 */
export function evaluateUfw(rules: UfwRule[], v6: boolean, policy: string): Verdict & { rule?: UfwRule } {
  for (const r of rules.filter((x) => x.v6 === v6)) {
    const by = `[${r.num}] ${r.text}`;
    if ((r.action === 'ALLOW' || r.action === 'LIMIT') && r.match === 'yes') return { blocked: false, by, rule: r };
    if ((r.action === 'DENY' || r.action === 'REJECT') && (r.match === 'yes' || r.match === 'iface')) return { blocked: true, by, chain: v6 ? 'IPv6' : 'IPv4', before: r.num };
  }
  return policy === 'accept' ? { blocked: false, by: 'default policy accept' } : { blocked: true, by: `default policy ${policy}`, chain: v6 ? 'IPv6' : 'IPv4' };
}
