// POSIX shell quoting: every value that reaches a script goes through shq.

/** Quote `value` as one single-quoted shell word. */
export function shq(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('a NUL byte cannot be passed to the shell');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Shell lines that set `varName` to a host path, where a leading `~user` (or `~`, meaning `defaultUser`)
 * is that user's home as the host's passwd says. An unknown user prints `error=...` and ends the script.
 */
export function assignHostPath(varName: string, path: string, defaultUser?: string): string {
  const m = /^~([a-z_][a-z0-9_.-]*\$?)?(\/.*)?$/i.exec(path);
  if (!m) return `${varName}=${shq(path)}`;
  const user = m[1] ?? defaultUser ?? 'root';
  return [
    `ff_home=$(getent passwd ${shq(user)} | cut -d: -f6)`,
    `if [ -z "$ff_home" ]; then printf 'error=%s\\n' ${shq(`no such user: ${user} (in ${path})`)}; exit 0; fi`,
    `${varName}="$ff_home"${m[2] ? shq(m[2]) : ''}`,
  ].join('\n');
}
