// authorized_keys: the operator's key line as given, and edits of a file that keep every other line as it was.
import { KEY_TYPE, readKeyLine, withoutInvisibleLead, type KeyLine } from './sshd-key-line.js';

export interface AuthorizedKey {
  options?: string;
  type: string;
  blob: string;
  comment?: string;
}

/**
 * Parse a key line as given to fleetfix (the `key` parameter, checked by keyLineProblem): options, type, blob and
 * comment; undefined for blanks, comments and what is no key line. A line of a host's file is judged by readKeyLine,
 * as sshd reads it.
 */
export function parseAuthorizedKey(line: string): AuthorizedKey | undefined {
  const text = line.trim();
  if (!text || text.startsWith('#')) return undefined;
  let rest = text;
  let options: string | undefined;
  const firstWord = /^\S+/.exec(rest)?.[0] ?? '';
  if (!KEY_TYPE.test(firstWord)) {
    const end = endOfOptions(rest);
    if (end < 0) return undefined;
    options = rest.slice(0, end);
    rest = rest.slice(end).trimStart();
  }
  const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,3})(?:\s+(.*))?$/.exec(rest);
  if (!m || !KEY_TYPE.test(m[1]!)) return undefined;
  return { options, type: m[1]!, blob: m[2]!, comment: m[3]?.trim() || undefined };
}

/** Index of the first unquoted blank: options may hold quoted strings with spaces and escaped quotes. */
function endOfOptions(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) return i;
  }
  return -1;
}

/** Two keys are the same key when type and blob match; options and comments do not matter. */
export function sameKey(a: AuthorizedKey, b: AuthorizedKey): boolean {
  return a.type === b.type && a.blob === b.blob;
}

/** Content with `key` appended as its own line; every existing line is kept as it was, in order. */
export function appendKeyLine(content: string, keyLine: string): string {
  const sep = content.length > 0 && !content.endsWith('\n') ? '\n' : '';
  return `${content}${sep}${keyLine.trim()}\n`;
}

/** An edit of authorized_keys: the new content, and what sshd makes of the lines it keeps. */
export interface KeyEdit {
  after: string;
  /** What the edit does to the key: nothing, its options set, a broken copy repaired, the key added, or removed. */
  action: 'none' | 'options' | 'repair' | 'append' | 'remove';
  /** The broken copy of the key the edit repairs: its first and last line (from 1), and what was wrong with it. */
  repaired?: { first: number; last: number; problem: string };
  /** The other lines sshd reads no key from though they look like keys, with why: left as they are. */
  broken: { line: number; problem: string }[];
}

/** The lines of a file, each with its line end, and how sshd reads each. */
function readLines(content: string): { text: string; read: KeyLine }[] {
  return content.split(/(?<=\n)/).map((text) => ({ text, read: readKeyLine(text.replace(/\n$/, '')) }));
}

const lineEnd = (text: string) => /\r?\n$/.exec(text)?.[0] ?? '';

/** The broken lines of `lines` outside `first`..`last` (from 1). */
function brokenOutside(lines: { read: KeyLine }[], first = 0, last = -1): KeyEdit['broken'] {
  return lines.flatMap(({ read }, i) => (read.kind === 'broken' && (i + 1 < first || i + 1 > last) ? [{ line: i + 1, problem: read.problem }] : []));
}

/**
 * Content where sshd reads `key` with exactly `options` (none when undefined). A line holding it with other options
 * becomes `line`. Where no line sshd reads holds it, the first broken copy of it is repaired: a line that holds it
 * behind a byte-order mark loses the mark, and any other broken copy, or one split over several lines (a paste that
 * wrapped), becomes `line`; with none, `line` is appended. Every other line is kept as it was, in order.
 */
