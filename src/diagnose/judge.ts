// From what the probes saw to one named cause: the first thing that stands between the operator and a shell.
import type { Cause } from './causes.js';
import type { IcmpSeen } from './icmp.js';
import type { OperatorIssue } from './operator-key.js';
import type { SshdAt } from './ports.js';
import type { Refusal } from './refusal.js';
import type { TcpSeen } from './tcp.js';

/** One SSH handshake: the host key's verdict, the methods offered, whether the key got in, or how it ended. */
export interface HandshakeSeen {
  /** Text sshd sent before its SSH banner (sshd 8.3+ says "Exceeded MaxStartups" before hanging up). */
  greeting?: string;
  hostKey?: 'match' | 'unknown' | 'changed' | 'revoked';
  offeredType?: string;
  knownTypes?: string[];
  methods?: string[];
  keyAccepted?: boolean;
  /** The identity file that got in (none when the agent or a password did). */
  acceptedIdentity?: string;
  error?: string;
}

/** Everything gathered about one host, as data: what `judge` decides from (and what the unit tables hold). */
export interface Seen {
  /** `ADDRESS:PORT` as connected to. */
  at: string;
  user: string;
  timeoutMs: number;
  hostKeyPolicy: 'strict' | 'accept-new';
  knownHosts: string;
  dnsError?: string;
  tcp?: TcpSeen;
  /** More banner reads, made when the first connection closed before the banner. */
  retries?: TcpSeen[];
  /** ICMP echo, asked when the port refused no connection. */
  icmp?: IcmpSeen;
  /** What refused the connection, where it was refused: a TCP RST or an ICMP port-unreachable. */
  refusal?: Refusal;
  /** Ports tried besides the configured one, and where among them sshd answered. */
  otherPorts?: number[];
  sshdAt?: SshdAt[];
  /** Handshakes in order: more than one only when the first closed before authentication. */
  handshakes?: HandshakeSeen[];
  operator?: OperatorIssue[];
  /** The login of the user the playbook is about (ssh_user), where that is not the inventory's user who got in. */
  asUser?: { user: string; handshake: HandshakeSeen };
}

export interface Verdict {
  cause: Cause;
  detail: string;
}

/** libwrap's refuse() sleeps 5 s before it exits: a connection held that long without a byte, then closed, is its mark. */
const WRAPPERS_WAIT_MS = 4500;
const CLOSED = /lost before handshake|ECONNRESET|EPIPE|socket hang up|closed/i;
const EXCEEDED = /Exceeded (PerSource)?MaxStartups/i;
const PENALTY = /Not allowed at this time/i;

export function judge(seen: Seen): Verdict {
  const network = networkVerdict(seen);
  if (network) return withOperatorAside(network, seen);
  return sshVerdict(seen);
}

