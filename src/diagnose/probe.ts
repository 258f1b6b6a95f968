// Why SSH to a host fails, seen from this machine: DNS, TCP connect, ping and other ports, banner, host key, methods, our key.
import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import ssh2, { type AnyAuthMethod, type ConnectConfig } from 'ssh2';
import type { HostSpec } from '../config/inventory.js';
import { hostKeyAlgorithms } from '../transport/host-key-check.js';
import { keyTypeOf, knownKeyTypes, lookupName, verifyHostKey } from '../transport/known-hosts.js';
import { KnownHostsStore } from '../transport/known-hosts-store.js';
import type { Cause } from './causes.js';
import { ping } from './icmp.js';
import { judge, type HandshakeSeen, type Seen } from './judge.js';
import { checkOperator, type IdentityCheck } from './operator-key.js';
import { findSshd, otherPorts } from './ports.js';
import { refusalOf } from './refusal.js';
import { tcpProbe } from './tcp.js';

const { Client } = ssh2;

/** Connections made again, one after another, when the first hung up early: enough to see whether any gets through. */
const RETRIES = 2;

/** The cause, what was seen in words, and everything seen as data. */
export interface Probe {
  cause: Cause;
  detail: string;
  seen: Seen;
}

/** Probe `host`; where the playbook is about another user than the inventory's (`asUser`), that user's login too. */
export async function probeHost(host: HostSpec, timeoutMs: number, asUser?: string): Promise<Probe> {
  const port = host.ssh.port;
  let address = host.address;
  const seen: Seen = { at: `${address}:${port}`, user: host.ssh.user, timeoutMs, hostKeyPolicy: host.hostKeyPolicy, knownHosts: host.knownHosts };
  const operator = checkOperator(host.ssh, Math.min(timeoutMs, 5000));
  const done = async (): Promise<Probe> => {
    const { issues } = await operator;
    if (issues.length) seen.operator = issues;
    return { ...judge(seen), seen };
  };
  if (!isIP(address)) {
    try {
      address = (await lookup(address, { all: true }))[0]!.address;
      seen.at = `${address}:${port}`;
    } catch (err) {
      seen.dnsError = `${host.address} does not resolve (${(err as NodeJS.ErrnoException).code})`;
      return done();
    }
  }
  const { socket, ...tcp } = await tcpProbe(address, port, timeoutMs, true);
  seen.tcp = tcp;
  const outcome = tcp.outcome;
  if (outcome === 'not-ssh' || outcome === 'net-unreachable') return done();
  if (outcome === 'refused' || outcome === 'timeout' || outcome === 'host-unreachable') {
    // Where else sshd answers, and whether the host answers at all; both at once.
    seen.otherPorts = otherPorts(host);
    const [sshdAt, icmp, refusal] = await Promise.all([
      findSshd(address, seen.otherPorts, timeoutMs),
      outcome === 'refused' ? undefined : ping(address, timeoutMs),
      outcome === 'refused' ? refusalOf(address, port, timeoutMs) : undefined,
    ]);
    seen.sshdAt = sshdAt;
    if (icmp) seen.icmp = icmp;
    if (refusal) seen.refusal = refusal;
    return done();
  }
  if (outcome === 'reset') {
    seen.retries = [];
    for (let i = 0; i < RETRIES && !seen.retries.some((r) => r.outcome === 'open'); i++) seen.retries.push(await tcpProbe(address, port, timeoutMs));
    return done();
  }
  const { identities } = await operator;
  seen.handshakes = [await handshake(host, address, identities, timeoutMs, socket)];
  // Hung up before authentication: try again, a bounded number of times, to see whether others get through.
  for (let i = 0; i < RETRIES && closedEarly(seen.handshakes.at(-1)!); i++) seen.handshakes.push(await handshake(host, address, identities, timeoutMs));
  if (asUser && asUser !== host.ssh.user && seen.handshakes.at(-1)!.keyAccepted) seen.asUser = { user: asUser, handshake: await handshake(host, address, identities, timeoutMs, undefined, asUser) };
  return done();
}

function closedEarly(h: HandshakeSeen): boolean {
  return !!h.error && /lost before handshake|ECONNRESET|EPIPE|closed/i.test(h.error) && !h.methods && h.keyAccepted === undefined && !h.hostKey;
}

/** One SSH handshake as `user` (the inventory's by default): the host key's verdict, the methods offered, whether our credentials get in. */
function handshake(host: HostSpec, address: string, identities: IdentityCheck[], timeoutMs: number, sock?: Socket, user = host.ssh.user): Promise<HandshakeSeen> {
  const store = KnownHostsStore.forPath(host.knownHosts);
  const names = [lookupName(host.address, host.ssh.port), ...(host.name !== host.address ? [lookupName(host.name, host.ssh.port)] : [])];
  const knownTypes = knownKeyTypes(store.index(), names);
  const serverHostKey = hostKeyAlgorithms(knownTypes);
  const out: HandshakeSeen = { knownTypes };
  // Another user is judged by the operator's keys alone: the inventory's password is its own user's.
  const access = user === host.ssh.user ? host.ssh : { ...host.ssh, user, password: undefined };
  // Each usable identity file, then the agent, then a password: the file that gets in is known by its place.
  const queue: { method: AnyAuthMethod; identity?: string }[] = [
    { method: { type: 'none', username: access.user } },
    ...identities.flatMap((i) => (i.key ? [{ method: { type: 'publickey', username: access.user, key: i.key } as AnyAuthMethod, identity: i.path }] : [])),
    ...(access.agent ? [{ method: { type: 'agent', username: access.user, agent: access.agent } as AnyAuthMethod }] : []),
    ...(access.password !== undefined ? [{ method: { type: 'password', username: access.user, password: access.password } as AnyAuthMethod }] : []),
  ];
  let current: string | undefined;
  return new Promise((resolve) => {
    const client = new Client();
    const finish = () => {
      clearTimeout(timer);
      client.destroy();
      sock?.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => {
      out.error ??= `no SSH handshake within ${timeoutMs / 1000} s`;
      finish();
    }, timeoutMs);
    client.on('greeting', (text: string) => {
      out.greeting = text.trim().slice(0, 200);
    });
    client.on('ready', () => {
      out.keyAccepted = true;
      if (current) out.acceptedIdentity = current;
      finish();
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication') out.keyAccepted = false;
      else if (!out.hostKey || out.hostKey === 'match') out.error = err.message;
      finish();
    });
    const config: ConnectConfig = {
      ...(sock ? { sock } : { host: address, port: access.port }),
      username: access.user,
      readyTimeout: timeoutMs,
      // Known key types first, then the rest: a server offering only another type shows that key, judged changed.
      algorithms: { serverHostKey: serverHostKey as never },
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(store.index(), names, key).status;
        out.hostKey = verdict;
        out.offeredType = keyTypeOf(key);
        return verdict === 'match' || (verdict === 'unknown' && host.hostKeyPolicy === 'accept-new');
      },
      authHandler: (methodsLeft: string[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
        if (methodsLeft && !out.methods) out.methods = methodsLeft;
        const step = queue.shift();
        current = step?.identity;
        next(step?.method ?? false);
      },
    } as ConnectConfig;
    client.connect(config);
  });
}
