// What PAM's account modules judge a login by, gathered once per user and connection: the nologin files, sshd's PAM
// stack, the files its account modules read, and the account's passwd and shadow fields.
import { defineFact } from '../facts/fact.js';
import { accountStack, type PamLine } from '../facts/pam-stack.js';
import { factRecords, first } from '../facts/records.js';
import type { ConfigFile } from '../facts/sshd-config.js';
import type { ExecResult } from '../transport/types.js';
import { getentFields, shq } from '../util/shell.js';
import { accountFields, userAccount } from './account-facts.js';
import { FILE_READ_LIMIT } from './safe-fs.js';
import { connectionOf, type ConnectionParams } from './sshd-effective.js';
import type { Connection } from '../facts/sshd-match.js';
import type { CheckPlan, Facts } from './types.js';
import { configFiles, effectiveValue, EMIT_FILE_FN, sshdEffective } from './sshd-facts.js';

/** The most files of the stack, and of the modules' configuration, read. */
const MAX_FILES = 32;

/**
 * Defines ff_cfg PATH: each path once, a regular file as file= and content= (ff_emit, bounded), otherwise special= or
 * absent=; listfile_unsafe= where pam_listfile would refuse to read it (a link, not a regular file, writable by others).
 */
const CFG_FN = `ff_seen=' ' ff_count=0
ff_cfg() {
  case "$ff_seen" in *" $1 "*) return ;; esac
  ff_count=$((ff_count + 1)); [ "$ff_count" -le ${MAX_FILES} ] || { printf 'unread=%s\\n' "$1"; return; }
  ff_seen="$ff_seen$1 "
  if [ -f "$1" ]; then ff_emit "$1"; elif [ -e "$1" ]; then printf 'special=%s\\n' "$1"; else printf 'absent=%s\\n' "$1"; fi
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; } || { [ -f "$1" ] && [ $(( 0$(stat -c %a -- "$1") & 2 )) -ne 0 ]; }; then printf 'listfile_unsafe=%s\\n' "$1"; fi
}`;

/**
 * The account (uid=, gid=, home=, shell=, gids=, the shadow fields, today=, the host's name), the files pam_nologin
 * reads by default (nologin_default=, in its order) and, where sshd -T says UsePAM yes, /etc/pam.d/sshd (or other)
 * with every file it includes, then each file an account line names (accessfile=, file=, conffile=, access.conf and
 * access.d, time.conf). `user=absent` for an unknown user. Files are read no further than the read limit, and only
 * regular ones: a FIFO is never opened.
 */
export const pamAccountFacts = defineFact<ConnectionParams>({
  name: 'pam.account',
  after: (c) => [userAccount(c.user), sshdEffective(c)],
  script: (c) => `${EMIT_FILE_FN}
${CFG_FN}
${accountFields(userAccount(c.user))}
if [ -z "$ff_ent" ]; then echo 'user=absent'; exit 0; fi
printf 'uid=%s\\ngid=%s\\nhome=%s\\nshell=%s\\n' "$3" "$4" "$6" "$7"
printf 'gids=%s\\nhostname=%s\\ntoday=%s\\n' "$(id -G ${shq(c.user)} 2>/dev/null)" "$(uname -n)" "$(( $(date +%s) / 86400 ))"
${getentFields('shadow', c.user)}
printf 'lastchange=%s\\nmax=%s\\ninactive=%s\\n' "\${3:-}" "\${5:-}" "\${7:-}"
ff_run=/var/run/nologin; [ /var/run -ef /run ] && ff_run=/run/nologin
printf 'nologin_default=%s\\n' "$ff_run" /etc/nologin
ff_cfg "$ff_run"; ff_cfg /etc/nologin
${effectiveValue(sshdEffective(c), 'usepam')}
[ "$ff_v" = yes ] || exit 0
echo 'usepam=yes'
set -f
ff_todo=/etc/pam.d/sshd; [ -e /etc/pam.d/sshd ] || ff_todo='/etc/pam.d/sshd /etc/pam.d/other'
ff_stack=
while set -- $ff_todo; [ $# -gt 0 ]; do
  ff_f=$1; shift; ff_todo=$*
  case " $ff_stack " in *" $ff_f "*) continue ;; esac
  ff_stack="$ff_stack $ff_f"; ff_cfg "$ff_f"
  [ -f "$ff_f" ] || continue
  ff_todo="$ff_todo $(head -c ${FILE_READ_LIMIT} -- "$ff_f" | awk '{ sub(/#.*/, "") } $1 == "@include" { print $2 } tolower($1) ~ /^-?account$/ && tolower($2) ~ /^(include|substack)$/ { print $3 }' | awk '!/^\\// { $0 = "/etc/pam.d/" $0 } { printf "%s ", $0 }')"
done
ff_named=$(for ff_f in $ff_stack; do [ -f "$ff_f" ] && head -c ${FILE_READ_LIMIT} -- "$ff_f" && echo; done | awk '
  { sub(/#.*/, "") }
  tolower($1) ~ /^-?account$/ {
    for (i = 3; i <= NF; i++) if ($i ~ /^(accessfile|file|conffile)=\\//) print substr($i, index($i, "=") + 1)
    if ($0 ~ /pam_access/) access = 1
    if ($0 ~ /pam_time/) print "/etc/security/time.conf"
  }
  END { if (access) print "/etc/security/access.conf\\naccess.d" }')
for ff_f in $ff_named; do
  if [ "$ff_f" = access.d ]; then set +f; for ff_d in /etc/security/access.d/*.conf; do [ -e "$ff_d" ] && ff_cfg "$ff_d"; done; set -f
  else ff_cfg "$ff_f"; fi
done
set +f; true`,
});