export function wantKey(content: string, key: AuthorizedKey, line: string, options: string | undefined): KeyEdit {
  const lines = readLines(content);
  const wanted = (read: KeyLine) => read.kind === 'key' && (read.key.options ?? '') === (options ?? '');
  if (lines.some(({ read }) => read.kind === 'key' && sameKey(read.key, key))) {
    const after = lines.map(({ text, read }) => (read.kind === 'key' && sameKey(read.key, key) && !wanted(read) ? `${line}${lineEnd(text)}` : text)).join('');
    return { after, action: after === content ? 'none' : 'options', broken: brokenOutside(lines) };
  }
  const copy = brokenCopy(lines, key);
  if (!copy) return { after: appendKeyLine(content, line), action: 'append', broken: brokenOutside(lines) };
  const repaired = readKeyLine(copy.text);
  const text = wanted(repaired) ? copy.text : line;
  const after = [...lines.slice(0, copy.first - 1).map((l) => l.text), `${text}${lineEnd(lines[copy.last - 1]!.text)}`, ...lines.slice(copy.last).map((l) => l.text)].join('');
  return { after, action: 'repair', repaired: { first: copy.first, last: copy.last, problem: copy.problem }, broken: brokenOutside(lines, copy.first, copy.last) };
}

/** The most lines one key split over by a wrapping paste is looked for in (a 16384-bit RSA key at 40 columns). */
const MOST_SPLIT_LINES = 80;

/**
 * The first broken copy of `key`: a line that holds it but is broken (what it holds once its leading mark is dropped,
 * as `text`), or lines that hold it only joined (a line ending in the key type or the start of its data, and the
 * lines after it that go on with the data, the last one with any comment).
 */
function brokenCopy(lines: { text: string; read: KeyLine }[], key: AuthorizedKey): { first: number; last: number; text: string; problem: string } | undefined {
  for (let i = 0; i < lines.length; i++) {
    const { text, read } = lines[i]!;
    if (read.kind !== 'broken') continue;
    const bare = text.replace(/\r?\n$/, '');
    if (read.key && sameKey(read.key, key)) return { first: i + 1, last: i + 1, text: withoutInvisibleLead(bare), problem: read.problem };
    // A line cut inside the key: TYPE and the start of the data (or none), with nothing after it.
    const start = new RegExp(`(^|[ \\t])${key.type.replace(/[.]/g, '\\.')}(?:[ \\t]+([A-Za-z0-9+/=]*))?[ \\t]*\\r?$`).exec(bare);
    const head = start?.[2] ?? '';
    if (!start || !key.blob.startsWith(head)) continue;
    let joined = bare.replace(/[ \t]*\r?$/, '') + (head ? '' : ' ');
    let rest = key.blob.slice(head.length);
    for (let j = i + 1; j < lines.length && j - i < MOST_SPLIT_LINES && rest; j++) {
      const part = lines[j]!.text.replace(/\r?\n$/, '').replace(/\r$/, '');
      if (part.startsWith(rest) && (part.length === rest.length || /^[ \t]/.test(part.slice(rest.length)))) {
        return { first: i + 1, last: j + 1, text: joined + part, problem: `it is split over ${j - i + 1} lines (a paste that wrapped), and sshd reads each line on its own` };
      }
      if (!rest.startsWith(part) || !part) break;
      joined += part;
      rest = rest.slice(part.length);
    }
  }
  return undefined;
}

/** The most broken lines a check names one by one; the rest are counted. */
const MOST_NAMED = 10;

/** A finding for each broken line sshd reads no key from (MOST_NAMED of them, then how many more). */
export function brokenLineFindings(file: string, broken: KeyEdit['broken']): string[] {
  const named = broken.slice(0, MOST_NAMED).map(({ line, problem }) => `${file} line ${line}: sshd reads no key from it: ${problem}`);
  return broken.length > MOST_NAMED ? [...named, `${file}: ${broken.length - MOST_NAMED} more lines sshd reads no key from`] : named;
}

/** Content without the lines that hold `key`, as sshd reads it (any options or comment) or in a broken line. */
export function dropKey(content: string, key: AuthorizedKey): KeyEdit {
  const lines = readLines(content);
  const holds = (read: KeyLine) => read.kind !== 'skipped' && read.key !== undefined && sameKey(read.key, key);
  const after = lines.filter(({ read }) => !holds(read)).map((l) => l.text).join('');
  return { after, action: after === content ? 'none' : 'remove', broken: brokenOutside(lines).filter(({ line }) => !holds(lines[line - 1]!.read)) };
}

