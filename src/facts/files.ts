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

/**
 * statScript for two paths (shell variables `a` and `b`), with one stat where both exist (the common case) and
 * statScript for each otherwise. `sizeVar`, when given, is set to b's size in bytes by the one stat (empty otherwise).
 */
export function statPairScript(a: { key: string; varName: string }, b: { key: string; varName: string }, sizeVar?: string): string {
  const size = sizeVar ? '|%s' : '';
  // Each line is STAT_FORMAT's fields (then the size): no name, so two lines are exactly two paths.
  const split = [`ff_a=\${ff_s%%"\n"*} ff_b=\${ff_s#*"\n"}`, ...(sizeVar ? [`${sizeVar}=\${ff_b##*|} ff_a=\${ff_a%|*} ff_b=\${ff_b%|*}`] : [])];
  return [
    ...(sizeVar ? [`${sizeVar}=`] : []),
    `if ff_s=$(LC_ALL=C stat -c '${STAT_FORMAT}${size}' -- "$${a.varName}" "$${b.varName}" 2>/dev/null); then`,
    ...split,
    `printf '${a.key}=%s\\n${b.key}=%s\\n' "$ff_a" "$ff_b"`,
    'else',
    statScript(a.key, a.varName),
    statScript(b.key, b.varName),
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
  const [type, mode, owner, group, uid, gid] = raw.split('|');
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
