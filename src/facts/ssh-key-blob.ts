// Public key blobs as sshd reads them (sshkey_fromb): each key type's fields in the SSH wire format, whole or not, and a key as ssh-keygen -l names it.
import { fingerprint } from '../util/fingerprint.js';

/** What a whole blob holds: its key type and size in bits (as ssh-keygen -l counts them). */
export interface BlobKey {
  type: string;
  bits: number;
}

const CURVES: Record<string, { curve: string; point: number; bits: number }> = {
  'ecdsa-sha2-nistp256': { curve: 'nistp256', point: 65, bits: 256 },
  'ecdsa-sha2-nistp384': { curve: 'nistp384', point: 97, bits: 384 },
  'ecdsa-sha2-nistp521': { curve: 'nistp521', point: 133, bits: 521 },
  'sk-ecdsa-sha2-nistp256@openssh.com': { curve: 'nistp256', point: 65, bits: 256 },
};

/** ssh-keygen -l's short names. */
const SHORT_NAMES: Record<string, string> = {
  'ssh-ed25519': 'ED25519',
  'sk-ssh-ed25519@openssh.com': 'ED25519-SK',
  'ssh-rsa': 'RSA',
  'ssh-dss': 'DSA',
  'ecdsa-sha2-nistp256': 'ECDSA',
  'ecdsa-sha2-nistp384': 'ECDSA',
  'ecdsa-sha2-nistp521': 'ECDSA',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'ECDSA-SK',
};

/** sshd reads no RSA key smaller than this (SSH_RSA_MINIMUM_MODULUS_SIZE). */
const RSA_MIN_BITS = 1024;

/** Reads SSH strings (a 4-byte big-endian length, then that many bytes) off a blob; undefined past its end. */
class WireReader {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}

  string(): Buffer | undefined {
    if (this.at + 4 > this.bytes.length) return undefined;
    const length = this.bytes.readUInt32BE(this.at);
    if (this.at + 4 + length > this.bytes.length) return undefined;
    const value = this.bytes.subarray(this.at + 4, this.at + 4 + length);
    this.at += 4 + length;
    return value;
  }

  get left(): number {
    return this.bytes.length - this.at;
  }
}

/** Bits of an mpint's magnitude (leading zero bytes skipped). */
function mpintBits(value: Buffer): number {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  return i === value.length ? 0 : (value.length - i - 1) * 8 + value[i]!.toString(2).length;
}

const CUT_SHORT = 'its key data is cut short (a key split over lines, or a paste that lost its end)';

/** The key a blob holds, or why sshd would not read it as a key (cut short, bytes left over, a curve it does not name). */
export function readBlob(blob: Buffer): { key: BlobKey } | { problem: string } {
  const reader = new WireReader(blob);
  const name = reader.string()?.toString('latin1');
  if (name === undefined || !/^[\x21-\x7e]+$/.test(name)) return { problem: 'its key data does not start with a key type' };
  const strings = (n: number) => Array.from({ length: n }, () => reader.string());
  let bits: number;
  if (name === 'ssh-ed25519' || name === 'sk-ssh-ed25519@openssh.com') {
    const [pk, application] = strings(name === 'ssh-ed25519' ? 1 : 2);
    if (!pk || (name !== 'ssh-ed25519' && !application)) return { problem: CUT_SHORT };
    if (pk.length !== 32) return { problem: `its ${name} key is ${pk.length} bytes long, not 32` };
    bits = 256;
  } else if (name === 'ssh-rsa') {
    const [e, n] = strings(2);
    if (!e || !n) return { problem: CUT_SHORT };
    bits = mpintBits(n);
    if (bits < RSA_MIN_BITS) return { problem: `its RSA key is ${bits} bits, and sshd reads none under ${RSA_MIN_BITS}` };
  } else if (name === 'ssh-dss') {
    const [p, q, g, y] = strings(4);
    if (!p || !q || !g || !y) return { problem: CUT_SHORT };
    bits = mpintBits(p);
  } else if (CURVES[name]) {
    const want = CURVES[name]!;
    const [curve, point, application] = strings(name.startsWith('sk-') ? 3 : 2);
    if (!curve || !point || (name.startsWith('sk-') && !application)) return { problem: CUT_SHORT };
    if (curve.toString('latin1') !== want.curve) return { problem: `its key data names curve ${JSON.stringify(curve.toString('latin1'))}, but ${name} is on ${want.curve}` };
    if (point.length !== want.point || point[0] !== 4) return { problem: `its ${name} point is not an uncompressed ${want.curve} point` };
    bits = want.bits;
  } else if (/-cert-v01@openssh\.com$/.test(name)) {
    // A certificate: its fields are the CA's business; sshd checks them when it is offered.
    return { key: { type: name, bits: 0 } };
  } else {
    return { problem: `its key data names ${JSON.stringify(name)}, which is not a key type sshd knows` };
  }
  if (reader.left > 0) return { problem: `its key data has ${reader.left} bytes after the ${name} key` };
  return { key: { type: name, bits } };
}

/** A key as `ssh-keygen -l` prints it, without the comment: "256 SHA256:... (ED25519)". */
export function describeKey(blob: Buffer): string {
  const read = readBlob(blob);
  const key = 'key' in read ? read.key : undefined;
  return `${key?.bits ?? '?'} ${fingerprint(blob)} (${(key && SHORT_NAMES[key.type]) ?? key?.type ?? 'unknown'})`;
}
