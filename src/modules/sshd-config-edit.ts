// Pure edits of sshd_config files: set a directive where its effective value comes from, never where sshd ignores it.
import { readOrder, type ConfigFile } from '../facts/sshd-config.js';

/** Directives written one value per line; the others take all their values on one line. */
const ONE_VALUE_PER_LINE = new Set(['port', 'listenaddress', 'hostkey']);

export interface WantedDirective {
  /** As the playbook spells it, for the lines written. */
  keyword: string;
  /** The lines' arguments: one line each for multi-valued directives; null removes every occurrence. */
  values: string[] | null;
}

interface FileEdits {
  replace: Map<number, string[]>;
  insertBefore: Map<number, string[]>;
  append: string[];
}

/**
 * New text for every file that changes. The first global occurrence (in sshd's read order, Includes expanded)
 * is replaced, later global occurrences are commented out, and a directive set nowhere is inserted into the
 * main file before its first Match block. Lines inside Match blocks are left alone.
 */
export function editConfig(files: ConfigFile[], main: string, wanted: WantedDirective[]): Map<string, string> {
  const order = readOrder(files, main);
  const edits = new Map<string, FileEdits>();
  const editsOf = (path: string) => {
    let e = edits.get(path);
    if (!e) edits.set(path, (e = { replace: new Map(), insertBefore: new Map(), append: [] }));
    return e;
  };
  const linesOf = (path: string) => files.find((f) => f.path === path)!.text.split('\n');

  for (const w of wanted) {
    const lower = w.keyword.toLowerCase();
    const occurrences = order.filter((d) => d.keyword === lower && !d.inMatch);
    const newLines = w.values === null ? [] : ONE_VALUE_PER_LINE.has(lower) ? w.values.map((v) => `${w.keyword} ${v}`) : [`${w.keyword} ${w.values.join(' ')}`];
    const [first, ...later] = occurrences;
    if (first && newLines.length) {
      const indent = /^\s*/.exec(linesOf(first.file)[first.index]!)![0];
      editsOf(first.file).replace.set(first.index, newLines.map((l) => `${indent}${l}`));
    }
    for (const d of first && newLines.length ? later : occurrences) editsOf(d.file).replace.set(d.index, [`# fleetfix: ${linesOf(d.file)[d.index]!.trim()}`]);
    if (!first && newLines.length) {
      const mainLines = linesOf(main);
      const firstMatch = mainLines.findIndex((l) => /^\s*match\s/i.test(l));
      const e = editsOf(main);
      if (firstMatch >= 0) e.insertBefore.set(firstMatch, [...(e.insertBefore.get(firstMatch) ?? []), ...newLines]);
      else e.append.push(...newLines);
    }
  }

  const out = new Map<string, string>();
  for (const [path, e] of edits) {
    const lines = linesOf(path);
    const trailingNewline = lines.length > 0 && lines[lines.length - 1] === '';
    if (trailingNewline) lines.pop();
    const result: string[] = [];
    lines.forEach((line, i) => {
      result.push(...(e.insertBefore.get(i) ?? []));
      result.push(...(e.replace.get(i) ?? [line]));
    });
    result.push(...e.append);
    out.set(path, `${result.join('\n')}\n`);
  }
  return out;
}
