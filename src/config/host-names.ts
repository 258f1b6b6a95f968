// Host names (an inventory's keys): free text, but nothing invisible in them, and no two that look alike.
import { z } from 'zod';
import { ConfigError, type SourcePosition } from './errors.js';

/** Characters that are not seen as themselves: controls, format characters (bidi overrides, zero-width), separators, lone surrogates. */
const UNSEEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** Why `name` cannot name a host; undefined when it can. */
function hostNameTextProblem(name: string): string | undefined {
  const m = UNSEEN.exec(name);
  if (m) return `${JSON.stringify(name)} has ${codePoint(m[0])} at character ${m.index + 1}, a character that is not seen as itself (a control, format or separator character); expected a host name without one`;
  if (name.trim() !== name) return `${JSON.stringify(name)} starts or ends with a space; expected a host name without one`;
  return undefined;
}

/** An inventory's host name: any text but an empty one, or one with a character that is not seen as itself. */
export const hostNameString = z.string().superRefine((name, ctx) => {
  const problem = name === '' ? 'expected a host name, got an empty string' : hostNameTextProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Where a name is written: a position in a file, or words that say where (a dynamic inventory's output). */
export type NameWhere = SourcePosition | string;

/**
 * A problem for each host name that looks like an earlier one: the same after Unicode normalisation (NFKC), or after
 * Unicode's confusable mapping (UTS #39's skeleton: Cyrillic "а" for Latin "a", and letters of mixed scripts).
 * Two ASCII names are never refused. The confusables' table is loaded only when a name is not ASCII.
 */
export async function lookAlikeHostNames(names: string[], whereIs: (name: string) => NameWhere): Promise<ConfigError[]> {
  if (names.every(isAscii)) return [];
  const { default: unhomoglyph } = await import('unhomoglyph');
  const skeleton = (name: string) => unhomoglyph(name.normalize('NFKC').normalize('NFD')).normalize('NFD');
  const first = new Map<string, string>();
  const problems: ConfigError[] = [];
  for (const name of names) {
    const key = skeleton(name);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, name);
    else if (earlier !== name && !(isAscii(earlier) && isAscii(name))) problems.push(lookAlike(name, earlier, whereIs));
  }
  return problems;
}

function lookAlike(name: string, earlier: string, whereIs: (name: string) => NameWhere): ConfigError {
  const why = name.normalize('NFKC') === earlier.normalize('NFKC') ? 'Unicode normalisation (NFKC) makes them one name' : 'Unicode lists their characters as confusable';
  const foreign = (text: string) => [...new Set([...text].filter((c) => !isAscii(c)))].map(codePoint).join(', ');
  const detail = [name, earlier].filter((n) => !isAscii(n)).map((n) => `${JSON.stringify(n)} has ${foreign(n)}`).join('; ');
  const message = `host ${JSON.stringify(name)} looks like host ${JSON.stringify(earlier)} (${describe(whereIs(earlier))}): ${why} (${detail}); rename one`;
  const where = whereIs(name);
  return typeof where === 'string' ? new ConfigError(`${where}: ${message}`) : new ConfigError(message, where);
}

function describe(where: NameWhere): string {
  return typeof where === 'string' ? where : `${where.file}:${where.line}:${where.col}`;
}

function isAscii(text: string): boolean {
  return !/[^\x00-\x7f]/.test(text);
}

function codePoint(char: string): string {
  return `${JSON.stringify(char)} U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