function networkVerdict(seen: Seen): Verdict | undefined {
  const { at } = seen;
  if (seen.dnsError !== undefined) return { cause: 'dns', detail: seen.dnsError };
  const tcp = seen.tcp;
  if (!tcp) return undefined;
  const elsewhere = seen.sshdAt?.length ? seen.sshdAt.map((s) => `${s.port} (${JSON.stringify(s.banner)})`).join(', ') : undefined;
  const triedNone = seen.otherPorts?.length ? `; sshd answers on none of ${seen.otherPorts.join(', ')} either` : '';
  const secs = `${seen.timeoutMs / 1000} s`;
  switch (tcp.outcome) {
    case 'refused':
      if (elsewhere) return { cause: 'sshd-on-other-port', detail: `${at} refused the connection, but sshd answers on port ${elsewhere}` };
      if (seen.refusal?.by === 'icmp') return { cause: 'port-rejected', detail: `${at} refused the connection with an ICMP port-unreachable, not a TCP RST: a firewall REJECT (iptables' default), often a ban of this address (fail2ban's REJECT)${triedNone}` };
      if (seen.refusal?.by === 'rst') return { cause: 'port-refused', detail: `${at} refused the connection with a TCP RST (no ICMP error came back): sshd not running, listening on another port or address, or a REJECT --reject-with tcp-reset${triedNone}` };
      return { cause: 'port-refused', detail: `${at} refused the connection (a TCP RST or an ICMP port-unreachable${seen.refusal ? `; which, cannot be told: ${seen.refusal.why}` : ''}): sshd not running, listening on another port or address, or a firewall REJECT${triedNone}` };
    case 'timeout':
      if (elsewhere) return { cause: 'sshd-on-other-port', detail: `${at} did not answer within ${secs} (dropped), but sshd answers on port ${elsewhere}` };
      return silentVerdict(seen, `${at} did not answer within ${secs}`, triedNone);
    case 'host-unreachable':
      if (elsewhere) return { cause: 'sshd-on-other-port', detail: `${at} is reported unreachable, but sshd answers on port ${elsewhere}` };
      if (seen.icmp?.outcome === 'reply') return { cause: 'firewall-reject', detail: `${at}: the connection was answered "host unreachable" (ICMP), yet the host answers ping: a firewall REJECT (icmp-host-prohibited, firewalld's default)${triedNone}` };
      if (seen.icmp?.outcome === 'unavailable') return { cause: 'firewall-drop-or-host-down', detail: `${at}: host unreachable (ICMP); ping was not possible (${seen.icmp.said}), so a host that is down cannot be told from a firewall REJECT` };
      return { cause: 'host-down', detail: `${at}: host unreachable (no ARP answer on this link, or ICMP from a router), and ${icmpWords(seen.icmp)}: nothing answers at that address` };
    case 'net-unreachable':
      return { cause: 'network-unreachable', detail: `${at}: no route from this machine (network unreachable)` };
    case 'reset':
    case 'not-ssh':
      return closedBeforeBanner(seen, tcp);
    case 'open':
      return undefined;
  }
}

/** The port never answered: ping tells a DROP (the host answers) from a host that is down; without it, say it is unknown. */
function silentVerdict(seen: Seen, what: string, triedNone: string): Verdict {
  const icmp = seen.icmp;
  switch (icmp?.outcome) {
    case 'reply':
      return { cause: 'firewall-drop', detail: `${what}, yet the host answers ping: it is up, and a firewall DROPs the port${triedNone}` };
    case 'unreachable':
      return { cause: 'host-down', detail: `${what}, and ping got "${icmp.said}": nothing answers at that address${triedNone}` };
    case 'silent':
      return { cause: 'firewall-drop-or-host-down', detail: `${what}, and ping got no answer, not even an ICMP error: a firewall that drops ICMP too (sshguard's ban drops every packet from the address), or a host that is down; from here they cannot be told apart${triedNone}` };
    case 'unavailable':
      return { cause: 'firewall-drop-or-host-down', detail: `${what}; ping was not possible (${icmp.said}), so a firewall DROP cannot be told from a host that is down${triedNone}` };
    default:
      return { cause: 'firewall-drop-or-host-down', detail: `${what}; no ping was made, so a firewall DROP cannot be told from a host that is down${triedNone}` };
  }
}

function icmpWords(icmp: IcmpSeen | undefined): string {
  if (icmp?.outcome === 'unreachable') return `ping got "${icmp.said}"`;
  if (icmp?.outcome === 'silent') return 'ping got no answer';
  return 'no ping was made';
}

