// The paths sshd's refusals name ("bad ownership or modes for directory PATH"), and when each last changed, read on the host.
import { shq } from '../util/shell.js';

/** What sshd logs before the path when StrictModes refuses a key file or a directory on its way. */
const REFUSAL = 'Authentication refused: bad ownership or modes for ';
const REFUSED_PATH = /Authentication refused: bad ownership or modes for (?:file|directory) (\/[^\n]*)$/;

/** How many distinct paths, the latest named first, the host stats: forged lines naming more only leave some unknown. */
export const MAX_PATHS = 8;

/** A path's last change (its ctime, epoch seconds, perhaps to the nanosecond) and its mode as the host saw it, the path itself not followed. */
export interface PathState {
  changed: number;
  mode: number;
}

/** The path a refusal names, as the host's script reads it (the rest of the message, trailing blanks left out). */
export function refusedPath(message: string): string | undefined {
  return REFUSED_PATH.exec(message)?.[1]?.replace(/[ \t\r]+$/, '');
}

/**
 * A pipeline stage: of its stdin's lines (each cut to `maxLine` bytes, as they travel), the last MAX_PATHS distinct
 * absolute paths refusals name, each printed as `changed=CTIME MODE PATH` when `stat` (which does not follow the path
 * when it is a link, and reads no content) knows it: CTIME to the nanosecond where stat can (GNU's %.9Z), else to the
 * second. The path reaches stat as an argument, never as shell text.
 */
export function refusedPathsChanged(maxLine: number): string {
  const awk = `{ $0 = substr($0, 1, ${maxLine}); at = index($0, "${REFUSAL}"); if (!at) next
  p = substr($0, at + ${REFUSAL.length}); if (!sub(/^(file|directory) /, "", p)) next
  sub(/[ \\t\\r]+$/, "", p); if (p ~ /^\\//) named[++n] = p }
END { for (i = n; i > 0 && k < ${MAX_PATHS}; i--) if (!(named[i] in done)) { done[named[i]]; k++; print named[i] } }`;
  return `LC_ALL=C awk ${shq(awk)} | while IFS= read -r ff_p; do
  ff_st=$(stat -c '%.9Z %a' -- "$ff_p" 2>/dev/null) || continue
  case $ff_st in *[!0-9.\\ ]*) ff_st=$(stat -c '%Z %a' -- "$ff_p" 2>/dev/null) || continue ;; esac
  printf 'changed=%s %s\\n' "$ff_st" "$ff_p"
done`;
}

/** The `changed` records by path; a record that does not parse is left out (its path's change is then unknown). */
export function pathStates(records: string[]): Map<string, PathState> {
  const states = new Map<string, PathState>();
  for (const record of records) {
    const m = /^(\d+(?:\.\d+)?) ([0-7]{1,4}) (\/.*)$/.exec(record);
    if (m) states.set(m[3]!, { changed: Number(m[1]), mode: parseInt(m[2]!, 8) });
  }
  return states;
}
