// Unified diffs of file contents, as the plan shows them.
import { createTwoFilesPatch } from 'diff';
import { escapeControls } from './escape.js';

/**
 * A unified diff of `before` -> `after` for `path`; a new file is diffed against /dev/null. The path is escaped
 * here: a newline in a file name would otherwise end the header line and forge the next one.
 */
export function unifiedDiff(path: string, before: string, after: string, created = false): string {
  const header = escapeControls(path);
  const patch = createTwoFilesPatch(created ? '/dev/null' : header, header, before, after, '', '', { context: 3 });
  // Drop the "Index:"/"====" preamble; keep from the --- line.
  const start = patch.indexOf('--- ');
  return (start >= 0 ? patch.slice(start) : patch).replace(/\t$/gm, '').trimEnd();
}
