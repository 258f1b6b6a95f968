// authorized_keys shapes as data (test/fixtures/authorized-key-*.json), with the keys they name filled in: shared by
// the unit tests (fixed keys) and the end-to-end tests (the lab operator's key, against a real sshd).
import { readFileSync } from 'node:fs';

/** A fixture's keys: `KEY` (the operator's, always ed25519) and the others its texts name. */
export type Keys = Record<string, string>;

/** How far into the operator key's data a wrapped paste breaks the line. */
const SPLIT_AT = 40;

/**
 * `text` with {NAME} (a key line), {NAME_BLOB} (its data), {HEAD} and {TAIL} (the operator key's data cut where a
 * wrapped paste breaks it; {TAIL_A} and {TAIL_B}, the tail cut again) and {COMMENT} (its comment) filled in from `keys`.
 */
export function fill(text: string, keys: Keys): string {
  const [, blob = '', ...comment] = keys.KEY!.split(' ');
  const tail = blob.slice(SPLIT_AT);
  const parts: Record<string, string> = { HEAD: blob.slice(0, SPLIT_AT), TAIL: tail, TAIL_A: tail.slice(0, tail.length >> 1), TAIL_B: tail.slice(tail.length >> 1), COMMENT: comment.join(' ') };
  for (const [name, line] of Object.entries(keys)) Object.assign(parts, { [name]: line, [`${name}_BLOB`]: line.split(' ')[1] });
  return text.replace(/\{([A-Z_]+)\}/g, (all, name: string) => parts[name] ?? all);
}

export interface LineRow {
  name: string;
  line: string;
  /** What a real sshd does with a file of this one line when the operator's key logs in (null: it does not name that key). */
  sshd: 'accepts' | 'refuses' | null;
  expect: { kind: 'key' | 'broken' | 'skipped'; problem?: string; holds?: string; options?: string };
}

export interface EditRow {
  name: string;
  content: string;
  state?: 'absent';
  options?: string;
  /** What a real sshd does with `content` before and after the edit, where the operator's key logs in. */
  sshd?: { before: 'accepts' | 'refuses'; after: 'accepts' | 'refuses' };
  expect: { action: string; after: string; repaired?: { first: number; last: number; problem: string }; broken: { line: number; problem: string }[] };
}

export function fixture<T>(name: string): { keys: Keys; rows: T[] } {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as { keys: Keys; rows: T[] };
}
