// Unified diffs of file contents, as the plan shows them.
import { createTwoFilesPatch } from 'diff';

/** A unified diff of `before` -> `after` for `path`; a new file is diffed against /dev/null. */
export function unifiedDiff(path: string, before: string, after: string, created = false): string {
  const patch = createTwoFilesPatch(created ? '/dev/null' : path, path, before, after, '', '', { context: 3 });
  // Drop the "Index:"/"====" preamble; keep from the --- line.
  const start = patch.indexOf('--- ');
  return (start >= 0 ? patch.slice(start) : patch).replace(/\t$/gm, '').trimEnd();
}
