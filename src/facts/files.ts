// File facts: a shell command that stats a path, and a pure parser of what it prints.
import { first } from './records.js';

export interface FileStat {
  type: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  owner: string;
  group: string;
  uid: number;
  gid: number;
}

const STAT_FORMAT = '%F|%a|%U|%G|%u|%g';

/**
 * Prints `KEY=absent` or `KEY=type|mode|owner|group|uid|gid` for the path in shell variable `var`.
 * A path that cannot be examined (permission denied) prints `error=...`: it must never look absent.
 */
export function statScript(key: string, varName: string): string {
  return [
    `if ff_s=$(LC_ALL=C stat -c '${STAT_FORMAT}' -- "$${varName}" 2>&1); then printf '${key}=%s\\n' "$ff_s"`,
    `else case "$ff_s" in *'No such file or directory'*) echo '${key}=absent' ;; *) printf 'error=cannot examine %s: %s\\n' "$${varName}" "$ff_s" ;; esac; fi`,
  ].join('\n');
}

/** statScript for two paths (shell variables `a` and `b`), with one stat where both exist (the common case) and statScript for each otherwise. */
export function statPairScript(a: { key: string; varName: string }, b: { key: string; varName: string }): string {
  return [
    // Each line is STAT_FORMAT's fields: no name, so two lines are exactly two paths.
    `if ff_s=$(LC_ALL=C stat -c '${STAT_FORMAT}' -- "$${a.varName}" "$${b.varName}" 2>/dev/null); then`,
    `printf '${a.key}=%s\\n${b.key}=%s\\n' "\${ff_s%%"\n"*}" "\${ff_s#*"\n"}"`,
    'else',
    statScript(a.key, a.varName),
    statScript(b.key, b.varName),
    'fi',
  ].join('\n');
}

/**
 * One stat for a file and the directories above it (shell: `set -- FILE DIR ...`), printing a `chain=` record
 * (STAT_FORMAT, size, name) for each that exists, and setting ff_size to the file's size. Where one is missing or
 * cannot be examined, statScript prints the file's and its directory's (`fileVar`, `dirVar`) as `file_stat`/`dir_stat`,
 * and ff_size is empty.
 */
export function chainScript(fileVar: string, dirVar: string): string {
  return [
    `if ff_s=$(LC_ALL=C stat -c 'chain=${STAT_FORMAT}|%s|%n' -- "$@" 2>/dev/null); then ff_all=1; else ff_all=; fi`,
    `[ -z "$ff_s" ] || printf '%s\\n' "$ff_s"`,
    // The file's record comes first; its first six fields hold no "|" (a type, numbers, user and group names).
    `if [ -n "$ff_all" ]; then ff_l=\${ff_s%%"\n"*}; ff_l=\${ff_l#*|*|*|*|*|*|}; ff_size=\${ff_l%%|*}; else ff_size=`,
    statScript('file_stat', fileVar),
    statScript('dir_stat', dirVar),
    'fi',
  ].join('\n');
}

/** A shell line that prints `key=` and the real path of the directory in shell variable `varName` (empty where it cannot be entered), without a subshell. */
export function realDirScript(key: string, varName: string): string {
  return `if cd -P -- "$${varName}" 2>/dev/null; then printf '${key}=%s\\n' "$PWD"; cd /; else echo '${key}='; fi`;
}

export function parseStat(records: Map<string, string[]>, key: string): FileStat | 'absent' | undefined {
  const raw = first(records, key);
  if (raw === undefined) return undefined;
  if (raw === 'absent') return 'absent';
  return statFromFields(raw.split('|'));
}

/** chainScript's records: each path's stat (the size is the shell's, for the read that follows). */
export function parseChain(records: string[]): { path: string; stat: FileStat }[] {
  return records.flatMap((record) => {
    const fields = record.split('|');
    const stat = statFromFields(fields.slice(0, 6));
    return stat && fields.length >= 8 ? [{ path: fields.slice(7).join('|'), stat }] : [];
  });
}

function statFromFields([type, mode, owner, group, uid, gid]: string[]): FileStat | undefined {
  if (gid === undefined) return undefined;
  return {
    type: type === 'directory' ? 'directory' : type?.startsWith('regular') ? 'file' : type === 'symbolic link' ? 'symlink' : 'other',
    mode: parseInt(mode!, 8),
    owner: owner!,
    group: group!,
    uid: Number(uid),
    gid: Number(gid),
  };
}

export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
