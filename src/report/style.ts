// Terminal colours, off for --no-color, NO_COLOR and non-TTY output.
import type { CheckStatus, HostStatus } from './model.js';

export interface Style {
  status(text: HostStatus | CheckStatus): string;
  dim(text: string): string;
  bold(text: string): string;
  diffLine(line: string): string;
  good(text: string): string;
  bad(text: string): string;
}

const CODES: Record<string, [number, number]> = { green: [32, 39], red: [31, 39], yellow: [33, 39], cyan: [36, 39], dim: [2, 22], bold: [1, 22] };
const STATUS_COLOR: Record<HostStatus | CheckStatus, keyof typeof CODES> = {
  compliant: 'green', pass: 'green', finding: 'yellow', fixed: 'cyan', drift: 'yellow', fail: 'yellow', skipped: 'dim', unreachable: 'red', failed: 'red', error: 'red',
};

export function makeStyle(enabled: boolean): Style {
  const paint = (name: keyof typeof CODES, text: string) => (enabled ? `\x1b[${CODES[name]![0]}m${text}\x1b[${CODES[name]![1]}m` : text);
  return {
    status: (s) => paint(STATUS_COLOR[s], s),
    dim: (t) => paint('dim', t),
    bold: (t) => paint('bold', t),
    good: (t) => paint('green', t),
    bad: (t) => paint('red', t),
    diffLine: (line) => (line.startsWith('+') && !line.startsWith('+++') ? paint('green', line) : line.startsWith('-') && !line.startsWith('---') ? paint('red', line) : line.startsWith('@@') ? paint('cyan', line) : line),
  };
}

export function colorWanted(stream: { isTTY?: boolean }, noColorFlag: boolean): boolean {
  return !noColorFlag && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && stream.isTTY === true;
}
