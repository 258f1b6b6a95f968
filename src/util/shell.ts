// POSIX shell quoting: every value that reaches a script goes through shq.

/** Quote `value` as one single-quoted shell word. */
export function shq(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('a NUL byte cannot be passed to the shell');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A shell line that sets the positional parameters to the fields of `name`'s getent line (none if it is unknown). */
export function getentFields(database: 'passwd' | 'group' | 'shadow', name: string): string {
  return `ff_ent=$(getent ${database} ${shq(name)}) || ff_ent=; ${SPLIT_ENTRY}`;
}

/** A shell line that sets the positional parameters to the `:`-separated fields of ff_ent (a getent line). */
export const SPLIT_ENTRY = 'ff_ifs=$IFS; IFS=:; set -f; set -- $ff_ent; set +f; IFS=$ff_ifs';

/** The user a `~user/...` (or `~/...`, meaning `defaultUser`) path belongs to; undefined for an absolute path. */
export function homeOwner(path: string, defaultUser?: string): string | undefined {
  const m = /^~([a-z_][a-z0-9_.-]*\$?)?(\/.*)?$/i.exec(path);
  return m ? (m[1] ?? defaultUser ?? 'root') : undefined;
}

/** A command that prints its stdin as one line of base64 (GNU's -w0, or base64 and tr where -w is unknown). */
export const BASE64 = `{ base64 -w0 2>/dev/null || base64 | tr -d '\\n'; }`;

/** Defines ff_rc_linked NAME: true when a SysV start link for NAME exists in runlevels 2-5. */
export const RC_LINKED_FN = `ff_rc_linked() { for ff_f in /etc/rc[2345].d/S??"$1"; do [ -e "$ff_f" ] && return 0; done; return 1; }`;

/** A pipeline stage that prints each line of its stdin as a `key=line` record: text travels without base64. */
export function asRecords(key: string): string {
  return `while IFS= read -r ff_l || [ -n "$ff_l" ]; do printf '${key}=%s\\n' "$ff_l"; done`;
}

/**
 * A shell line that runs `body` for each line of shell variable `varName` (in ff_l; empty lines left out) with no
 * process started and no glob expanded; `break` in `body` ends it.
 */
export function forEachLine(varName: string, body: string): string {
  return `ff_ifs=$IFS; IFS='\n'; set -f; for ff_l in $${varName}; do ${body}; done; set +f; IFS=$ff_ifs`;
}

/** A shell line that prints each line of shell variable `varName` as a `key=line` record (key may be a `$variable`). */
export function linesAsRecords(varName: string, key: string): string {
  return forEachLine(varName, `printf '%s=%s\\n' "${key}" "$ff_l"`);
}
