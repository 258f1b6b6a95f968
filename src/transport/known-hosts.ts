// OpenSSH known_hosts: parsing (hashed |1| entries, [host]:port, comma lists, wildcards, markers) and host key verdicts.
import { createHmac } from 'node:crypto';

export interface KnownHostEntry {
  line: number;
  marker?: 'cert-authority' | 'revoked';
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  keyBlob: Buffer;
}

export type HostKeyVerdict =
  | { status: 'match'; line: number }
  | { status: 'unknown' }
  | { status: 'changed'; lines: number[] }
  | { status: 'revoked'; line: number };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@cert-authority' || fields[0] === '@revoked') marker = fields.shift()!.slice(1) as KnownHostEntry['marker'];
    const [hosts, keyType, blob64] = fields;
    if (!hosts || !keyType || !blob64) return;
    const keyBlob = Buffer.from(blob64, 'base64');
    if (keyBlob.length === 0) return;
    const entry: KnownHostEntry = { line: i + 1, marker, patterns: [], keyType, keyBlob };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    entries.push(entry);
  });
  return entries;
}

/** The names OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.equals(entry.hashed.hash);
  }
  let matched = false;
  for (const pattern of entry.patterns) {
    const negated = pattern.startsWith('!');
    if (globMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

const globs = new Map<string, RegExp>();

function globMatch(pattern: string, name: string): boolean {
  let re = globs.get(pattern);
  if (!re) globs.set(pattern, (re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i')));
  return re.test(name);
}

/**
 * Entries ready for lookups by many hosts: those naming hosts literally are found by name; only hashed entries and
 * those with wildcards or negations are tried one by one. Without this, a fleet's lookups grow with hosts x lines.
 */
export interface KnownHostsIndex {
  literal: Map<string, KnownHostEntry[]>;
  scanned: KnownHostEntry[];
  revoked: KnownHostEntry[];
}

const isLiteral = (pattern: string) => !/[*?]/.test(pattern) && !pattern.startsWith('!');

export function indexKnownHosts(entries: KnownHostEntry[]): KnownHostsIndex {
  const index: KnownHostsIndex = { literal: new Map(), scanned: [], revoked: entries.filter((e) => e.marker === 'revoked') };
  for (const entry of entries) {
    if (entry.marker !== undefined) continue;
    if (entry.hashed || !entry.patterns.every(isLiteral)) {
      index.scanned.push(entry);
      continue;
    }
    for (const name of new Set(entry.patterns.map((p) => p.toLowerCase()))) {
      const list = index.literal.get(name);
      if (list) list.push(entry);
      else index.literal.set(name, [entry]);
    }
  }
  return index;
}

/** Plain key entries (no marker) for any of `names`, in file order. */
function candidates(index: KnownHostsIndex, names: string[]): KnownHostEntry[] {
  const found = new Set<KnownHostEntry>();
  for (const name of names) for (const entry of index.literal.get(name.toLowerCase()) ?? []) found.add(entry);
  for (const entry of index.scanned) if (names.some((n) => entryMatches(entry, n))) found.add(entry);
  return [...found].sort((a, b) => a.line - b.line);
}

/** Key types known for the host, so the server can be asked for a key we can check. */
export function knownKeyTypes(index: KnownHostsIndex, names: string[]): string[] {
  return [...new Set(candidates(index, names).map((e) => e.keyType))];
}

export function verifyHostKey(index: KnownHostsIndex, names: string[], keyBlob: Buffer): HostKeyVerdict {
  const revoked = index.revoked.find((e) => e.keyBlob.equals(keyBlob));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const known = candidates(index, names);
  const match = known.find((e) => e.keyBlob.equals(keyBlob));
  if (match) return { status: 'match', line: match.line };
  if (known.length === 0) return { status: 'unknown' };
  return { status: 'changed', lines: known.map((e) => e.line) };
}

/** The key type named inside an SSH public key blob. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

export function formatKnownHostLine(name: string, keyBlob: Buffer): string {
  return `${name} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}
