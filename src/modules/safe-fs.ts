// Changing paths on a host in ways no user there can redirect: enter the directory once, act as its owner, never follow a link as root.
import { shq } from '../util/shell.js';

/**
 * The largest file a module reads from a host (authorized_keys, sshd_config and its Includes); a larger one is that
 * check's error, naming the file and its size.
 */
export const FILE_READ_LIMIT = 1024 * 1024;

/**
 * Shell functions every change made inside a directory relies on (OpenSSH's auth_secure_path and Puppet's fix for
 * CVE-2011-3870 are the models):
 * - ff_enter DIR: make DIR the working directory, refusing unless DIR is reached without a symbolic link (its real path
 *   is DIR itself) and is writable by nobody but its owner; ff_dir_uid and ff_dir_gid are then its owner and the
 *   owner's primary group. Once entered, renaming DIR or its parents changes nothing for what follows.
 * - ff_as_owner CMD...: run CMD as the directory's owner (root only in a directory only root can write), so a link a
 *   user swaps in can only lead to what that user could already change. As a user, CMD gets /dev/null as stdin (never
 *   the rest of root's script, which a user who can ptrace their own processes could read) and a session of its own
 *   (setsid: no controlling terminal through which to type into root's console shell).
 * - ff_as_owner_fed CMD...: the same, with the stdin it is given (a pipe of fleetfix's, never the script itself).
 * - ff_still NAME TYPE: refuse unless NAME is still a TYPE (file or directory), not a link, a file with one name.
 * - ff_give NAME [OWNER][:GROUP] TYPE: as root, give NAME to OWNER and/or GROUP without following a link (chown -h); in
 *   a directory a user can write, only to that user, and only where the kernel stops users linking files they do not own.
 * - ff_chmod NAME MODE TYPE: set NAME's mode as its owner (the directory's owner), or as root in a root-only directory.
 * Every refusal names the path and exits 3, before anything is touched.
 */
export const SAFE_FS_FNS = `ff_refuse() { printf '%s\\n' "$1" >&2; exit 3; }
ff_enter() {
  cd -P -- "$1" 2>/dev/null || ff_refuse "cannot enter $1"
  ff_real=$(pwd -P)
  [ "$ff_real" = "$1" ] || ff_refuse "$1 leads through a symbolic link (to $ff_real); not changing anything there"
  ff_st=$(stat -c '%u %a' .) || ff_refuse "cannot examine $1"
  ff_dir_uid=\${ff_st% *}
  [ $(( 0\${ff_st#* } & 022 )) -eq 0 ] || ff_refuse "$1 is writable by group or others (mode \${ff_st#* }); not changing anything there"
  ff_dir_gid=$(getent passwd "$ff_dir_uid" | cut -d: -f4)
  [ -n "$ff_dir_gid" ] || ff_refuse "$1 is owned by uid $ff_dir_uid, which has no passwd entry; not changing anything there"
}
ff_as_owner_fed() {
  if [ "$ff_dir_uid" = 0 ]; then "$@"; return; fi
  command -v setpriv >/dev/null 2>&1 || ff_refuse "setpriv (util-linux) is needed to act as uid $ff_dir_uid in $PWD"
  command -v setsid >/dev/null 2>&1 || ff_refuse "setsid (util-linux) is needed to act as uid $ff_dir_uid in $PWD"
  setpriv --reuid="$ff_dir_uid" --regid="$ff_dir_gid" --init-groups -- setsid -w "$@"
}
ff_as_owner() { ff_as_owner_fed "$@" </dev/null; }
ff_still() {
  ff_st=$(stat -c '%F|%h' -- "$1" 2>/dev/null) || ff_st=absent
  case "$2|$ff_st" in
    'file|regular file|1' | 'file|regular empty file|1' | 'directory|directory|'*) ;;
    *) ff_refuse "$PWD/$1 is no longer a $2 with one name ($ff_st); not changing it" ;;
  esac
}
ff_uid_of() { case "$1" in *[!0-9]*) getent passwd "$1" | cut -d: -f3 ;; *) echo "$1" ;; esac; }
ff_give() {
  if [ "$ff_dir_uid" != 0 ]; then
    ff_o=\${2%%:*}
    [ -z "$ff_o" ] || [ "$(ff_uid_of "$ff_o")" = "$ff_dir_uid" ] || ff_refuse "$PWD/$1: not giving it to $ff_o inside a directory that uid $ff_dir_uid can write"
    [ "$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null)" = 1 ] || ff_refuse "$PWD/$1: fs.protected_hardlinks is off, so a user could link any file here; not changing its owner as root"
  fi
  ff_still "$1" "$3"
  chown -h -- "$2" "$1"
}
ff_chmod() {
  ff_still "$1" "$3"
  if [ "$ff_dir_uid" != 0 ] && [ "$(stat -c %u -- "$1")" != "$ff_dir_uid" ]; then
    ff_refuse "$PWD/$1 is not owned by uid $ff_dir_uid, who can write its directory; not changing its mode"
  fi
  ff_as_owner chmod "$2" -- "$1"
}`;

