// The report formats: --output picks one for stdout, --report FILE one by the file's extension; JUnit and HTML load on demand.
import { extname } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { renderJson } from './json.js';
import type { RunResult } from './model.js';

export const FORMATS = ['text', 'json', 'junit', 'html'] as const;
export type Format = (typeof FORMATS)[number];

const BY_EXTENSION: Record<string, Format> = { '.txt': 'text', '.json': 'json', '.xml': 'junit', '.html': 'html', '.htm': 'html' };

/** The format a --report file is written in, from its extension; any other extension is bad input, said before anything runs. */
export function formatForPath(path: string): Format {
  const format = BY_EXTENSION[extname(path).toLowerCase()];
  if (!format) throw new ConfigError(`--report ${path}: the format comes from the extension: ${Object.entries(BY_EXTENSION).map(([ext, f]) => `${ext} (${f})`).join(', ')}`);
  return format;
}

/** `run` in `format`; `text` is the caller's, since the text of a run and of a diagnosis differ. */
export async function render(format: Format, run: RunResult, text: () => string): Promise<string> {
  switch (format) {
    case 'text':
      return text();
    case 'json':
      return renderJson(run);
    case 'junit':
      return (await import('./junit.js')).renderJunit(run);
    case 'html':
      return (await import('./html.js')).renderHtml(run);
  }
}