/** The port took the connection and hung up before an SSH banner: sshd's own words, or whether other connections got through. */
function closedBeforeBanner(seen: Seen, tcp: TcpSeen): Verdict {
  const { at } = seen;
  const lines = [tcp, ...(seen.retries ?? [])].map((t) => t.banner ?? '');
  const exceeded = lines.find((l) => EXCEEDED.test(l));
  if (exceeded) return { cause: 'maxstartups-full', detail: `${at} answered ${JSON.stringify(exceeded)} and hung up: sshd's ${/PerSource/i.test(exceeded) ? 'PerSourceMaxStartups' : 'MaxStartups'} is full (unauthenticated connections pile up)` };
  const penalty = lines.find((l) => PENALTY.test(l));
  if (penalty) return { cause: 'source-penalized', detail: `${at} answered ${JSON.stringify(penalty)} and hung up: sshd's PerSourcePenalties holds this address off for now` };
  if (tcp.outcome === 'not-ssh') return { cause: 'wrong-service', detail: `${at} answers, but not with SSH (${JSON.stringify(tcp.banner ?? '')}): the wrong port, or another service on it` };
  const all = [tcp, ...(seen.retries ?? [])];
  const through = all.filter((t) => t.outcome === 'open').length;
  if (all.every((t) => (t.silentMs ?? 0) >= WRAPPERS_WAIT_MS)) {
    const secs = (Math.min(...all.map((t) => t.silentMs!)) / 1000).toFixed(1);
    return { cause: 'tcp-wrappers', detail: `${at} accepted, sent nothing and hung up after ${secs} s or more, on all ${all.length} connection${all.length === 1 ? '' : 's'}: the way TCP wrappers refuse (libwrap waits 5 s, and longer where DNS is slow, before it hangs up): /etc/hosts.deny or hosts.allow refuses this address` };
  }
  if (through > 0) return { cause: 'maxstartups-full', detail: `${at} hung up before the SSH banner on ${all.length - through} of ${all.length} connections while the others got through: a limit on unauthenticated connections (MaxStartups, or PerSourceMaxStartups for this address)` };
  return { cause: 'connection-reset', detail: `${at} accepted, then hung up before the SSH banner, on all ${all.length} connection${all.length === 1 ? '' : 's'}: TCP wrappers, sshd failing per connection, or a limit that never lets up` };
}

