// POSIX shell quoting: every value that reaches a script goes through shq.

/** Quote `value` as one single-quoted shell word. */
export function shq(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('a NUL byte cannot be passed to the shell');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Shell lines that look `user` up in the host's passwd (one getent, split by the shell itself) and set ff_uid,
 * ff_gid and ff_home (its real path, when it exists). An unknown user runs `onAbsent`, which must end the script.
 */
export function lookupUser(user: string, onAbsent: string): string {
  return [
    getentFields('passwd', user),
    `ff_uid=$3 ff_gid=$4 ff_home=$6`,
    `if [ -z "$ff_home" ]; then ${onAbsent}; fi`,
    // The home's real path: what follows compares real paths with it, so a link the admin made to a home stays usable.
    `ff_home_real=$(cd -P -- "$ff_home" 2>/dev/null && pwd -P) && ff_home=$ff_home_real`,
  ].join('\n');
}

/** A shell line that sets the positional parameters to the fields of `name`'s getent line (none if it is unknown). */
export function getentFields(database: 'passwd' | 'group' | 'shadow', name: string): string {
  return `ff_ent=$(getent ${database} ${shq(name)}) || ff_ent=; ff_ifs=$IFS; IFS=:; set -f; set -- $ff_ent; set +f; IFS=$ff_ifs`;
}

/** The user a `~user/...` (or `~/...`, meaning `defaultUser`) path belongs to; undefined for an absolute path. */
export function homeOwner(path: string, defaultUser?: string): string | undefined {
  const m = /^~([a-z_][a-z0-9_.-]*\$?)?(\/.*)?$/i.exec(path);
  return m ? (m[1] ?? defaultUser ?? 'root') : undefined;
}

/**
 * Shell lines that set `varName` to a host path, where a leading `~user` (or `~`, meaning `defaultUser`)
 * is that user's home as the host's passwd says (ff_uid and ff_gid are then that user's). An unknown user prints
 * `error=...` and ends the script.
 */
export function assignHostPath(varName: string, path: string, defaultUser?: string): string {
  const user = homeOwner(path, defaultUser);
  if (user === undefined) return `${varName}=${shq(path)}`;
  const rest = path.replace(/^~[^/]*/, '');
  return [lookupUser(user, `printf 'error=%s\\n' ${shq(`no such user: ${user} (in ${path})`)}; exit 0`), `${varName}="$ff_home"${rest ? shq(rest) : ''}`].join('\n');
}

/** A command that prints its stdin as one line of base64 (GNU's -w0, or base64 and tr where -w is unknown). */
export const BASE64 = `{ base64 -w0 2>/dev/null || base64 | tr -d '\\n'; }`;

/** Defines ff_rc_linked NAME: true when a SysV start link for NAME exists in runlevels 2-5. */
export const RC_LINKED_FN = `ff_rc_linked() { for ff_f in /etc/rc[2345].d/S??"$1"; do [ -e "$ff_f" ] && return 0; done; return 1; }`;

/** A pipeline stage that prints each line of its stdin as a `key=line` record: text travels without base64. */
export function asRecords(key: string): string {
  return `while IFS= read -r ff_l || [ -n "$ff_l" ]; do printf '${key}=%s\\n' "$ff_l"; done`;
}