/**
 * Run as the directory's owner (see ff_as_owner) with the new content on stdin: replace NAME atomically, only if it
 * still hashes as EXPECT (or is still absent when EXPECT is "absent"); the temp file is made in the same directory by
 * the same user and removed on failure. An existing file keeps its mode (and, written by root, its owner); a new one
 * gets MODE and, written by root, OWNER. Written by a user, the file is that user's: in a directory a user can write,
 * no file is given to anyone else.
 */
const REPLACE_AS_OWNER = `set -eu
n=$1 want=$2 mode=$3 owner=$4
if [ "$want" = absent ]; then
  if [ -e "$n" ] || [ -L "$n" ]; then printf '%s appeared since it was read; run again\\n' "$PWD/$n" >&2; exit 3; fi
else
  if [ ! -f "$n" ] || [ -L "$n" ]; then printf '%s is no longer a regular file; not changing it\\n' "$PWD/$n" >&2; exit 3; fi
  if [ "$(sha256sum < "$n")" != "$want  -" ]; then printf '%s changed since it was read; run again\\n' "$PWD/$n" >&2; exit 3; fi
  mode=$(stat -c %a -- "$n") owner=$(stat -c %u:%g -- "$n")
fi
t=$(mktemp .fleetfix.XXXXXX)
trap 'rm -f -- "$t"' EXIT
cat > "$t"
chmod "$mode" "$t"
if [ "$(id -u)" = 0 ]; then chown "$owner" "$t"; fi
mv -f -- "$t" "$n"
trap - EXIT`;

/** Stops the script (exit 3) unless `path` still hashes as it did when the facts were read: no concurrent edit is lost. */
export function unchangedGuard(path: string, sha256: string): string {
  return `if [ "$(sha256sum < ${shq(path)})" != ${shq(`${sha256}  -`)} ]; then echo ${shq(`${path} changed since it was read; run again`)} >&2; exit 3; fi`;
}

/** Directory and last component of a normalized absolute path. */
export function splitPath(path: string): { dir: string; name: string } {
  const at = path.lastIndexOf('/');
  return { dir: path.slice(0, at) || '/', name: path.slice(at + 1) };
}

/** Shell lines (needing SAFE_FS_FNS and `set -e`) that, in a subshell, enter `dir` and replace `name` there with `content`. */
export function replaceFileLines(dir: string, name: string, content: string, expectSha256: string | null, create: { mode: string; owner: string }): string {
  return `( ff_enter ${shq(dir)}; printf '%s' ${shq(content)} | ff_as_owner_fed sh -c ${shq(REPLACE_AS_OWNER)} sh ${shq(name)} ${shq(expectSha256 ?? 'absent')} ${shq(create.mode)} ${shq(create.owner)} )`;
}

/** A script that enters `dir` and runs `body` there (body lines use the SAFE_FS_FNS functions on names in `dir`). */
export function inDirScript(dir: string, body: string[]): string {
  return ['set -eu', SAFE_FS_FNS, `ff_enter ${shq(dir)}`, ...body].join('\n');
}

/**
 * A shell line that runs `script` (with `args`) as the user whose uid and primary gid are in shell variables
 * `uidVar` and `gidVar` (directly when that is root), as sshd reads a user's files: what a link the user made leads to
 * is read only if the user could read it anyway. As a user, with /dev/null as stdin and in a session of its own, as
 * ff_as_owner runs commands.
 */
export function asUserLine(uidVar: string, gidVar: string, script: string, args: string[]): string {
  const run = `sh -c ${shq(script)} sh ${args.join(' ')}`;
  // As root, already who runs this: a subshell instead of one more sh.
  return `if [ "$${uidVar}" = 0 ]; then (set -- ${args.join(' ')}; eval ${shq(script)}); elif command -v setpriv >/dev/null 2>&1 && command -v setsid >/dev/null 2>&1; then setpriv --reuid="$${uidVar}" --regid="$${gidVar}" --init-groups -- setsid -w ${run} </dev/null; else echo 'error=setpriv and setsid (util-linux) are needed to read files as their user'; fi`;
}

