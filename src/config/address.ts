// Text that reaches a socket or ssh as a host: an IP literal in canonical form or an RFC 1123 DNS name, nothing else.
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { controlCharIn, lineString } from './fields.js';

const EXPECTED = 'expected an IPv4 address (a.b.c.d, each 0-255, no leading zeros), an IPv6 address, or a DNS name (letters, digits and "-" in labels of at most 63, dots between them)';
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A Linux interface name, as an IPv6 zone names it (or its index). */
const ZONE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

/** An address in an inventory: a host's, a jump host's, a console server's. */
export const addressString = lineString('an IP address or DNS name', addressProblem, 253);

/** A console server's HOST:PORT, or [IPv6]:PORT: the host an address as above, the port a whole number from 1 to 65535. */
export const hostPortString = lineString('HOST:PORT (an IP address or DNS name, then a port; [IPv6]:PORT)', (text) => {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(text) ?? /^([^:[\]]*):([^:]*)$/.exec(text);
  if (!m) return `got ${JSON.stringify(text)}`;
  const port = m[2]!;
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) return `got ${JSON.stringify(text)}: the port ${JSON.stringify(port)} is not a whole number from 1 to 65535 (in decimal, no leading zeros)`;
  const problem = addressProblem(m[1]!);
  return problem && `got ${JSON.stringify(text)}: ${problem}`;
});

/**
 * Why `text` is not an address fleetfix connects to; undefined when it is one. An address is ASCII; an IPv4 address
 * is in canonical dotted-quad form (what inet_aton reads otherwise, as 010.1.1.1 or 1.1, is named); an IPv6 address
 * may carry a %zone only when it is link-local (fe80::/10); a DNS name has RFC 1123 labels (an international one in
 * its xn-- form), a last label that is not all digits, and no trailing dot.
 */
export function addressProblem(text: string): string | undefined {
  const control = controlCharIn(text);
  if (control) return `found ${control}; ${EXPECTED}`;
  if (text === '') return `got an empty string; ${EXPECTED}`;
  const foreign = nonAsciiProblem(text);
  if (foreign) return foreign;
  if (text.startsWith('-')) return `${JSON.stringify(text)} starts with "-", which ssh and other programs would take for an option; ${EXPECTED}`;
  if (text.includes(':') || text.includes('%') || text.startsWith('[')) return ipv6Problem(text);
  if (isIPv4(text)) return undefined;
  const reading = inetAtonReading(text);
  if (reading) return `${JSON.stringify(text)} is not an IPv4 address in canonical form: the system's resolver (inet_aton, used by ssh and by fleetfix's connect) reads it as ${reading} (a leading 0 is octal, 0x hexadecimal, and fewer than four parts fill the last); write ${reading} if that is the host meant`;
  return dnsNameProblem(text);
}

/** The first character outside ASCII, named, and what Unicode normalisation would make of the text. */
function nonAsciiProblem(text: string): string | undefined {
  const at = text.search(/[^\x00-\x7f]/);
  if (at < 0) return undefined;
  const char = String.fromCodePoint(text.codePointAt(at)!);
  const found = `found ${JSON.stringify(char)} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at character ${at + 1}`;
  const normalised = text.normalize('NFKC');
  if (normalised !== text && !/[^\x00-\x7f]/.test(normalised)) {
    return `${found}, which Unicode normalisation (NFKC) turns into ${JSON.stringify(char.normalize('NFKC'))}: ${JSON.stringify(text)} would then be ${JSON.stringify(normalised)}, another host; an address is ASCII: ${EXPECTED}`;
  }
  const idn = domainToASCII(text);
  const hint = idn && idn !== text && !/[^\x00-\x7f]/.test(idn) ? `; an international name is written in its xn-- form (${JSON.stringify(idn)})` : '';
  return `${found}; an address is ASCII${hint}: ${EXPECTED}`;
}