/** The account as PAM's modules see it. */
export interface PamAccount {
  user: string;
  uid: string;
  gid: string;
  home: string;
  shell: string;
  /** Every group the user is in (names, then ids), as getgrouplist counts them. */
  groups: string[];
  gids: string[];
  hostname: string;
  /** Days since 1970 on the host, and the shadow fields that pam_unix ages a password by (-1 where empty). */
  today: number;
  lastChange: number;
  maxDays: number;
  inactiveDays: number;
}

/** pamAccountFacts' answer, read. */
export interface PamFacts {
  /** Why the facts could not be gathered (the script failed), if they could not. */
  failed?: string;
  userAbsent: boolean;
  usePam: boolean;
  account: PamAccount;
  files: Map<string, string>;
  absent: Set<string>;
  /** Exists, but is not a regular file (not read). */
  special: Set<string>;
  tooLarge: Set<string>;
  /** Not read: more files were named than fleetfix reads. */
  unread: Set<string>;
  listfileUnsafe: Set<string>;
  nologinDefaults: string[];
  stack: { service: string; lines: PamLine[]; unread: string[] };
}

export function readPamFacts(answer: ExecResult, groups: string[], user: string): PamFacts {
  const r = factRecords(answer);
  const set = (key: string) => new Set(r.get(key) ?? []);
  // No fix fleetfix plans writes these files: they are read as the host has them.
  const files: ConfigFile[] = configFiles(answer, new Map());
  const day = (key: string) => (/^-?\d+$/.test(first(r, key) ?? '') ? Number(first(r, key)) : -1);
  return {
    failed: answer.code === 0 ? undefined : `gathering PAM's account facts failed (exit ${answer.code}): ${answer.stderr.trim().split('\n').slice(-3).join(' ')}`,
    userAbsent: first(r, 'user') === 'absent',
    usePam: first(r, 'usepam') === 'yes',
    account: {
      user,
      uid: first(r, 'uid') ?? '',
      gid: first(r, 'gid') ?? '',
      home: first(r, 'home') ?? '',
      shell: first(r, 'shell') ?? '',
      groups,
      gids: (first(r, 'gids') ?? '').split(/\s+/).filter(Boolean),
      hostname: first(r, 'hostname') ?? '',
      today: day('today'),
      lastChange: day('lastchange'),
      maxDays: day('max'),
      inactiveDays: day('inactive'),
    },
    files: new Map(files.map((f) => [f.path, f.text])),
    absent: set('absent'),
    special: set('special'),
    tooLarge: set('too_large'),
    unread: set('unread'),
    listfileUnsafe: set('listfile_unsafe'),
    nologinDefaults: r.get('nologin_default') ?? [],
    stack: accountStack(files),
  };
}

/**
 * What the PAM checks read first, from their `effective` (sshd -T for the user's connection) and `pam` facts: the
 * connection and PAM's facts, or the plan to give where they cannot be judged (no sshd; a configuration sshd -t
 * refuses, which leaves `unknown` unknown; an unknown user; a PAM file that could not be read).
 */
export function readPamContext(facts: Facts, user: string, unknown: string): { plan: CheckPlan } | { conn: Connection; pam: PamFacts } {
  const r = factRecords(facts.effective!);
  const fail = (error: string) => ({ plan: { ok: false, message: error, changes: [], error } });
  if (first(r, 'sshd') === 'absent') return fail('sshd is not installed');
  if (r.has('invalid')) return { plan: { ok: false, message: `unknown: sshd -T fails, so ${unknown} is unknown until the configuration passes sshd -t`, changes: [] } };
  const conn = connectionOf(r, user);
  const pam = readPamFacts(facts.pam!, conn.groups ?? [], user);
  if (pam.failed) return fail(pam.failed);
  if (pam.userAbsent) return fail(`no such user: ${user}`);
  return { conn, pam };
}
