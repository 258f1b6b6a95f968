// PAM's account stack for sshd as libpam reads it: /etc/pam.d/sshd (or `other`), with @include, include and substack followed.
import type { ConfigFile } from './sshd-config.js';

export const PAM_SERVICE = '/etc/pam.d/sshd';
/** libpam's stand-in where a service has no file of its own. */
export const PAM_OTHER = '/etc/pam.d/other';

/** One module line of the account stack, where it stands, and what it says. */
export interface PamLine {
  file: string;
  /** The line it starts on (a line continued with `\` is one line). */
  line: number;
  /** The line as written, without its comment, each run of whitespace one space. */
  text: string;
  /** `required`, `requisite`, `sufficient`, `optional` (lowercase), or a bracket `[value=action ...]` as written. */
  control: string;
  /** The module's file name (`pam_access.so`), whatever directory the line gives. */
  module: string;
  args: string[];
}

/** What one module failing does to the stack, by its control. */
export type FailureWeight = 'refuses' | 'may-refuse' | 'ignored';

/** How deep includes and substacks go before libpam gives up (PAM_SUBSTACK_MAX_LEVEL). */
const MAX_DEPTH = 16;

/**
 * The account lines sshd's PAM runs, in order; `unread` names the included files not among `files`, and those that
 * include themselves (libpam gives up on those at 16 levels, failing the stack).
 */
export function accountStack(files: ConfigFile[]): { service: string; lines: PamLine[]; unread: string[] } {
  const byPath = new Map(files.map((f) => [f.path, f.text]));
  const service = byPath.has(PAM_SERVICE) ? PAM_SERVICE : PAM_OTHER;
  const lines: PamLine[] = [];
  const unread: string[] = [];
  const read = (path: string, chain: string[]) => {
    const text = byPath.get(path);
    if (text === undefined || chain.includes(path) || chain.length > MAX_DEPTH) return void unread.push(path);
    const within = [...chain, path];
    for (const { line, text: content } of logicalLines(text)) {
      const tokens = tokenize(content);
      if (tokens[0] === '@include') {
        if (tokens[1]) read(includedPath(tokens[1]), within);
        continue;
      }
      const [type = '', control = '', module = '', ...args] = tokens;
      if (type.replace(/^-/, '').toLowerCase() !== 'account') continue;
      if (/^(include|substack)$/i.test(control)) {
        if (module) read(includedPath(module), within);
        continue;
      }
      lines.push({ file: path, line, text: content.trim().replace(/\s+/g, ' '), control: control.startsWith('[') ? control : control.toLowerCase(), module: module.replace(/^.*\//, ''), args });
    }
  };
  read(service, []);
  return { service, lines, unread };
}

/**
 * What the stack does when the module on `lines[index]` fails with one of `codes` (PAM's return names: `perm_denied`,
 * `auth_err`...), by its control: required and requisite, or a bracket action bad, die, ok or done, refuse; sufficient
 * and optional ignore it. An ignore, reset or jump goes on to the lines after it: a required or requisite pam_deny
 * reached before any line that can succeed the stack (sufficient, or a jump) refuses; otherwise they decide, which
 * fleetfix does not follow (may refuse).
 */
export function failureWeight(lines: PamLine[], index: number, codes: string[]): FailureWeight {
  const action = failureAction(lines[index]!.control, codes);
  if (action === 'ignored' || action === 'refuses') return action;
  if (action === 'unknown') return 'may-refuse';
  for (const line of lines.slice(index + 1 + action)) {
    if (line.module === 'pam_deny.so' && failureAction(line.control, ['perm_denied']) === 'refuses') return 'refuses';
    if (line.control === 'sufficient' || /=\d/.test(line.control)) break;
  }
  return 'may-refuse';
}

/** What a control does with a failure: refuse, ignore it, go on past N more lines (0: the next), or unknown. */
function failureAction(control: string, codes: string[]): 'refuses' | 'ignored' | 'unknown' | number {
  if (control === 'required' || control === 'requisite') return 'refuses';
  if (control === 'sufficient' || control === 'optional') return 'ignored';
  if (!control.startsWith('[')) return 'unknown';
  const actions = new Map(
    control
      .slice(1, -1)
      .trim()
      .split(/\s+/)
      .map((kv) => [kv.slice(0, kv.indexOf('=')).toLowerCase(), kv.slice(kv.indexOf('=') + 1).toLowerCase()] as const),
  );
  const action = codes.map((code) => actions.get(code)).find((a) => a !== undefined) ?? actions.get('default') ?? 'bad';
  if (['bad', 'die', 'ok', 'done'].includes(action)) return 'refuses';
  if (action === 'ignore' || action === 'reset') return 0;
  return /^\d+$/.test(action) ? Number(action) : 'unknown';
}

/** A module argument `name=value`'s value (the last one given), or undefined. */
export function argValue(line: PamLine, name: string): string | undefined {
  return line.args.filter((a) => a.startsWith(`${name}=`)).map((a) => a.slice(name.length + 1)).pop();
}

/** How a line reads in a message: `/etc/pam.d/sshd line 13 "account required pam_access.so"`. */
export function describeLine(line: PamLine): string {
  return `${line.file} line ${line.line} "${line.text}"`;
}

function includedPath(name: string): string {
  return name.startsWith('/') ? name : `/etc/pam.d/${name}`;
}

/** The file's lines without comments (`#` to the end of the line), a line ending in `\` joined to the next; blank ones left out. */
function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let pending: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const content = raw.replace(/#.*/, '');
    const continued = /\\\s*$/.test(content);
    const part = continued ? content.replace(/\\\s*$/, ' ') : content;
    pending = pending ? { line: pending.line, text: `${pending.text}${part}` } : { line: i + 1, text: part };
    if (continued) return;
    if (pending.text.trim()) out.push(pending);
    pending = undefined;
  });
  if (pending?.text.trim()) out.push(pending);
  return out;
}

/** Whitespace-separated tokens; one that starts with `[` runs to its `]` (`\]` escapes one), spaces and all. */
function tokenize(text: string): string[] {
  return text.match(/\[(?:\\\]|[^\]])*\]?|\S+/g) ?? [];
}
