// Runs a zod schema over a YAML value and turns its issues into file:line:column errors.
import type { z } from 'zod';
import { ConfigError, ConfigErrors } from './errors.js';
import type { ValuePath, YamlSource } from './yaml-source.js';

/**
 * Parse `value` (found at `basePath` in `source`) or throw every problem at once. `note` may add to the message of a
 * problem at a path inside `value` (where a rendered value came from).
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, source: YamlSource, basePath: ValuePath = [], note?: (path: ValuePath) => string | undefined): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigErrors(result.error.issues.flatMap((issue) => issueToErrors(issue, value, source, basePath, note?.(issue.path as (string | number)[]) ?? '')));
}

function issueToErrors(issue: z.core.$ZodIssue, root: unknown, yaml: YamlSource, basePath: ValuePath, suffix: string): ConfigError[] {
  const source = { error: (at: ValuePath, message: string, opts?: { key?: boolean }) => yaml.error(at, `${message}${suffix}`, opts) };
  const path = [...basePath, ...(issue.path as (string | number)[])];
  const where = describePath(path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => source.error([...path, key], `${describePath([...path, key])}: unknown key "${key}"`, { key: true }));
  }
  if (issue.code === 'invalid_key') return [source.error(path, `${where}: ${issue.issues[0]?.message ?? 'invalid key'}`, { key: true })];
  const actual = valueAt(root, issue.path as (string | number)[]);
  if (issue.code === 'invalid_type' && actual === undefined) {
    return [source.error(path.slice(0, -1), `${where}: required ${typeName(issue.expected)} is missing`)];
  }
  const custom = issue.message.startsWith('Invalid') ? undefined : issue.message;
  if (issue.code === 'invalid_type') {
    return [source.error(path, `${where}: ${custom ?? `expected ${typeName(issue.expected)}, got ${describeValue(actual)}`}`)];
  }
  if (issue.code === 'invalid_value') {
    return [source.error(path, `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(actual)}`)];
  }
  return [source.error(path, `${where}: ${custom ?? issue.message}`)];
}

function typeName(expected: string): string {
  return expected === 'object' || expected === 'record' ? 'mapping' : expected === 'array' ? 'list' : expected;
}

export function describePath(path: ValuePath): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const p of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[p];
  }
  return node;
}
