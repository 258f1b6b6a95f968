// One authorized_keys line as sshd reads it (auth_check_authkeys_file, sshkey_read, sshkey_advance_past_options): a
// line it skips, a key it reads, or a line that looks like a key and is not one, with why.
import type { AuthorizedKey } from './authorized-keys.js';
import { readBlob } from './ssh-key-blob.js';
import { sshdOptionsProblem } from './sshd-key-options.js';

/** What sshd makes of a line: skipped (blank, comment), a key, or broken (what it seems to hold, if anything, and why not). */
export type KeyLine = { kind: 'skipped' } | { kind: 'key'; key: AuthorizedKey } | { kind: 'broken'; problem: string; key?: AuthorizedKey };

/** The key type names sshd reads at the start of a key (peek_type_nid). */
export const KEY_TYPE = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|(ssh|ecdsa|sk)-[a-z0-9@.-]+-cert-v01@openssh\.com)$/;

/** Characters that look blank, or like nothing, at a line's start, which sshd does not skip (it skips spaces and tabs). */
const INVISIBLE_LEAD = /^[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]+/;

/** The line without the blanks and invisible characters before its first word (a byte-order mark, a no-break space). */
export function withoutInvisibleLead(line: string): string {
  const text = line.replace(/^[ \t]+/, '');
  return text.replace(INVISIBLE_LEAD, '');
}

/** One key read off the start of `text` as sshkey_read reads it, or why not; `key` is what the data holds when only the type named on the line is wrong. */
type KeyRead = { key: AuthorizedKey } | { problem: string; typeKnown: boolean; key?: AuthorizedKey };

function readKey(text: string): KeyRead {
  const typeEnd = text.search(/[ \t]/);
  const type = typeEnd < 0 ? text.replace(/\s+$/, '') : text.slice(0, typeEnd);
  if (!KEY_TYPE.test(type)) return { problem: `"${shorten(type)}" is not a key type`, typeKnown: false };
  const rest = typeEnd < 0 ? '' : text.slice(typeEnd).replace(/^[ \t]+/, '');
  // The data ends at a blank; base64 decoding skips the other white space (a CR before the newline).
  const token = /^[^ \t]*/.exec(rest)![0];
  const blob = token.replace(/[\r\n\v\f]/g, '');
  if (!blob) return { problem: `no key data after "${type}"`, typeKnown: true };
  const comment = rest.slice(token.length).replace(/^[ \t]+/, '').replace(/\s+$/, '') || undefined;
  const bytes = Buffer.from(blob, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0 || bytes.toString('base64') !== blob) return { problem: `its key data after "${type}" is not whole base64 (cut short, or a character changed)`, typeKnown: true };
  const read = readBlob(bytes);
  if ('problem' in read) return { problem: read.problem, typeKnown: true };
  if (read.key.type !== type) return { problem: `its key data is ${read.key.type}, but the line says ${type}`, typeKnown: true, key: { type: read.key.type, blob, comment } };
  return { key: { type, blob, comment } };
}

/** The index after sshd's option string at the start of `text` (its first unquoted blank), or -1 for an unclosed quote. */
function optionsEnd(text: string): number {
  let quoted = false;
  let i = 0;
  for (; i < text.length && (quoted || (text[i] !== ' ' && text[i] !== '\t')); i++) {
    if (text[i] === '\\' && text[i + 1] === '"') i++;
    else if (text[i] === '"') quoted = !quoted;
  }
  return i >= text.length && quoted ? -1 : i;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** How sshd reads `line` (one line of authorized_keys, without its newline). */
export function readKeyLine(line: string): KeyLine {
  const text = line.replace(/^[ \t]+/, '');
  if (/^[\r\v\f]*$/.test(text) || text.startsWith('#')) return { kind: 'skipped' };
  const lead = INVISIBLE_LEAD.exec(text)?.[0];
  if (lead) {
    const inner = readKeyLine(text.slice(lead.length));
    // Before a comment or nothing, it costs no key.
    if (inner.kind === 'skipped') return inner;
    const what = lead.startsWith('\ufeff') ? 'a UTF-8 byte-order mark (bytes EF BB BF)' : `U+${lead.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} (an invisible or no-break space)`;
    return { kind: 'broken', problem: `it starts with ${what}, which sshd reads as part of the first word`, key: inner.key };
  }
  const direct = readKey(text);
  if ('key' in direct && !('problem' in direct)) return { kind: 'key', key: direct.key };
  // Not a key at the start: sshd takes the first word as options and reads the key after them.
  const end = optionsEnd(text);
  if (end < 0) return { kind: 'broken', problem: 'a double quote in its options is never closed' };
  const options = text.slice(0, end);
  const after = readKey(text.slice(end).replace(/^[ \t]+/, ''));
  if (!('problem' in after)) {
    const problem = sshdOptionsProblem(options);
    const key = { ...after.key, options };
    return problem ? { kind: 'broken', problem: `its options ${shorten(options)}: ${problem}`, key } : { kind: 'key', key };
  }
  if (direct.typeKnown) return { kind: 'broken', problem: direct.problem, key: direct.key };
  if (after.typeKnown) return { kind: 'broken', problem: after.problem, key: after.key && { ...after.key, options } };
  return { kind: 'broken', problem: `not a key: neither its first word nor the word after it is a key type` };
}