function sshVerdict(seen: Seen): Verdict {
  const { at } = seen;
  const shakes = seen.handshakes ?? [];
  const first = shakes[0];
  if (!first) return { cause: 'ok', detail: `SSH answers at ${at} with ${JSON.stringify(seen.tcp?.banner ?? '')}` };
  if (first.hostKey === 'changed') return { cause: 'host-key-changed', detail: `the host key${first.offeredType ? ` (${first.offeredType})` : ''} does not match known_hosts${first.knownTypes?.length ? ` (which holds ${first.knownTypes.join(', ')} for it)` : ''}: a reinstalled host or a man-in-the-middle; fleetfix will not log in` };
  if (first.hostKey === 'revoked') return { cause: 'host-key-revoked', detail: 'the host key is marked @revoked in known_hosts: fleetfix will not log in' };
  if (first.hostKey === 'unknown' && seen.hostKeyPolicy === 'strict') return { cause: 'host-key-unknown', detail: `the host key is not in ${seen.knownHosts} (host_key_policy: strict)` };
  // Closed before authentication: sshd's words, or whether a later handshake got through.
  if (first.error && CLOSED.test(first.error) && first.keyAccepted === undefined && !first.methods) {
    const said = shakes.map((s) => s.greeting ?? '').find((g) => EXCEEDED.test(g) || PENALTY.test(g));
    if (said && PENALTY.test(said)) return { cause: 'source-penalized', detail: `${at} answered ${JSON.stringify(said)} and hung up: sshd's PerSourcePenalties holds this address off for now` };
    if (said) return { cause: 'maxstartups-full', detail: `${at} sent its banner to one connection, then answered ${JSON.stringify(said)} to the next and hung up: sshd's MaxStartups is full` };
    const closed = shakes.filter((s) => s.error && CLOSED.test(s.error) && !s.methods && s.keyAccepted === undefined).length;
    if (closed < shakes.length) return { cause: 'maxstartups-full', detail: `${at} hung up in the key exchange on ${closed} of ${shakes.length} handshakes while the others got through (${first.error}): a limit on unauthenticated connections (MaxStartups, or PerSourceMaxStartups for this address)` };
    return { cause: 'dropped-in-key-exchange', detail: `${at} sent its banner, then hung up before authentication on all ${shakes.length} handshake${shakes.length === 1 ? '' : 's'} (${first.error}): sshd failing per connection, or a limit that never lets up` };
  }
  const shake = first;
  const operator = seen.operator ?? [];
  if (shake.methods && !shake.methods.includes('publickey') && !shake.keyAccepted) return withOperatorAside({ cause: 'pubkey-disabled', detail: `sshd offers ${shake.methods.join(', ') || 'nothing'}, not publickey: PubkeyAuthentication no, or AuthenticationMethods` }, seen);
  if (shake.keyAccepted === false) {
    const mine = operator[0];
    if (mine) return { cause: mine.cause, detail: `${mine.detail}; sshd did not accept a key for ${seen.user}${aside(operator.slice(1))}` };
    return { cause: 'key-not-accepted', detail: `our key was not accepted for ${seen.user}: the key is missing from authorized_keys, or ~/.ssh / authorized_keys have modes or an owner sshd's StrictModes refuses, or AllowUsers` };
  }
  if (shake.keyAccepted === true) {
    // fleetfix got in; ssh would not, where the key that got in (or the agent asked for) has a problem of its own.
    const blocking = operator.find((o) => (o.path !== undefined && o.path === shake.acceptedIdentity) || o.path === undefined);
    if (blocking) return { cause: blocking.cause, detail: `${blocking.detail} (fleetfix logs in with the key as ${seen.user}; ssh would not)` };
    if (seen.asUser) {
      const refused = userVerdict(seen, seen.asUser);
      if (refused) return refused;
    }
    return { cause: 'ok', detail: `SSH works${seen.asUser ? ` as ${seen.user} and ${seen.asUser.user}` : ''}: ${seen.tcp?.banner ?? at}${aside(operator)}` };
  }
  const error = shake.error ?? 'the handshake ended without a verdict';
  if (/Timed out while waiting for handshake|no SSH handshake within/i.test(error)) return { cause: 'handshake-timeout', detail: `${at} sent its banner, but the key exchange did not finish within ${seen.timeoutMs / 1000} s` };
  if (/no matching/i.test(error)) return { cause: 'no-common-algorithm', detail: `${at}: ${error}` };
  return { cause: 'handshake-failed', detail: `${at}: ${error}` };
}

/** The playbook's user, once the inventory's got in: what keeps that user out, or undefined where the key gets in. */
function userVerdict(seen: Seen, { user, handshake }: { user: string; handshake: HandshakeSeen }): Verdict | undefined {
  if (handshake.keyAccepted === true) return undefined;
  const though = `, though ${seen.user} gets in`;
  if (handshake.methods && !handshake.methods.includes('publickey')) return { cause: 'pubkey-disabled', detail: `sshd offers ${user} ${handshake.methods.join(', ') || 'nothing'}, not publickey${though}: PubkeyAuthentication no or AuthenticationMethods in a Match block` };
  if (handshake.keyAccepted === false) return { cause: 'key-not-accepted', detail: `our key was not accepted for ${user} (ssh_user)${though}: the key is missing from ${user}'s authorized_keys, ~/.ssh or authorized_keys have modes or an owner StrictModes refuses, AllowUsers/DenyUsers/AllowGroups, or the account` };
  return { cause: 'handshake-failed', detail: `the login as ${user} (ssh_user) failed${though}: ${handshake.error ?? 'the handshake ended without a verdict'}` };
}

function aside(issues: OperatorIssue[]): string {
  return issues.length ? `; also on this machine: ${issues.map((i) => i.detail).join('; ')}` : '';
}

function withOperatorAside(v: Verdict, seen: Seen): Verdict {
  return { cause: v.cause, detail: `${v.detail}${aside(seen.operator ?? [])}` };
}
