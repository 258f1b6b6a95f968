// What a parsed YAML document may hold: bounded nesting and alias expansion, core-schema tags, unique plain keys, no NUL.
import { isAlias, isCollection, isPair, isScalar, visit, type Document, type Node } from 'yaml';

export interface DocumentProblem {
  offset: number;
  message: string;
}

/** Deeper nesting than this is refused (the inventory and the playbook need fewer than ten levels). */
export const MAX_DEPTH = 64;
/** Nodes that aliases may add to the document when expanded: a few shared blocks, never a billion laughs. */
export const MAX_ALIAS_NODES = 100_000;

const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** Every problem of `doc`, in document order. */
export function checkDocument(doc: Document): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let aliasNodes = 0;
  const at = (node: Node | null | undefined) => node?.range?.[0] ?? 0;

  /** The node's size once every alias in it is expanded; undefined when a problem stops the walk. */
  const walk = (node: unknown, depth: number): number | undefined => {
    if (node === null || node === undefined) return 1;
    const n = node as Node;
    if (depth > MAX_DEPTH) return stop(n, `nested deeper than ${MAX_DEPTH} levels`);
    if (n.tag !== undefined && !CORE_TAGS.has(n.tag)) return stop(n, `unsupported tag ${n.tag.replace(/^tag:yaml\.org,2002:/, '!!')}: expected plain YAML (strings, numbers, booleans, null, lists, mappings)`);
    if (isAlias(n)) {
      const target = anchors.get(n.source);
      if (!target) return stop(n, `unknown alias *${n.source}: expected an anchor &${n.source} earlier in the file`);
      if (open.has(target)) return stop(n, `alias *${n.source} refers to a collection that contains it`);
      const size = sizes.get(target) ?? 1;
      aliasNodes += size;
      if (aliasNodes > MAX_ALIAS_NODES) return stop(n, `aliases expand to more than ${MAX_ALIAS_NODES} values: expected a few shared blocks`);
      return size;
    }
    if (n.anchor) anchors.set(n.anchor, n);
    if (isScalar(n)) {
      const value = n.value;
      if (typeof value === 'string' && value.includes('\0')) return stop(n, 'a NUL character in a value: expected text without NUL');
      if (value !== null && typeof value === 'object') return stop(n, `unsupported value (${Object.prototype.toString.call(value).slice(8, -1)}): expected a string, number, boolean or null`);
      sizes.set(n, 1);
      return 1;
    }
    if (!isCollection(n)) return stop(n, 'unsupported YAML node');
    open.add(n);
    let size = 1;
    const keys = new Map<string, Node>();
    for (const item of n.items) {
      if (isPair(item)) {
        const key = item.key as Node | null;
        if (key !== null && !isScalar(key)) return stop(key, 'expected a plain key (a string or number), found a list, mapping or alias');
        const name = String(key?.value ?? '');
        const earlier = keys.get(name);
        if (earlier) return stop(key, `duplicate key "${name}": each key may appear once in a mapping`);
        if (key) keys.set(name, key);
        const k = walk(key, depth + 1);
        const v = k === undefined ? undefined : walk(item.value, depth + 1);
        if (v === undefined) return undefined;
        size += (k ?? 0) + v;
      } else {
        const v = walk(item, depth + 1);
        if (v === undefined) return undefined;
        size += v;
      }
    }
    open.delete(n);
    sizes.set(n, size);
    return size;
  };
  const stop = (node: Node | null | undefined, message: string): undefined => {
    problems.push({ offset: at(node), message });
    return undefined;
  };
  walk(doc.contents, 0);
  return problems;
}

/** A number as every YAML reader reads it alike: plain decimal, no sign but "-", no leading zero, no exponent. */
const PLAIN_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * Numbers that YAML readers disagree on, for an inventory that Ansible may read too: YAML 1.2 (fleetfix's) reads 022
 * as 22 and YAML 1.1 (Ansible's) as octal 18; 0x16, 0o26, +22 and 2.2e1 are numbers to one and text or another
 * number to the other.
 */
export function ambiguousNumbers(doc: Document): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'number' || node.type !== 'PLAIN' || node.source === undefined || PLAIN_NUMBER.test(node.source)) return;
      const octal = /^[-+]?0[0-7]+$/.test(node.source) ? `, YAML 1.1 (Ansible's) as octal ${parseInt(node.source, 8)}` : '';
      problems.push({ offset: node.range?.[0] ?? 0, message: `the number ${node.source} means different things to YAML readers (YAML 1.2, which fleetfix reads, takes it as ${node.value}${octal}): write ${Number.isFinite(node.value) ? node.value : 'a number'} in plain decimal, or quote it to mean the text` });
    },
  });
  return problems;
}
