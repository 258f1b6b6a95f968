// What a server's host key means for a connection, as OpenSSH's strict checking decides: accept, learn, or refuse.
import type { HostKeyPolicy } from '../config/inventory.js';
import { fingerprint } from '../util/fingerprint.js';
import { keyTypeOf, knownKeyTypes, verifyHostKey, type KnownHostsIndex } from './known-hosts.js';
import type { TransportErrorKind } from './types.js';

/** The algorithms that present a key of each type, in the order ssh2 prefers them. */
const ALGORITHMS_BY_TYPE: [string, string[]][] = [
  ['ssh-ed25519', ['ssh-ed25519']],
  ['ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
  ['ecdsa-sha2-nistp384', ['ecdsa-sha2-nistp384']],
  ['ecdsa-sha2-nistp521', ['ecdsa-sha2-nistp521']],
  ['ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']],
];

/**
 * The host key algorithms to offer, ordered as OpenSSH orders HostKeyAlgorithms: those of the key types known for
 * the host first, then every other. A server that still has a known type presents it; one that has only another
 * type presents that key, which is then judged as changed, instead of failing to negotiate.
 */
export function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const known = new Set(knownTypes);
  const first = ALGORITHMS_BY_TYPE.filter(([type]) => known.has(type));
  const rest = ALGORITHMS_BY_TYPE.filter(([type]) => !known.has(type));
  return [...first, ...rest].flatMap(([, algorithms]) => algorithms);
}

export type HostKeyRefusal = Extract<TransportErrorKind, 'host-key-changed' | 'host-key-revoked' | 'host-key-unknown'>;

export type HostKeyDecision = { accept: true; learn: boolean } | { accept: false; kind: HostKeyRefusal; message: string };

export interface HostKeyContext {
  /** The host as the report names it, and the name it is looked up by in known_hosts. */
  host: string;
  lookupName: string;
  knownHostsPath: string;
  policy: HostKeyPolicy;
}

/**
 * Accept a key known for the host; learn an unknown one under accept-new; refuse a revoked key, a key other than the
 * known ones (of their type or of another type: a server that no longer offers the known type is a changed key, as
 * for OpenSSH), and under strict an unknown one.
 */
export function judgeHostKey(index: KnownHostsIndex, names: string[], keyBlob: Buffer, ctx: HostKeyContext): HostKeyDecision {
  const verdict = verifyHostKey(index, names, keyBlob);
  const offered = `${keyTypeOf(keyBlob)} ${fingerprint(keyBlob)}`;
  switch (verdict.status) {
    case 'match':
      return { accept: true, learn: false };
    case 'revoked':
      return { accept: false, kind: 'host-key-revoked', message: `REVOKED HOST KEY for ${ctx.host} (${ctx.lookupName}): the server offered ${offered}, which is marked @revoked in ${ctx.knownHostsPath}:${verdict.line}. Refusing to connect.` };
    case 'changed': {
      const knownTypes = knownKeyTypes(index, names);
      const why = knownTypes.includes(keyTypeOf(keyBlob))
        ? `which does not match ${ctx.knownHostsPath} line ${verdict.lines.join(', ')}`
        : `a key of another type than ${ctx.knownHostsPath} holds for it (${knownTypes.join(', ')}, line ${verdict.lines.join(', ')}): the server no longer offers the known key`;
      return { accept: false, kind: 'host-key-changed', message: `HOST KEY CHANGED for ${ctx.host} (${ctx.lookupName}): the server offered ${offered}, ${why}. Possible man-in-the-middle; refusing to connect.` };
    }
    case 'unknown':
      if (ctx.policy === 'accept-new') return { accept: true, learn: true };
      return { accept: false, kind: 'host-key-unknown', message: `host key of ${ctx.host} (${ctx.lookupName}) is not in ${ctx.knownHostsPath} (server offered ${offered}); add it, or use host_key_policy: accept-new` };
  }
}
