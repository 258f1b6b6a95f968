// The access chain: SSH as configured, then each fallback; a changed host key stops the chain.
import type { HostSpec, SshAccess } from '../config/inventory.js';
import { CommandTransport } from '../transport/command.js';
import { ConsoleTransport } from '../transport/console.js';
import { SshTransport } from '../transport/ssh.js';
import { TransportError, type Transport } from '../transport/types.js';
import { probeHost, type Probe } from '../diagnose/probe.js';

export interface AccessAttempt {
  access: string;
  error: TransportError;
}

export class Unreachable extends Error {
  constructor(
    readonly attempts: AccessAttempt[],
    readonly diagnosis?: Promise<Probe>,
  ) {
    super(attempts.map((a) => `${a.access}: ${a.error.message}`).join('; '));
    this.name = 'Unreachable';
  }
}

/** SSH to the host with `access`; through its jump host when it has one, each with its own host key check. */
export async function connectSsh(host: HostSpec, access: SshAccess, signal?: AbortSignal): Promise<SshTransport> {
  const base = { knownHosts: host.knownHosts, hostKeyPolicy: host.hostKeyPolicy, connectTimeoutMs: host.connectTimeoutMs, commandTimeoutMs: host.commandTimeoutMs, maxOutputBytes: host.maxOutputBytes };
  let via: SshTransport | undefined;
  if (access.jump) {
    const j = access.jump;
    via = await SshTransport.connect({ ...base, name: `jump ${j.address}`, address: j.address, access: { label: 'jump', port: j.port, user: j.user, identities: j.identities, password: j.password, agent: access.agent, passphrase: access.passphrase } }, signal);
  }
  try {
    const sock = via ? await via.forwardOut(host.address, access.port) : undefined;
    return await SshTransport.connect({ ...base, name: host.name, address: host.address, access, become: host.become, sock, via, primary: access === host.ssh }, signal);
  } catch (err) {
    await via?.close();
    throw err;
  }
}

export type ConnectFn = (host: HostSpec, signal?: AbortSignal) => Promise<{ transport: Transport; attempts: AccessAttempt[]; diagnosis?: Promise<Probe> }>;

/**
 * Reach the host by the first path that works: SSH, each fallback, then the console. Every failed path is kept for
 * the report, and once SSH has failed, a diagnosis from this machine runs alongside the fallbacks.
 */
export const connectHost: ConnectFn = async (host, signal) => {
  if (host.transport === 'local') return { transport: CommandTransport.local(host.become === 'sudo', host.commandTimeoutMs, host.maxOutputBytes, host.name), attempts: [] };
  if (host.transport === 'exec') return { transport: CommandTransport.exec(host.exec!, host.commandTimeoutMs, host.maxOutputBytes, host.name), attempts: [] };
  const attempts: AccessAttempt[] = [];
  let diagnosis: Promise<Probe> | undefined;
  for (const access of [host.ssh, ...host.fallbacks]) {
    try {
      return { transport: await connectSsh(host, access, signal), attempts, diagnosis };
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      attempts.push({ access: access.label, error: err });
      diagnosis ??= signal?.aborted ? undefined : probeHost(host, host.connectTimeoutMs);
      // A changed or revoked host key is a security event: that host stops here, with no fallback and no console.
      if (err.isSecurityEvent || signal?.aborted) throw new Unreachable(attempts, diagnosis);
    }
  }
  if (host.console) {
    try {
      const transport = await ConsoleTransport.connect({ name: host.name, console: host.console, become: host.become, commandTimeoutMs: host.commandTimeoutMs, maxOutputBytes: host.maxOutputBytes }, signal);
      return { transport, attempts, diagnosis };
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      attempts.push({ access: 'console', error: err });
    }
  } else {
    attempts.push({ access: 'console', error: new TransportError('unreachable', 'no console configured for this host') });
  }
  throw new Unreachable(attempts, diagnosis);
};
