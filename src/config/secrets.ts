// Secret references resolved from env or file, and the masking of a secret wherever one is echoed back as itself.
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import type { SecretRef } from './fields.js';
import { resolveFrom } from '../util/paths.js';

const known = new Set<string>();

/** Read a secret (a relative file is relative to `baseDir`, the inventory's folder); its value is remembered so that `redact` can mask it where it is echoed. */
export function resolveSecret(ref: SecretRef, what: string, baseDir: string): string {
  let value: string;
  if ('env' in ref) {
    const v = process.env[ref.env];
    if (v === undefined) throw new ConfigError(`${what}: environment variable ${ref.env} is not set`);
    value = v;
  } else {
    try {
      value = readFileSync(resolveFrom(baseDir, ref.file), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`${what}: cannot read secret file ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  rememberSecret(value);
  return value;
}

export function rememberSecret(value: string): void {
  if (value !== '') known.add(value);
}

/**
 * The last resort for text a secret could have been echoed into (a transport's error, which may quote what a console
 * printed): every known secret that stands there as a whole token becomes ***. Inside a word or a path it is not the
 * secret but something else that contains its letters (`/root/.ssh`, `root-ssh`, `root@web1`), and is left alone.
 */
export function redact(text: string): string {
  let out = text;
  for (const secret of known) out = maskSecret(out, secret);
  return out;
}

/**
 * Characters that continue a word or a path; a `.` continues one only when a word character follows (`id.pub`, not
 * `root.`). Before the secret, the letter of an escape (the `n` of `\n` in a quoted transcript) continues nothing.
 */
const JOINED = String.raw`[\p{L}\p{N}\p{M}_\-/~@+]`;
const JOINED_BEFORE = String.raw`(?<!\\)${JOINED}|\.`;
const JOINED_AFTER = String.raw`${JOINED}|\.${JOINED}`;

/** `text` with each whole-token occurrence of `secret` replaced by ***. */
export function maskSecret(text: string, secret: string): string {
  if (secret === '' || !text.includes(secret)) return text;
  const escaped = secret.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`(?<!${JOINED_BEFORE})${escaped}(?!${JOINED_AFTER})`, 'gu'), '***');
}
