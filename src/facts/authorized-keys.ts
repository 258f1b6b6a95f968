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
