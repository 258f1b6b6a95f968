// authorized_keys lines: options, key type, base64 blob and comment, as sshd reads them.

export interface AuthorizedKey {
  options?: string;
  type: string;
  blob: string;
  comment?: string;
}

const KEY_TYPE = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|(ssh|ecdsa|sk)-[a-z0-9@.-]+-cert-v01@openssh\.com)$/;

/** Parse one line; undefined for blanks, comments and lines sshd would not accept as a key. */
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

/**
 * Content where `key` is held only with exactly `options` (none when undefined): every line holding it with other
 * options becomes `line`, and `line` is appended when no line holds the key. Every other line is kept, in order.
 */
export function ensureKeyLine(content: string, key: AuthorizedKey, line: string, options: string | undefined): string {
  let held = false;
  const lines = content.split(/(?<=\n)/).map((text) => {
    const parsed = parseAuthorizedKey(text);
    if (!parsed || !sameKey(parsed, key)) return text;
    held = true;
    return (parsed.options ?? '') === (options ?? '') ? text : `${line}${text.endsWith('\n') ? '\n' : ''}`;
  });
  return held ? lines.join('') : appendKeyLine(content, line);
}

/** Content without the lines that hold `key` (any options or comment). */
export function removeKey(content: string, key: AuthorizedKey): string {
  return content
    .split(/(?<=\n)/)
    .filter((line) => {
      const parsed = parseAuthorizedKey(line);
      return !(parsed && sameKey(parsed, key));
    })
    .join('');
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
