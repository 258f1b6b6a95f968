// Zod field types shared by the inventory, the playbook and the modules.
import { z } from 'zod';
import { describeValue } from './validate.js';

/** `{ env: NAME }` or `{ file: PATH }`: a secret that is never printed. */
export const secretRefSchema = z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })], {
  error: 'expected a secret reference: { env: NAME } or { file: PATH }',
});
export type SecretRef = z.infer<typeof secretRefSchema>;

/** A file mode as a quoted octal string. YAML reads an unquoted 0700 as the number 700. */
export const modeSchema = z
  .string({
    error: (issue) =>
      typeof issue.input === 'number'
        ? `expected a quoted octal string like "0700"; YAML read this as the number ${issue.input}: write "${String(issue.input).padStart(4, '0')}" in quotes`
        : 'expected a quoted octal string like "0700"',
  })
  .regex(/^0?[0-7]{3,4}$/, { error: 'expected an octal mode like "0700" (3 or 4 octal digits)' });

/** A whole number that may also arrive as a string after {{ var }} substitution. */
export function intLike(min: number, max: number) {
  return z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)], { error: `expected a whole number from ${min} to ${max}` }).pipe(
    z.number().int().min(min, { error: `expected a whole number from ${min} to ${max}` }).max(max, { error: `expected a whole number from ${min} to ${max}` }),
  );
}

/** A boolean that may also arrive as "yes"/"no"/"true"/"false" after substitution. */
export const boolLike = z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false']).transform((v) => v === 'yes' || v === 'true')], {
  error: 'expected true or false',
});

export const identifierSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { error: 'expected a name of letters, digits, "_", "-" and "."' });

/** Where `text` holds a control character (C0, DEL or C1: a newline, a NUL, an ESC...), described; undefined if nowhere. */
export function controlCharIn(text: string): string | undefined {
  const m = /[\u0000-\u001f\u007f-\u009f]/.exec(text);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  const name = CONTROL_NAMES[code] ?? 'a control character';
  return `${name} (U+${code.toString(16).toUpperCase().padStart(4, '0')}) at character ${m.index + 1}`;
}

const CONTROL_NAMES: Record<number, string> = { 0: 'a NUL', 9: 'a tab', 10: 'a newline', 13: 'a carriage return', 27: 'an ESC' };

/**
 * A non-empty string on one line, free of control characters, that `problem` (if given) finds nothing wrong with.
 * `expected` completes "expected ...": it is the message for anything else.
 */
export function lineString(expected: string, problem?: (text: string) => string | undefined, maxLength = 4096) {
  return z.string({ error: (issue) => `expected ${expected} (a string), got ${describeValue(issue.input)}` }).superRefine((text, ctx) => {
    const control = controlCharIn(text);
    const found =
      text.length === 0 ? 'got an empty string'
      : control ? `found ${control}; a value is one line without control characters`
      : text.length > maxLength ? `got ${text.length} characters, more than ${maxLength}`
      : problem?.(text);
    if (found) ctx.addIssue({ code: 'custom', message: `expected ${expected}; ${found}` });
  });
}

/** A user or group name as POSIX has them (letters, digits, "_", ".", "-", not first, and a trailing "$"), or a numeric id. */
const POSIX_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;

export function nameString(what: 'user' | 'group') {
  return lineString(`a ${what} name or numeric id`, (n) => (POSIX_NAME.test(n) ? undefined : `got ${JSON.stringify(n)}: only letters, digits, "_", "." and "-" (not first), and a trailing "$"`), 256);
}

/** Why `path` has a `.` or `..` component (which could name the directory above, or the path itself, under another name). */
function dotComponent(path: string): string | undefined {
  const dot = path.split('/').find((c) => c === '.' || c === '..');
  return dot === undefined ? undefined : `got ${JSON.stringify(path)}: a "${dot}" component would make the path name another one; write the path it means`;
}

/** A path on the host: absolute, or ~/... or ~user/... (the user's home as the host's passwd says); no "." or ".." component. */
export const hostPathString = lineString('an absolute path or one starting with ~ or ~user', (p) =>
  p.startsWith('/') || /^~([a-z_][a-z0-9_.-]*\$?)?(\/.*)?$/i.test(p) ? dotComponent(p) : `got ${JSON.stringify(p)}`,
);

/**
 * A path on this machine, from an inventory (a key, a known_hosts file): one line, no ".." component. fleetfix
 * resolves ".." as text, while ssh and the system follow a link in the path first, so the two could read different
 * files; a relative path is relative to the inventory's folder.
 */
export const localPathString = lineString('a path on this machine', (p) => (p.split('/').includes('..') ? `got ${JSON.stringify(p)}: a ".." component, which fleetfix would resolve as text and ssh through any link before it, so the two could read different files; write the path without it` : undefined));

/** An absolute path on the host, with no "." or ".." component. */
export const absolutePathString = lineString('an absolute path', (p) => (p.startsWith('/') ? dotComponent(p) : `got ${JSON.stringify(p)}`));