function ipv6Problem(text: string): string | undefined {
  if (text.startsWith('[')) return `${JSON.stringify(text)}: an IPv6 address is written without brackets here`;
  const percent = text.indexOf('%');
  const address = percent < 0 ? text : text.slice(0, percent);
  if (!isIPv6(address)) return `${JSON.stringify(text)} is not an IPv6 address (RFC 4291: eight groups of up to four hex digits, "::" once for a run of zero groups, an IPv4 tail in canonical a.b.c.d); ${EXPECTED}`;
  if (percent < 0) return undefined;
  const zone = text.slice(percent + 1);
  if (!/^fe[89ab]/i.test(firstGroup(address))) return `${JSON.stringify(text)}: a %zone is meaningful only on a link-local address (fe80::/10), which it ties to an interface; write ${JSON.stringify(address)}`;
  if (!ZONE.test(zone) || zone === '.' || zone === '..') return `${JSON.stringify(text)}: the zone ${JSON.stringify(zone)} is not an interface name (at most 15 letters, digits, "_", "." and "-", not "-" first) or index`;
  return undefined;
}

/** The first group of an IPv6 address as four hex digits ("fe8" is 0fe8, "::1" starts with 0000). */
function firstGroup(address: string): string {
  return (address.split(':')[0] ?? '').padStart(4, '0');
}

function dnsNameProblem(text: string): string | undefined {
  if (text.endsWith('.')) {
    return `${JSON.stringify(text)} ends with ".": an absolute DNS name is refused, since fleetfix looks the host key up in known_hosts under the name as written, where ssh keeps names without the dot (and the two spellings would make one host two inventory entries); write ${JSON.stringify(text.replace(/\.+$/, ''))}`;
  }
  if (text.length > 253) return `${JSON.stringify(text.slice(0, 40))}... has ${text.length} characters; a DNS name has at most 253`;
  const labels = text.split('.');
  for (const label of labels) {
    if (label === '') return `${JSON.stringify(text)} has an empty label (two dots together, or a dot first); ${EXPECTED}`;
    if (label.length > 63) return `${JSON.stringify(text)}: the label ${JSON.stringify(label.slice(0, 20))}... has ${label.length} characters; a DNS label has at most 63`;
    const bad = /[^A-Za-z0-9-]/.exec(label);
    if (bad) return `${JSON.stringify(text)} has ${JSON.stringify(bad[0])}, which a DNS name cannot have (RFC 1123: letters, digits and "-"); ${EXPECTED}`;
    if (!LABEL.test(label)) return `${JSON.stringify(text)}: the label ${JSON.stringify(label)} starts or ends with "-" (RFC 1123: a letter or digit at each end); ${EXPECTED}`;
  }
  if (/^\d+$/.test(labels.at(-1)!)) return `${JSON.stringify(text)} is not an IPv4 address (four numbers 0-255) and not a DNS name (whose last label is never all digits); ${EXPECTED}`;
  if (labels.some((l) => /^xn--/i.test(l)) && domainToASCII(text) === '') return `${JSON.stringify(text)}: an xn-- label that is not valid Punycode (RFC 3492); ${EXPECTED}`;
  return undefined;
}

/**
 * What glibc's inet_aton reads `text` as, in canonical dotted-quad form; undefined when it reads no address. Parts
 * are decimal, octal (a leading 0) or hexadecimal (0x); with fewer than four parts the last fills the remaining bytes.
 */
export function inetAtonReading(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: bigint[] = [];
  for (const part of parts) {
    const m = /^(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(part);
    if (!m) return undefined;
    values.push(m[1] !== undefined ? BigInt(`0x${m[1]}`) : m[2] !== undefined ? BigInt(`0o${m[2] || '0'}`) : BigInt(m[3]!));
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255n)) return undefined;
  const lastBits = BigInt(8 * (4 - values.length));
  if (last >= 1n << lastBits) return undefined;
  const whole = values.reduce((acc, v, i) => acc | (v << BigInt(8 * (3 - i))), last);
  return [24n, 16n, 8n, 0n].map((shift) => String((whole >> shift) & 255n)).join('.');
}
