// Secret references resolved from env or file, and a redactor that keeps their values out of every output.
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import type { SecretRef } from './fields.js';
import { resolveFrom } from '../util/paths.js';

const known = new Set<string>();

/** Read a secret (a relative file is relative to `baseDir`, the inventory's folder); its value is remembered so that `redact` can mask it anywhere. */
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
  if (value.length >= 3) known.add(value);
}

/** Replace every known secret value in `text` with ***. */
export function redact(text: string): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}
