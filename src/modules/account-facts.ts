// A user's passwd entry and the real path of its home, gathered once per user and read on the host by the facts that need them.
import { defineFact, type FactUse } from '../facts/fact.js';
import { homeOwner, shq, SPLIT_ENTRY } from '../util/shell.js';

/**
 * Prints the user's passwd line (one getent), then the home's real path when it can be entered; nothing for an unknown
 * user. Facts read it on the host (fact `after`), through userFromAccount.
 */
export const userAccount = defineFact<string>({
  name: 'account.passwd',
  script: (user) => `ff_ent=$(getent passwd ${shq(user)}) || exit 0
printf '%s\\n' "$ff_ent"
${SPLIT_ENTRY}
if [ -n "\${6:-}" ] && cd -P -- "$6" 2>/dev/null; then printf '%s\\n' "$PWD"; fi`,
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
