// The small languages inside an Ansible inventory, as Ansible reads them: shlex words (Python's shlex.split with
// comments), literal values (a subset of ast.literal_eval) and host ranges (web[01:20], db-[a:c]).

export class TextError extends Error {
  /** `at`: the 0-based offset in the text where the problem is. */
  constructor(
    message: string,
    readonly at = 0,
  ) {
    super(message);
  }
}

export interface Word {
  text: string;
  /** Offset of the word's first character in the line. */
  start: number;
}

/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode): whitespace separates words, '...' quotes literally,
 * "..." quotes with \\ and \" escapes, \ escapes outside quotes, and an unquoted # starts a comment (even inside a
 * word, as Python does). No $-expansion, no $'...' quoting: those are a shell's, not shlex's.
 */
export function shlexSplit(line: string): Word[] {
  const words: Word[] = [];
  let token = '';
  let start = -1;
  let quoted = false;
  let i = 0;
  const end = () => {
    if (start >= 0 && (token !== '' || quoted)) words.push({ text: token, start });
    token = '';
    start = -1;
    quoted = false;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      end();
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '\\') {
      if (start < 0) start = i;
      if (i + 1 >= line.length) throw new TextError('no escaped character after "\\"', i);
      token += line[i + 1];
      i += 2;
    } else if (c === "'" || c === '"') {
      if (start < 0) start = i;
      quoted = true;
      const close = c;
      let j = i + 1;
      for (;;) {
        if (j >= line.length) throw new TextError(`no closing quotation (${close}) for the one at character ${i + 1}`, i);
        const d = line[j]!;
        if (d === close) break;
        if (close === '"' && d === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) {
          token += line[j + 1];
          j += 2;
          continue;
        }
        token += d;
        j++;
      }
      i = j + 1;
    } else {
      if (start < 0) start = i;
      token += c;
      i++;
    }
  }
  end();
  return words;
}

/**
 * An INI value as Ansible's `_parse_value` reads it (`ast.literal_eval`, else the text itself): integers, floats,
 * True/False/None, quoted strings, and JSON-shaped lists and mappings; anything else stays the string it is.
 */
export function literalValue(text: string): unknown {
  const v = text.trim();
  // Python reads 010 as a syntax error, so Ansible keeps it a string.
  if (/^[-+]?(0|[1-9]\d*)$/.test(v)) return Number(v);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(v) && !/^[-+]?0\d+$/.test(v)) return Number(v);
  if (v === 'True') return true;
  if (v === 'False') return false;
  if (v === 'None') return null;
  const quote = /^(['"])((?:\\.|(?!\1)[^\\])*)\1$/s.exec(v);
  if (quote) return quote[2]!.replace(/\\(.)/gs, (_m, ch: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[ch] ?? ch);
  if (/^[[{]/.test(v)) {
    try {
      return JSON.parse(v.replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false').replace(/\bNone\b/g, 'null'));
    } catch {
      return text;
    }
  }
  return text;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Ansible's `expand_hostname_range`: every `[begin:end]` or `[begin:end:step]` in `pattern` expanded, numbers
 * zero-padded to the width of a `0`-led begin, letters a..z/A..Z. More than `max` names is an error.
 */
export function expandHostRange(pattern: string, max: number): string[] {
  if (!pattern.includes('[')) return [pattern];
  const out: string[] = [];
  const expand = (line: string) => {
    const open = line.indexOf('[');
    if (open < 0) {
      if (out.length >= max) throw new TextError(`the host ranges give more than ${max} hosts`);
      out.push(line);
      return;
    }
    const close = line.indexOf(']', open);
    if (close < 0) throw new TextError(`host range "${line.slice(open)}" has no closing "]"`, open);
    const head = line.slice(0, open);
    const tail = line.slice(close + 1);
    const bounds = line.slice(open + 1, close).split(':');
    if (bounds.length !== 2 && bounds.length !== 3) throw new TextError('host range must be begin:end or begin:end:step', open);
    const beg = bounds[0] || '0';
    const end = bounds[1]!;
    const step = bounds.length === 3 ? bounds[2]! : '1';
    if (!end) throw new TextError('host range must specify end value', open);
    if (!/^\d+$/.test(step) || Number(step) < 1) throw new TextError(`host range step must be a whole number of at least 1, got "${step}"`, open);
    const by = Number(step);
    const ib = LETTERS.indexOf(beg);
    const ie = LETTERS.indexOf(end);
    if (beg.length === 1 && end.length === 1 && ib >= 0 && ie >= 0) {
      if (ib > ie) throw new TextError('host range must have begin <= end', open);
      for (let k = ib; k <= ie; k += by) expand(`${head}${LETTERS[k]}${tail}`);
      return;
    }
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw new TextError(`host range [${bounds.join(':')}] is neither numbers nor single letters`, open);
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && width !== end.length) throw new TextError('host range must specify equal-length begin and end formats', open);
    const from = Number(beg);
    const to = Number(end);
    if ((to - from) / by >= max) throw new TextError(`the host ranges give more than ${max} hosts`, open);
    for (let k = from; k <= to; k += by) expand(`${head}${String(k).padStart(width, '0')}${tail}`);
  };
  expand(pattern);
  return out;
}

/**
 * Ansible's `parse_address` without its range checks: a trailing `:PORT` on a name or IPv4 address, or `[...]:PORT`
 * (an IPv6 address needs the brackets to carry a port).
 */
export function splitHostPort(pattern: string): { host: string; port?: number } {
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(pattern);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const hostport = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/.exec(pattern);
  if (hostport) return { host: hostport[1]!, port: Number(hostport[2]) };
  return { host: pattern };
}