/**
 * The key type a base64 blob names in its first SSH string (a 4-byte big-endian length, then the name); undefined
 * when the blob is not canonical base64 or does not start with such a string.
 */
export function decodeBlobType(blob: string): string | undefined {
  if (blob.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.toString('base64') !== blob || bytes.length < 4) return undefined;
  const length = bytes.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > bytes.length) return undefined;
  const name = bytes.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(name) ? name : undefined;
}

/** Longer than any real public key line (a 16384-bit RSA key is about 2,800 characters). */
const MAX_KEY_LINE = 16384;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `line` is not exactly one public key line, `TYPE BLOB [COMMENT]` without options, whose blob decodes and
 * names TYPE; undefined when it is.
 */
export function keyLineProblem(line: string): string | undefined {
  if (CONTROL.test(line)) return 'it holds a control character (a newline would start another line)';
  if (line.length > MAX_KEY_LINE) return `it is ${line.length} characters long, more than any public key (${MAX_KEY_LINE})`;
  const m = /^ *(\S+)(?: +(\S+))?(?: +(.*?))? *$/.exec(line);
  if (!m) return 'it is empty';
  const type = m[1]!;
  const blob = m[2];
  if (!KEY_TYPE.test(type)) {
    const parsed = parseAuthorizedKey(line);
    if (parsed?.options !== undefined) return `it starts with options (${parsed.options}); give them in "options:" and the key alone in "key:"`;
    return `"${type}" is not a key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com, ...)`;
  }
  if (blob === undefined) return `the base64 key data after "${type}" is missing`;
  const named = decodeBlobType(blob);
  if (named === undefined) return `the key data after "${type}" is not base64 of an SSH public key`;
  if (named !== type) return `the key data names ${named}, but the line says ${type}`;
  return undefined;
}

/** authorized_keys options sshd knows, and whether each takes a ="value". */
const KEY_OPTIONS = new Map<string, boolean>([
  ...['agent-forwarding', 'cert-authority', 'no-agent-forwarding', 'no-port-forwarding', 'no-pty', 'no-user-rc', 'no-x11-forwarding', 'no-touch-required', 'port-forwarding', 'pty', 'restrict', 'user-rc', 'verify-required', 'x11-forwarding'].map((o) => [o, false] as const),
  ...['command', 'environment', 'expiry-time', 'from', 'permitlisten', 'permitopen', 'principals', 'tunnel'].map((o) => [o, true] as const),
]);

/** Why `options` is not an option list sshd accepts (`from="10.0.0.0/8",no-pty`), or undefined when it is. */
export function keyOptionsProblem(options: string): string | undefined {
  if (CONTROL.test(options)) return 'they hold a control character (a newline would start another line)';
  if (options.length > MAX_KEY_LINE) return `they are ${options.length} characters long (at most ${MAX_KEY_LINE})`;
  // The same tokenizer that reads options off a line: they must end exactly where the key type would begin.
  if (endOfOptions(`${options} `) !== options.length) return 'expected options separated by commas, with blanks only inside double quotes';
  for (const option of splitOptions(options)) {
    const m = /^([A-Za-z0-9-]+)(="(?:[^"\\]|\\.)*")?$/.exec(option);
    const takesValue = m ? KEY_OPTIONS.get(m[1]!.toLowerCase()) : undefined;
    if (!m || takesValue === undefined) return `"${option}" is not an option sshd knows (${[...KEY_OPTIONS.keys()].join(', ')})`;
    if (takesValue !== (m[2] !== undefined)) return takesValue ? `"${m[1]}" needs a value: ${m[1]}="..."` : `"${m[1]}" takes no value`;
  }
  return undefined;
}

/** The options of a list, split at commas outside double quotes. */
function splitOptions(options: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      parts.push(options.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(options.slice(start));
  return parts;
}
