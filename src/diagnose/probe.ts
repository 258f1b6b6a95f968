// Why SSH to a host fails, seen from this machine: DNS, TCP connect, banner, host key, offered methods, our key.
import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect } from 'node:net';
import ssh2, { type AnyAuthMethod, type ConnectConfig } from 'ssh2';
import type { HostSpec } from '../config/inventory.js';
import { hostKeyAlgorithms } from '../transport/host-key-check.js';
import { keyTypeOf, knownKeyTypes, lookupName, verifyHostKey } from '../transport/known-hosts.js';
import { KnownHostsStore } from '../transport/known-hosts-store.js';
import { authMethods } from '../transport/ssh.js';

const { Client } = ssh2;

export type TcpOutcome = 'open' | 'refused' | 'timeout' | 'unreachable' | 'reset' | 'not-ssh';

/** What each probe saw; `cause` names the first thing that stands between us and a shell. */
export interface Probe {
  resolved?: string[];
  tcp?: TcpOutcome;
  banner?: string;
  hostKey?: 'match' | 'unknown' | 'changed' | 'revoked';
  methods?: string[];
  keyAccepted?: boolean;
  cause: string;
  detail: string;
}

export async function probeHost(host: HostSpec, timeoutMs: number): Promise<Probe> {
  const port = host.ssh.port;
  let address = host.address;
  const probe: Partial<Probe> = {};
  if (!isIP(address)) {
    try {
      probe.resolved = (await lookup(address, { all: true })).map((a) => a.address);
      address = probe.resolved[0]!;
    } catch (err) {
      return { ...probe, cause: 'dns', detail: `${host.address} does not resolve (${(err as NodeJS.ErrnoException).code})` };
    }
  }
  const { outcome, banner } = await tcpProbe(address, port, timeoutMs);
  Object.assign(probe, { tcp: outcome, banner });
  const at = `${address}:${port}`;
  switch (outcome) {
    case 'refused':
      return { ...probe, cause: 'port-refused', detail: `${at} refused the connection (RST): sshd not running, listening on another port or address, or a firewall REJECT` };
    case 'timeout':
      return { ...probe, cause: 'firewall-drop-or-host-down', detail: `${at} did not answer within ${timeoutMs / 1000} s: a firewall DROP, or the host is down` };
    case 'unreachable':
      return { ...probe, cause: 'network-unreachable', detail: `${at}: no route (ICMP unreachable)` };
    case 'reset':
      return { ...probe, cause: 'connection-reset', detail: `${at} accepted, then closed before the SSH banner: MaxStartups reached, TCP wrappers, or sshd failing per connection` };
    case 'not-ssh':
      // sshd says so before it hangs up on a connection past its limit.
      if (/Exceeded (PerSource)?MaxStartups/i.test(banner ?? '')) return { ...probe, cause: 'maxstartups-full', detail: `${at} answered ${JSON.stringify(banner)} and closed: sshd's ${/PerSource/i.test(banner!) ? 'PerSourceMaxStartups' : 'MaxStartups'} is full (unauthenticated connections pile up); remedy: raise MaxStartups (10:30:100), find what holds connections open, read sshd's log` };
      return { ...probe, cause: 'not-ssh', detail: `${at} answers, but not with SSH (${JSON.stringify(banner)}): the wrong port or another service` };
  }
  const ssh = await sshProbe(host, timeoutMs);
  Object.assign(probe, ssh);
  if (ssh.hostKey === 'changed') return { ...probe, cause: 'host-key-changed', detail: `the host key${ssh.offeredType ? ` (${ssh.offeredType})` : ''} does not match known_hosts${ssh.knownTypes?.length ? ` (which holds ${ssh.knownTypes.join(', ')} for it)` : ''}: a reinstalled host or a man-in-the-middle; fleetfix will not log in` };
  if (ssh.hostKey === 'revoked') return { ...probe, cause: 'host-key-revoked', detail: 'the host key is marked @revoked in known_hosts: fleetfix will not log in' };
  if (ssh.hostKey === 'unknown' && host.hostKeyPolicy === 'strict') return { ...probe, cause: 'host-key-unknown', detail: `the host key is not in ${host.knownHosts} (host_key_policy: strict)` };
  if (ssh.methods && !ssh.methods.includes('publickey') && !ssh.keyAccepted) return { ...probe, cause: 'pubkey-disabled', detail: `sshd offers ${ssh.methods.join(', ') || 'nothing'}, not publickey: PubkeyAuthentication no, or AuthenticationMethods` };
  if (ssh.keyAccepted === false) return { ...probe, cause: 'key-not-accepted', detail: `our key was not accepted for ${host.ssh.user}: the key is missing from authorized_keys, or ~/.ssh / authorized_keys have modes or an owner sshd's StrictModes refuses, or AllowUsers` };
  // sshd sent its banner, then hung up in the key exchange: what MaxStartups does to a connection past its limit.
  if (ssh.error && /lost before handshake|ECONNRESET|closed/i.test(ssh.error)) return { ...probe, cause: 'dropped-in-key-exchange', detail: `${at} sent its banner, then closed the connection before authentication (${ssh.error}): sshd's MaxStartups or PerSourceMaxStartups is full (unauthenticated connections pile up), or sshd fails per connection; remedy: raise MaxStartups (10:30:100), find what holds connections open, read sshd's log` };
  if (ssh.error) return { ...probe, cause: 'ssh-error', detail: ssh.error };
  return { ...probe, cause: 'ok', detail: `SSH works: ${probe.banner}` };
}

