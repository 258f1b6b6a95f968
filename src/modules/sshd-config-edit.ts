// Pure edits of sshd_config files: set a directive where its effective value comes from, never where sshd ignores it.
import { readOrder, type ConfigFile, type Directive } from '../facts/sshd-config.js';
import { matchApplies, type Connection } from '../facts/sshd-match.js';

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
 * main file before its first Match block. Lines inside Match blocks are left alone, except that for a connection
 * (`conn`) the first line of a Match block that applies to it is where its value comes from, and is the one replaced.
 */
export function editConfig(files: ConfigFile[], main: string, wanted: WantedDirective[], conn?: Connection): Map<string, string> {
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
    const fromMatch = conn && sourceFor(order, lower, conn);
    if (fromMatch?.match && newLines.length) {
      const indent = /^\s*/.exec(linesOf(fromMatch.file)[fromMatch.index]!)![0];
      editsOf(fromMatch.file).replace.set(fromMatch.index, newLines.map((l) => `${indent}${l}`));
      continue;
    }
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

  return render(files, edits);
}

/**
 * The line a keyword's value comes from for `conn`: the first one in a Match block that applies (it overrides the
 * global value), else the first global one; undefined when no line sets it.
 */
export function sourceFor(order: Directive[], keyword: string, conn: Connection): Directive | undefined {
  const lines = order.filter((d) => d.keyword === keyword);
  return lines.find((d) => d.match && matchApplies(d.match, conn)) ?? lines.find((d) => !d.match);
}

/** Every line of `keyword` in effect for `conn`: sshd appends AllowUsers and the like across lines, Match blocks replacing the global ones. */
export function linesInEffect(order: Directive[], keyword: string, conn: Connection): Directive[] {
  const lines = order.filter((d) => d.keyword === keyword);
  const matched = lines.filter((d) => d.match && matchApplies(d.match, conn));
  return matched.length ? matched : lines.filter((d) => !d.match);
}

/** New text for each file where a line (by file and index) is replaced by `lines` (none: the line is commented out). */
export function replaceLines(files: ConfigFile[], replacements: { file: string; index: number; lines: string[] }[]): Map<string, string> {
  const edits = new Map<string, FileEdits>();
  for (const r of replacements) {
    const e = edits.get(r.file) ?? { replace: new Map(), insertBefore: new Map(), append: [] };
    edits.set(r.file, e);
    const old = files.find((f) => f.path === r.file)!.text.split('\n')[r.index]!;
    const indent = /^\s*/.exec(old)![0];
    e.replace.set(r.index, r.lines.length ? r.lines.map((l) => `${indent}${l}`) : [`# fleetfix: ${old.trim()}`]);
  }
  return render(files, edits);
}

function render(files: ConfigFile[], edits: Map<string, FileEdits>): Map<string, string> {
  const linesOf = (path: string) => files.find((f) => f.path === path)!.text.split('\n');
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
