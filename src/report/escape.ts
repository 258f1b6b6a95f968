// Host text made safe for a terminal: every control character is shown as a visible escape, never sent raw.

/** C0 (newline and tab included), DEL, C1 (U+009B, the one-byte CSI, among them), and the Unicode line and paragraph separators. */
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** `text` with each control character replaced by its escape (`\x1b`, `\x07`, `\u009b`, `\n`): one line, inert on any terminal. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? visible(c.charCodeAt(0)));
}

function visible(code: number): string {
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Text whose lines are the caller's own (a diff, a multi-line error): each line escaped, the newlines between them kept. */
export function escapeLines(text: string): string {
  return text.split('\n').map(escapeControls).join('\n');
}
