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

/**
 * Prints `KEY=absent` or `KEY=type|mode|owner|group|uid|gid` for the path in shell variable `var`.
 * A path that cannot be examined (permission denied) prints `error=...`: it must never look absent.
 */
export function statScript(key: string, varName: string): string {
  return [
    `if ff_s=$(LC_ALL=C stat -c '%F|%a|%U|%G|%u|%g' -- "$${varName}" 2>&1); then printf '${key}=%s\\n' "$ff_s"`,
    `else case "$ff_s" in *'No such file or directory'*) echo '${key}=absent' ;; *) printf 'error=cannot examine %s: %s\\n' "$${varName}" "$ff_s" ;; esac; fi`,
  ].join('\n');
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
