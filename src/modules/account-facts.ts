// A user's passwd entry and the real path of its home, gathered once per user and read on the host by the facts that need them.
import { defineFact, type FactUse } from '../facts/fact.js';
import { forEachLine, homeOwner, shq, SPLIT_ENTRY } from '../util/shell.js';

/**
 * Defines ff_home_walk PATH: prints PATH's real path, walked as the kernel resolves it (links followed, at most 40),
 * where only root can write or replace what lies on the way: every directory the walk passes through (so a link's
 * own directory too) is root's and writable by nobody else (OpenSSH's auth_secure_path, taken up to /). The last
 * component itself is not judged: a home's own owner and mode are the home's checks to fix. Where the way is not
 * safe, prints `!` and why instead; where a component is absent, the real path so far and the rest.
 * Common case first: one stat of / and each prefix of PATH, where none is a link, "." or "..", and all exist.
 */
export const HOME_WALK_FN = `ff_home_walk() {
  ff_path=$1 ff_acc=; set -f; set -- /; ff_ifs=$IFS; IFS=/
  for ff_c in $ff_path; do [ -z "$ff_c" ] || { ff_acc="$ff_acc/$ff_c"; set -- "$@" "$ff_acc"; }; done
  IFS=$ff_ifs; set +f
  case "$ff_path/" in */./* | */../*) ;; *)
    if ff_s=$(LC_ALL=C stat -c '%F|%u|%a' -- "$@" 2>/dev/null); then
      ff_i=1 ff_safe=yes
      ${forEachLine('ff_s', `ff_m=\${ff_l##*|} ff_u=\${ff_l#directory|}; ff_u=\${ff_u%|*}; case "$ff_l" in directory\\|*) ;; *) ff_safe=; break ;; esac; if [ "$ff_i" -lt $# ] && { [ "$ff_u" != 0 ] || [ $(( 0$ff_m & 022 )) -ne 0 ]; }; then ff_safe=; break; fi; ff_i=$((ff_i + 1))`)}
      if [ -n "$ff_safe" ]; then printf '%s\\n' "\${ff_acc:-/}"; return; fi
    fi ;;
  esac
  ff_rest=$ff_path ff_cur= ff_hops=0
  ff_root=$(LC_ALL=C stat -c '%u|%a|%U' /) || { echo '!cannot be examined (/)'; return; }
  ff_st=$ff_root
  while [ -n "$ff_rest" ]; do
    case "$ff_rest" in */*) ff_c=\${ff_rest%%/*} ff_rest=\${ff_rest#*/} ;; *) ff_c=$ff_rest ff_rest= ;; esac
    case "$ff_c" in '' | .) continue ;; ..) ff_cur=\${ff_cur%/*}; ff_st='0|755|root'; continue ;; esac
    ff_u=\${ff_st%%|*} ff_m=\${ff_st#*|}; ff_m=\${ff_m%%|*}
    if [ "$ff_u" != 0 ] || [ $(( 0$ff_m & 022 )) -ne 0 ]; then
      printf '!is reached through %s (owner %s, mode %04o), which a user other than root can write or replace\\n' "\${ff_cur:-/}" "\${ff_st##*|}" "0$ff_m"; return
    fi
    ff_next="$ff_cur/$ff_c"
    if ! ff_s=$(LC_ALL=C stat -c '%F|%u|%a|%U' -- "$ff_next" 2>&1); then
      case "$ff_s" in *'No such file or directory'*) printf '%s\\n' "$ff_next\${ff_rest:+/$ff_rest}" ;; *) printf '!cannot be examined (%s)\\n' "$ff_next" ;; esac
      return
    fi
    case "$ff_s" in
      'symbolic link|'*)
        ff_hops=$((ff_hops + 1)); [ "$ff_hops" -le 40 ] || { echo '!is reached through more than 40 symbolic links'; return; }
        ff_t=$(readlink -- "$ff_next") || { printf '!cannot be examined (%s)\\n' "$ff_next"; return; }
        case "$ff_t" in /*) ff_cur= ff_st=$ff_root ;; esac
        ff_rest="$ff_t\${ff_rest:+/$ff_rest}" ;;
      'directory|'*) ff_cur=$ff_next ff_st=\${ff_s#*|} ;;
      *) printf '!leads to %s, which is not a directory\\n' "$ff_next"; return ;;
    esac
  done
  printf '%s\\n' "\${ff_cur:-/}"
}`;

/**
 * Prints the user's passwd line (one getent), then the home's real path as ff_home_walk finds it (or `!` and why
 * fleetfix must not act in it); nothing for an unknown user. Facts read it on the host (fact `after`), through
 * userFromAccount.
 */
export const userAccount = defineFact<string>({
  name: 'account.passwd',
  script: (user) => `ff_ent=$(getent passwd ${shq(user)}) || exit 0
printf '%s\\n' "$ff_ent"
${SPLIT_ENTRY}
${HOME_WALK_FN}
case "\${6:-}" in /*) ff_home_walk "$6" ;; *) echo '!is not an absolute path' ;; esac`,
});

/** A shell line that sets the positional parameters to the fields of the passwd line `account` kept (none for an unknown user). */
export function accountFields(account: FactUse): string {
  return `ff_ent=\${${account.variable}%%"\n"*}; ${SPLIT_ENTRY}`;
}

/**
 * Shell lines that set ff_uid, ff_gid and ff_home (its real path, when it exists) from `account`'s kept output. An
 * unknown user runs `onAbsent`, which must end the script.
 */
export function userFromAccount(account: FactUse, onAbsent: string): string {
  const v = account.variable;
  return [
    accountFields(account),
    `ff_uid=\${3:-} ff_gid=\${4:-} ff_home=\${6:-}`,
    `if [ -z "$ff_home" ]; then ${onAbsent}; fi`,
    // The home's real path: what follows compares real paths with it, so a link the admin made to a home stays usable.
    `case "$${v}" in *"\n"?*) ff_home=\${${v}#*"\n"} ;; esac`,
    `case "$ff_home" in '!'*) printf 'error=the home of %s, %s, %s; fleetfix changes nothing in it\\n' "$1" "$6" "\${ff_home#!}"; exit 0 ;; esac`,
  ].join('\n');
}

/** The account a host path's leading `~user` (or `~`, meaning `defaultUser`) needs gathered first; none for an absolute path. */
export function hostPathAccounts(path: string, defaultUser?: string): FactUse[] {
  const user = homeOwner(path, defaultUser);
  return user === undefined ? [] : [userAccount(user)];
}

/**
 * Shell lines that set `varName` to a host path, where a leading `~user` (or `~`, meaning `defaultUser`) is that
 * user's home as the host's passwd says (ff_uid and ff_gid are then that user's; hostPathAccounts names the fact to
 * gather first). An unknown user prints `error=...` and ends the script.
 */
export function assignHostPath(varName: string, path: string, defaultUser?: string): string {
  const user = homeOwner(path, defaultUser);
  if (user === undefined) return `${varName}=${shq(path)}`;
  const rest = path.replace(/^~[^/]*/, '');
  return [userFromAccount(userAccount(user), `printf 'error=%s\\n' ${shq(`no such user: ${user} (in ${path})`)}; exit 0`), `${varName}="$ff_home"${rest ? shq(rest) : ''}`].join('\n');
}
