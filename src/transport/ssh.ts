// SSH transport on ssh2: verified host keys, key/agent/password auth, one connection reused for every script.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, { type AgentAuthMethod, type ClientChannel, type ConnectConfig, type ParsedKey, type PasswordAuthMethod, type PublicKeyAuthMethod } from 'ssh2';
import type { HostKeyPolicy, SshAccess } from '../config/inventory.js';
import { hostKeyAlgorithms, judgeHostKey } from './host-key-check.js';
import { knownKeyTypes, lookupName } from './known-hosts.js';
import { KnownHostsStore } from './known-hosts-store.js';
import { CappedOutput, outputLimitError } from './output-cap.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport, type TransportCapabilities } from './types.js';

const { Client, utils } = ssh2;

export interface SshTarget {
  name: string;
  address: string;
  access: SshAccess;
  knownHosts: string;
  hostKeyPolicy: HostKeyPolicy;
  become?: 'sudo';
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** The most one script may send back, stdout and stderr together. */
  maxOutputBytes: number;
  /** An already open stream to the host (a jump host's forwardOut). */
  sock?: Duplex;
  /** Closed together with this connection (the jump host it goes through). */
  via?: SshTransport;
  /** This is the host's primary SSH login (see TransportCapabilities). */
  primary?: boolean;
}

const KEX = ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group14-sha256', 'diffie-hellman-group16-sha512'] as const;
/** How long a closing connection waits for the server's goodbye before its socket is destroyed. */
const CLOSE_WAIT_MS = 2000;

export class SshTransport implements Transport {
  readonly capabilities: TransportCapabilities;
  private closed = false;
  private lostReason?: TransportError;
  private readonly pending = new Set<(err: TransportError) => void>();

  private constructor(
    private readonly client: InstanceType<typeof Client>,
    private readonly sock: Duplex,
    readonly access: string,
    private readonly target: SshTarget,
    private readonly sudo: boolean,
  ) {
    this.capabilities = { mergesStderr: false, primaryLogin: target.primary === true };
    client.on('close', () => this.lose(new TransportError('connection-lost', `connection to ${target.name} was lost`)));
    client.on('error', (err) => this.lose(new TransportError('connection-lost', `connection to ${target.name} failed: ${err.message}`)));
  }

