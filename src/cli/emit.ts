// Where a run's report goes: stdout in --output's format, and --report FILE (if given) in its extension's, without colour.
import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { formatForPath, render, type Format } from '../report/formats.js';
import type { RunResult } from '../report/model.js';
import { colorWanted, makeStyle, type Style } from '../report/style.js';

export interface ReportOptions {
  output: Format;
  report?: string;
  color: boolean;
}

/** --report's parser: the extension names a format and the directory is writable, or the run does not start. */
export function reportPath(path: string): string {
  formatForPath(path);
  try {
    accessSync(dirname(resolve(path)), constants.W_OK);
  } catch (err) {
    throw new ConfigError(`--report ${path}: cannot write there: ${(err as Error).message}`);
  }
  return path;
}

export async function emitReport(run: RunResult, opts: ReportOptions, text: (style: Style) => string): Promise<void> {
  process.stdout.write(await render(opts.output, run, () => text(makeStyle(colorWanted(process.stdout, !opts.color)))));
  if (opts.report) writeFileSync(opts.report, await render(formatForPath(opts.report), run, () => text(makeStyle(false))));
}
