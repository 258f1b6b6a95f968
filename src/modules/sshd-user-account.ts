// The account as sshd judges it for a key login (auth.c allowed_user(), platform_locked_account(), the session's chdir,
// and pam_unix's expiry with UsePAM yes): the login shell, the home, the expiry day, a locked password.
import { first } from '../facts/records.js';
import { getentFields } from '../util/shell.js';

/**
 * Shell lines, with the positional parameters set to the user's passwd fields, that print uid=, shell=, home=,
 * shell_ok (the shell, /bin/sh where the field is empty, is a file with an execute bit), home_missing (the home is
 * no directory), locked (the shadow password starts with "!"), expire= and today=.
 */
export function accountScript(user: string): string {
  return `printf 'uid=%s\\nshell=%s\\nhome=%s\\n' "$3" "$7" "$6"
ff_sh=\${7:-/bin/sh}; if [ -f "$ff_sh" ] && [ -x "$ff_sh" ]; then echo 'shell_ok=yes'; fi
if [ -z "$6" ] || [ ! -d "$6" ]; then echo 'home_missing=yes'; fi
${getentFields('shadow', user)}
case "\${2:-}" in '!'*) echo 'locked=yes' ;; esac
printf 'expire=%s\\n' "\${8:-}"; [ -z "\${8:-}" ] || printf 'today=%s\\n' "$(( $(date +%s) / 86400 ))"`;
}

/**
 * What the account does to a key login: `refusals` (sshd or PAM refuses it; the admin's to change), `unmet` (the login
 * fails for a want another check fixes: a home to create), `findings`. `one` reads sshd -T's value of a keyword.
 */
export function judgeAccount(r: Map<string, string[]>, one: (keyword: string) => string, user: string): { refusals: string[]; unmet: string[]; findings: string[] } {
  const refusals: string[] = [];
  const unmet: string[] = [];
  const findings: string[] = [];
  const usePam = one('usepam') === 'yes';

  // allowed_user() skips the shell where the session is chrooted.
  const shell = first(r, 'shell') ?? '';
  const chrooted = !['', 'none'].includes(one('chrootdirectory'));
  if (!chrooted && first(r, 'shell_ok') !== 'yes') refusals.push(`the login shell of ${user}, ${shell || '/bin/sh (the field is empty)'}, does not exist or is not executable (/etc/passwd's 7th field): sshd refuses the user; set a shell that exists (usermod -s)`);
  else if (/\/(nologin|false)$/.test(shell)) findings.push(`the shell of ${user} is ${shell}: a key is accepted, but no command or shell runs`);

  // pam_unix: expired from the expiry day on; sshd itself (UsePAM no): from the day after.
  const expire = Number(first(r, 'expire') || NaN);
  const today = Number(first(r, 'today'));
  if (Number.isFinite(expire) && expire >= 0 && (usePam ? today >= expire : today > expire)) {
    refusals.push(`the account ${user} expired (/etc/shadow's 8th field: day ${expire}; today is day ${today}): ${usePam ? 'pam_unix refuses it ("Your account has expired")' : 'sshd refuses it'}; renew it with chage -E (fleetfix does not change an account's expiry)`);
  }

  // platform_locked_account(): only without PAM; on Linux, a password starting with "!" (so "!!" too, not "*").
  if (first(r, 'locked') === 'yes' && !usePam) refusals.push(`the account ${user} is locked (its password in /etc/shadow starts with "!") and UsePAM is no: sshd refuses it; unlock it with usermod -U, or set UsePAM yes (fleetfix does not unlock accounts)`);

  if (first(r, 'home_missing') === 'yes') {
    const home = first(r, 'home') || '(none)';
    const keyFiles = one('authorizedkeysfile').split(/\s+/).filter(Boolean);
    const underHome = keyFiles.every((f) => !f.startsWith('/') || f.includes('%h') || f.startsWith('~'));
    const keysCommand = !['', 'none'].includes(one('authorizedkeyscommand'));
    if (underHome && !keysCommand) unmet.push(`the home of ${user}, ${home}, does not exist: sshd would start the session in /, but the key files it reads (AuthorizedKeysFile ${keyFiles.join(' ')}) lie under the home and cannot exist, so a key login fails; create the home (the playbook's home checks do)`);
    else findings.push(`the home of ${user}, ${home}, does not exist: sshd starts the session in / ("Could not chdir to home directory")`);
  }
  return { refusals, unmet, findings };
}