  static async connect(target: SshTarget, signal?: AbortSignal): Promise<SshTransport> {
    const client = new Client();
    const hostKey: { refusal?: TransportError } = {};
    const unusable: string[] = [];
    if (signal?.aborted) throw new TransportError('connect-timeout', `connecting to ${target.name} was cancelled`);
    const config = buildConfig(target, hostKey, unusable);
    if ((config.authHandler as unknown[]).length === 0) {
      throw new TransportError('auth-failed', `no usable credentials for ${target.access.user}@${target.address}${unusable.length ? `: ${unusable.join('; ')}` : ' (no identity, agent or password configured)'}`);
    }
    // The socket is ours, so that close() can always destroy it (ssh2's destroy() does nothing once end() was called).
    const sock: Duplex = target.sock ?? tcpConnect({ host: target.address, port: target.access.port });
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: TransportError) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          sock.destroy();
          reject(err);
        } else resolve();
      };
      const onAbort = () => settle(new TransportError('connect-timeout', `connecting to ${target.name} was cancelled`));
      // ssh2 may emit several errors while a failed connection unwinds: the listener stays for all of them.
      client.on('error', (err: Error & { level?: string; code?: string }) => settle(classifyConnectError(err, target, hostKey.refusal, unusable)));
      // A server may hang up before authentication without any error (sshd does, for a user name it cannot take).
      client.on('close', () => settle(hostKey.refusal ?? new TransportError('connection-lost', `${target.access.user}@${target.address}:${target.access.port}: the server closed the connection before authentication completed`)));
      client.once('ready', () => settle());
      signal?.addEventListener('abort', onAbort, { once: true });
      client.connect({ ...config, sock: sock as ConnectConfig['sock'] });
      // Small packets go out at once: with Nagle's algorithm on, each round trip can wait for a delayed ACK (~40 ms).
      client.setNoDelay(true);
    });
    const sudo = target.become === 'sudo' && target.access.user !== 'root';
    const transport = new SshTransport(client, sock, target.access.label, target, sudo);
    if (sudo) {
      const probe = await transport.exec('exit 0');
      if (probe.code !== 0) {
        await transport.close();
        throw new TransportError('become-failed', `sudo -n failed for ${target.access.user} on ${target.name}: ${probe.stderr.trim() || `exit ${probe.code}`}`);
      }
    }
    return transport;
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.lostReason) return Promise.reject(this.lostReason);
    if (this.closed) return Promise.reject(new TransportError('connection-lost', `connection to ${this.target.name} is closed`));
    const timeoutMs = opts.timeoutMs ?? this.target.commandTimeoutMs;
    const command = this.sudo ? 'sudo -n -- sh -s' : 'sh -s';
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(onLost);
        fn();
      };
      const onLost = (err: TransportError) => finish(() => reject(err));
      this.pending.add(onLost);
      const timer = setTimeout(() => {
        finish(() => reject(new TransportError('command-timeout', `command on ${this.target.name} did not finish within ${timeoutMs / 1000} s`)));
        stream?.close();
      }, timeoutMs);
      let stream: ClientChannel | undefined;
      const { maxOutputBytes } = this.target;
      // Past the limit the channel is closed: sshd hangs up on the script, and nothing more is kept.
      const output = new CappedOutput(maxOutputBytes, (received) => {
        finish(() => reject(outputLimitError(this.target.name, maxOutputBytes, received)));
        stream?.close();
      });
      this.client.exec(command, (err, ch) => {
        if (err) return finish(() => reject(new TransportError('connection-lost', `cannot open a session on ${this.target.name}: ${err.message}`)));
        stream = ch;
        ch.on('data', output.stdout);
        ch.stderr.on('data', output.stderr);
        ch.on('close', (code: number | null, signal?: string) => {
          finish(() => resolve(output.result(code ?? (signal ? 128 : 255))));
        });
        ch.end(script);
      });
    });
  }

  /** A TCP stream from this host to `address:port`, for reaching a host through this one (a jump host). */
  forwardOut(address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, address, port, (err, stream) => {
        if (err) reject(new TransportError('unreachable', `jump host ${this.target.name} cannot reach ${address}:${port}: ${err.message}`));
        else resolve(stream);
      });
    });
  }

  /**
   * Say goodbye and wait briefly for the server's; then destroy the socket whatever happened. A host that stopped
   * answering never acknowledges the goodbye, and a socket only ended would hold the process open for as long as the
   * kernel retries its FIN (about 15 minutes).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.lostReason && !this.sock.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_WAIT_MS);
        this.client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        this.client.end();
      });
    }
    this.sock.destroy();
    if (this.target.via) await this.target.via.close();
  }

  private lose(err: TransportError): void {
    if (!this.closed && !this.lostReason) this.lostReason = err;
    for (const reject of [...this.pending]) reject(this.lostReason ?? err);
  }
}

function buildConfig(target: SshTarget, hostKey: { refusal?: TransportError }, unusable: string[]): ConnectConfig {
  const { access } = target;
  const store = KnownHostsStore.forPath(target.knownHosts);
  const names = [lookupName(target.address, access.port)];
  if (target.name !== target.address) names.push(lookupName(target.name, access.port));
  const serverHostKey = hostKeyAlgorithms(knownKeyTypes(store.index(), names));
  const auth = authMethods(access, unusable);
  return {
    host: target.address,
    port: access.port,
    username: access.user,
    readyTimeout: target.connectTimeoutMs,
    keepaliveInterval: 15000,
    keepaliveCountMax: 4,
    authHandler: auth,
    algorithms: {
      kex: [...KEX] as NonNullable<ConnectConfig['algorithms']>['kex'],
      serverHostKey: serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
    },
    hostVerifier: (keyBlob: Buffer) => {
      const decision = judgeHostKey(store.index(), names, keyBlob, { host: target.name, lookupName: names[0]!, knownHostsPath: store.path, policy: target.hostKeyPolicy });
      if (!decision.accept) {
        hostKey.refusal = new TransportError(decision.kind, decision.message);
        return false;
      }
      if (decision.learn) store.add(names[0]!, keyBlob);
      return true;
    },
  } as ConnectConfig;
}

/** Every way `access` may authenticate, in order: keys, agent, password. Keys that cannot be loaded go to `unusable`. */
export function authMethods(access: SshAccess, unusable: string[]): (PublicKeyAuthMethod | AgentAuthMethod | PasswordAuthMethod)[] {
  const auth: (PublicKeyAuthMethod | AgentAuthMethod | PasswordAuthMethod)[] = [];
  for (const path of access.identities) {
    const key = loadKey(path, access.passphrase);
    if (typeof key === 'string') unusable.push(key);
    else auth.push({ type: 'publickey', username: access.user, key });
  }
  if (access.agent) auth.push({ type: 'agent', username: access.user, agent: access.agent });
  if (access.password !== undefined) auth.push({ type: 'password', username: access.user, password: access.password });
  return auth;
}

const keys = new Map<string, ParsedKey | string>();

/** The parsed key, or why it cannot be used; parsed once per run, however many hosts use it. */
function loadKey(path: string, passphrase: string | undefined): ParsedKey | string {
  const cacheKey = `${path}\0${passphrase ?? ''}`;
  let key = keys.get(cacheKey);
  if (key === undefined) keys.set(cacheKey, (key = parseKeyFile(path, passphrase)));
  return key;
}

function parseKeyFile(path: string, passphrase: string | undefined): ParsedKey | string {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  const parsed = utils.parseKey(data, passphrase);
  return parsed instanceof Error ? `cannot use ${path}: ${parsed.message}` : parsed;
}

function classifyConnectError(err: Error & { level?: string; code?: string }, target: SshTarget, hostKeyRefusal: TransportError | undefined, unusable: string[]): TransportError {
  const where = `${target.access.user}@${target.address}:${target.access.port}`;
  if (hostKeyRefusal) return hostKeyRefusal;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new TransportError('connect-refused', `connect to ${where}: connection refused`);
    case 'ETIMEDOUT':
      return new TransportError('connect-timeout', `connect to ${where}: timed out`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new TransportError('unreachable', `connect to ${where}: ${err.code === 'EHOSTUNREACH' ? 'no route to host' : 'network unreachable'}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TransportError('dns', `cannot resolve ${target.address}`);
    case 'ECONNRESET':
      return new TransportError('connection-lost', `connection to ${where} was reset`);
  }
  if (err.level === 'client-timeout') return new TransportError('connect-timeout', `${where}: no SSH handshake within ${target.connectTimeoutMs / 1000} s`);
  if (err.level === 'client-authentication') return new TransportError('auth-failed', `${where}: authentication failed (methods tried: ${describeAuth(target.access)})${unusable.length ? `; ${unusable.join('; ')}` : ''}`);
  return new TransportError('protocol', `${where}: ${err.message}`);
}

function describeAuth(access: SshAccess): string {
  const methods = [...access.identities.map((p) => `key ${p}`), access.agent ? 'agent' : '', access.password !== undefined ? 'password' : ''].filter(Boolean);
  return methods.join(', ') || 'none configured';
}
