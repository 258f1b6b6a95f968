// SSH transport on ssh2: verified host keys, key/agent/password auth, one connection reused for every script.
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import ssh2, { type AgentAuthMethod, type ClientChannel, type ConnectConfig, type ParsedKey, type PasswordAuthMethod, type PublicKeyAuthMethod } from 'ssh2';
import type { HostKeyPolicy, SshAccess } from '../config/inventory.js';
import { fingerprint } from '../util/fingerprint.js';
import { keyTypeOf, knownKeyTypes, lookupName, verifyHostKey } from './known-hosts.js';
import { KnownHostsStore } from './known-hosts-store.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './types.js';

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
  /** An already open stream to the host (a jump host's forwardOut). */
  sock?: Duplex;
  /** Closed together with this connection (the jump host it goes through). */
  via?: SshTransport;
}

const KEX = ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group14-sha256', 'diffie-hellman-group16-sha512'] as const;
const HOST_KEY_ALGOS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

export class SshTransport implements Transport {
  private closed = false;
  private lostReason?: TransportError;
  private readonly pending = new Set<(err: TransportError) => void>();

  private constructor(
    private readonly client: InstanceType<typeof Client>,
    readonly access: string,
    private readonly target: SshTarget,
    private readonly sudo: boolean,
  ) {
    client.on('close', () => this.lose(new TransportError('connection-lost', `connection to ${target.name} was lost`)));
    client.on('error', (err) => this.lose(new TransportError('connection-lost', `connection to ${target.name} failed: ${err.message}`)));
  }

  static async connect(target: SshTarget, signal?: AbortSignal): Promise<SshTransport> {
    const client = new Client();
    const hostKey = { verdict: '' as string };
    const unusable: string[] = [];
    const config = buildConfig(target, hostKey, unusable);
    if ((config.authHandler as unknown[]).length === 0) {
      throw new TransportError('auth-failed', `no usable credentials for ${target.access.user}@${target.address}${unusable.length ? `: ${unusable.join('; ')}` : ' (no identity, agent or password configured)'}`);
    }
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: TransportError) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          client.destroy();
          reject(err);
        } else resolve();
      };
      const onAbort = () => settle(new TransportError('connect-timeout', `connecting to ${target.name} was cancelled`));
      // ssh2 may emit several errors while a failed connection unwinds: the listener stays for all of them.
      client.on('error', (err: Error & { level?: string; code?: string }) => settle(classifyConnectError(err, target, hostKey.verdict, unusable)));
      client.once('ready', () => settle());
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      client.connect(config);
      // Small packets go out at once: with Nagle's algorithm on, each round trip can wait for a delayed ACK (~40 ms).
      client.setNoDelay(true);
    });
    const sudo = target.become === 'sudo' && target.access.user !== 'root';
    const transport = new SshTransport(client, target.access.label, target, sudo);
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
      this.client.exec(command, (err, ch) => {
        if (err) return finish(() => reject(new TransportError('connection-lost', `cannot open a session on ${this.target.name}: ${err.message}`)));
        stream = ch;
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errOut.push(d));
        ch.on('close', (code: number | null, signal?: string) => {
          finish(() => resolve({ code: code ?? (signal ? 128 : 255), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') }));
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.target.via) await this.target.via.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }

  private lose(err: TransportError): void {
    if (!this.closed && !this.lostReason) this.lostReason = err;
    for (const reject of [...this.pending]) reject(this.lostReason ?? err);
  }
}

function buildConfig(target: SshTarget, hostKey: { verdict: string }, unusable: string[]): ConnectConfig {
  const { access } = target;
  const store = KnownHostsStore.forPath(target.knownHosts);
  const names = [lookupName(target.address, access.port)];
  if (target.name !== target.address) names.push(lookupName(target.name, access.port));
  const knownTypes = knownKeyTypes(store.index(), names);
  const serverHostKey = knownTypes.flatMap((t) => HOST_KEY_ALGOS[t] ?? []);
  const auth = authMethods(access, unusable);
  return {
    host: target.address,
    port: access.port,
    sock: target.sock as ConnectConfig['sock'],
    username: access.user,
    readyTimeout: target.connectTimeoutMs,
    keepaliveInterval: 15000,
    keepaliveCountMax: 4,
    authHandler: auth,
    algorithms: {
      kex: [...KEX] as NonNullable<ConnectConfig['algorithms']>['kex'],
      ...(serverHostKey.length ? { serverHostKey: serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } : {}),
    },
    hostVerifier: (keyBlob: Buffer) => {
      const verdict = verifyHostKey(store.index(), names, keyBlob);
      const fp = `${keyTypeOf(keyBlob)} ${fingerprint(keyBlob)}`;
      switch (verdict.status) {
        case 'match':
          return true;
        case 'revoked':
          hostKey.verdict = `host key ${fp} of ${target.name} is marked @revoked in ${store.path}:${verdict.line}`;
          return false;
        case 'changed':
          hostKey.verdict = `HOST KEY CHANGED for ${target.name} (${names[0]}): the server offered ${fp}, which does not match ${store.path} line ${verdict.lines.join(', ')}. Possible man-in-the-middle; refusing to connect.`;
          return false;
        case 'unknown':
          if (target.hostKeyPolicy === 'accept-new') {
            store.add(names[0]!, keyBlob);
            return true;
          }
          hostKey.verdict = `host key of ${target.name} (${names[0]}) is not in ${store.path} (server offered ${fp}); add it, or use host_key_policy: accept-new`;
          return false;
      }
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

function classifyConnectError(err: Error & { level?: string; code?: string }, target: SshTarget, hostKeyVerdict: string, unusable: string[]): TransportError {
  const where = `${target.access.user}@${target.address}:${target.access.port}`;
  if (hostKeyVerdict) return new TransportError(hostKeyVerdict.startsWith('HOST KEY CHANGED') ? 'host-key-changed' : 'host-key-unknown', hostKeyVerdict);
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