function tcpProbe(address: string, port: number, timeoutMs: number): Promise<{ outcome: TcpOutcome; banner?: string }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: address, port });
    let connected = false;
    let data = '';
    const done = (outcome: TcpOutcome, banner?: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, banner });
    };
    const timer = setTimeout(() => (connected ? done(data ? 'not-ssh' : 'reset', data || undefined) : done('timeout')), timeoutMs);
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      const line = data.split(/\r?\n/)[0]!;
      if (data.includes('\n') || data.length > 255) done(line.startsWith('SSH-') ? 'open' : 'not-ssh', line.slice(0, 80));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (connected) return done('reset');
      done(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' ? 'unreachable' : 'timeout');
    });
    socket.on('close', () => (connected ? done(data.startsWith('SSH-') ? 'open' : 'reset', data.split(/\r?\n/)[0] || undefined) : undefined));
  });
}

/** One SSH handshake: the host key's verdict, the methods the server offers, and whether our credentials get in. */
type SshSeen = Pick<Probe, 'hostKey' | 'methods' | 'keyAccepted'> & { error?: string; offeredType?: string; knownTypes?: string[] };

function sshProbe(host: HostSpec, timeoutMs: number): Promise<SshSeen> {
  const store = KnownHostsStore.forPath(host.knownHosts);
  const names = [lookupName(host.address, host.ssh.port), ...(host.name !== host.address ? [lookupName(host.name, host.ssh.port)] : [])];
  const knownTypes = knownKeyTypes(store.index(), names);
  const serverHostKey = hostKeyAlgorithms(knownTypes);
  const out: SshSeen = { knownTypes };
  const queue: AnyAuthMethod[] = [{ type: 'none', username: host.ssh.user }, ...authMethods(host.ssh, [])];
  return new Promise((resolve) => {
    const client = new Client();
    const finish = () => {
      clearTimeout(timer);
      client.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => {
      out.error ??= `no SSH handshake within ${timeoutMs / 1000} s`;
      finish();
    }, timeoutMs);
    client.on('ready', () => {
      out.keyAccepted = true;
      finish();
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication') out.keyAccepted = false;
      else if (!out.hostKey || out.hostKey === 'match') out.error = err.message;
      finish();
    });
    const config: ConnectConfig = {
      host: host.address,
      port: host.ssh.port,
      username: host.ssh.user,
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
        next(queue.shift() ?? false);
      },
    } as ConnectConfig;
    client.connect(config);
  });
}
