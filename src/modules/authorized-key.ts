// authorized_key module: a public key is present in (or absent from) a user's authorized_keys, other lines untouched.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { hostPathString, lineString } from '../config/fields.js';
import { brokenLineFindings, dropKey, keyLineProblem, keyOptionsProblem, parseAuthorizedKey, wantKey } from '../facts/authorized-keys.js';
import { chainScript, formatMode, parseChain, parseStat, realDirScript, type FileStat } from '../facts/files.js';
import { first, parseRecords } from '../facts/records.js';
import { fingerprint } from '../util/fingerprint.js';
import { BASE64, shq } from '../util/shell.js';
import { assignHostPath, hostPathAccounts, userAccount, userFromAccount } from './account-facts.js';
import { unifiedDiff } from '../report/diff.js';
import { asUserLine, FILE_READ_LIMIT, inDirScript, replaceFileLines, SAFE_FS_FNS, splitPath } from './safe-fs.js';
import { connectionParams, judgedConnection } from './sshd-effective.js';
import { effectiveValue, sshdEffective } from './sshd-facts.js';
import { defineFact } from '../facts/fact.js';
import { defineModule, type Change, type CheckPlan, type PlannedPath } from './types.js';

const params = z.strictObject({
  /** The user, and the connection whose sshd -T says where the user's keys are (AuthorizedKeysFile, Match blocks included). */
  ...connectionParams.shape,
  /** Exactly one public key line: TYPE BLOB [COMMENT], no options (they go in `options`). */
  key: lineString('one OpenSSH public key line ("ssh-ed25519 AAAA... comment"; set authorized_key, e.g. --var authorized_key=@~/.ssh/id_ed25519.pub)', keyLineProblem, 16384),
  state: z.enum(['present', 'absent']).optional(),
  path: hostPathString.optional(),
  /** The options the key's line must carry exactly (e.g. 'from="198.51.100.0/24"'); none when unset. */
  options: lineString('authorized_keys options like from="198.51.100.0/24",no-pty', keyOptionsProblem, 16384).optional(),
});
type Params = z.output<typeof params>;

/** Expands AuthorizedKeysFile's %%, %h, %u and %U (environment: ff_pat, h, u, U), as sshd does. */
const EXPAND_TOKENS = `awk 'BEGIN { s = ENVIRON["ff_pat"]; out = ""; while ((i = index(s, "%")) > 0) { out = out substr(s, 1, i - 1); c = substr(s, i + 1, 1); if (c == "%") out = out "%"; else if (c == "h") out = out ENVIRON["h"]; else if (c == "u") out = out ENVIRON["u"]; else if (c == "U") out = out ENVIRON["U"]; else out = out "%" c; s = substr(s, i + 2) } print out s }'`;

/**
 * Shell lines that set ff_file to where sshd looks for the user's keys: AuthorizedKeysFile as sshd -T says for the
 * user's connection (the shared fact, gathered first; ~/.ssh/authorized_keys without sshd), tokens expanded, relative
 * to the home. Of several files, the first holding the key (read as the user), else the first; where no file but the
 * first exists, that is the first, and nothing need be read to know it.
 */
function whereSshdLooks(p: Params): string {
  const blob = parseAuthorizedKey(p.key)!.blob;
  // Bounded as the read of the file itself: a huge file, or one on a slow filesystem, is not searched whole.
  const holds = asUserLine('ff_uid', 'ff_gid', 'head -c "$3" -- "$2" 2>/dev/null | grep -qF -- "$1"', [shq(blob), '"$ff_f"', String(FILE_READ_LIMIT)]);
  return `${effectiveValue(sshdEffective(judgedConnection(p)), 'authorizedkeysfile')}
ff_akf=\${ff_v:-.ssh/authorized_keys}
if [ "$ff_akf" = none ]; then echo 'akf_none=yes'; exit 0; fi
set -f; set --
for ff_pat in $ff_akf; do
  case "$ff_pat" in *%*) ff_f=$(ff_pat=$ff_pat h=$ff_home u=${shq(p.user)} U=$ff_uid ${EXPAND_TOKENS}) ;; *) ff_f=$ff_pat ;; esac
  case "$ff_f" in /*) ;; *) ff_f="$ff_home/$ff_f" ;; esac
  set -- "$@" "$ff_f"
done
set +f
ff_file=$1; shift; ff_others=
for ff_f; do [ -f "$ff_f" ] && ff_others=yes; done
if [ -n "$ff_others" ]; then
  for ff_f in "$ff_file" "$@"; do if [ -f "$ff_f" ] && ${holds} >/dev/null; then ff_file=$ff_f; break; fi; done
fi`;
}

/**
 * Reads the file as the user sshd reads it as (see asUserLine), bounded: its size (given, or read here), and its
 * content only when small enough.
 */
const READ_AS_USER = `f=$1 limit=$2 size=$3
if [ -f "$f" ] && [ ! -L "$f" ]; then
  if [ ! -r "$f" ]; then echo 'read_error=not readable by the user'; exit 0; fi
  [ -n "$size" ] || size=$(stat -c %s -- "$f")
  printf 'size=%s\\n' "$size"
  if [ "$size" -le "$limit" ]; then printf 'content=%s\\n' "$(head -c "$limit" -- "$f" | ${BASE64})"; fi
fi`;

/**
 * Where the user cannot read the file (a `sudo cp` left it root's, a directory above is closed to the user), root
 * reads it for the plan, safely: in its directory entered without a link, only a regular file with one name (and
 * only where the kernel stops users linking files they do not own), opened without following a link or waiting;
 * `root_size` is what stat saw, so that a file swapped while read is told apart. The fixes that make it the user's
 * come first; the write itself is still the user's.
 */
const READ_AS_ROOT = `( cd -P -- "$ff_dir" 2>/dev/null && [ "$(pwd -P)" = "$ff_dir" ] || exit 0
  [ "$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null)" = 1 ] || exit 0
  ff_n=\${ff_file##*/}
  ff_s=$(LC_ALL=C stat -c '%F|%h|%s' -- "$ff_n" 2>/dev/null) || exit 0
  case "$ff_s" in 'regular file|1|'* | 'regular empty file|1|'*) ;; *) exit 0 ;; esac
  [ "\${ff_s##*|}" -le ${FILE_READ_LIMIT} ] || exit 0
  printf 'root_size=%s\\nroot_content=%s\\n' "\${ff_s##*|}" "$(dd if="$ff_n" iflag=nofollow,nonblock,count_bytes count=${FILE_READ_LIMIT} status=none 2>/dev/null | ${BASE64})" )`;

/** The facts the authorized_key check reads. */

const authorizedKeyFileFact = defineFact<Params>({
  name: 'authorized_key.file',
  after: (p) => [userAccount(p.user), ...(p.path ? hostPathAccounts(p.path, p.user) : [sshdEffective(judgedConnection(p))])],
  script(p) {
    return [
      userFromAccount(userAccount(p.user), `echo 'user=absent'; exit 0`),
      `printf 'uid=%s\\ngid=%s\\nhome=%s\\n' "$ff_uid" "$ff_gid" "$ff_home"`,
      p.path ? assignHostPath('ff_file', p.path, p.user) : whereSshdLooks(p),
      `ff_dir=\${ff_file%/*}; ff_dir=\${ff_dir:-/}`,
      `printf 'file=%s\\ndir=%s\\n' "$ff_file" "$ff_dir"`,
      realDirScript('dir_real', 'ff_dir'),
      // What sshd's StrictModes examines (auth_secure_path): the file, then each directory up to the home, or to /.
      // One stat for them all, the file's and its directory's own too; a path that does not exist prints nothing
      // (sshd finds no file there to refuse).
      `ff_p=$ff_file; set --; while :; do set -- "$@" "$ff_p"; if [ "$ff_p" = "$ff_home" ] || [ "$ff_p" = / ]; then break; fi; ff_p=\${ff_p%/*}; ff_p=\${ff_p:-/}; done`,
      chainScript('ff_file', 'ff_dir'),
      `ff_read=$(${asUserLine('ff_uid', 'ff_gid', READ_AS_USER, ['"$ff_file"', String(FILE_READ_LIMIT), '"$ff_size"'])})`,
      `printf '%s\\n' "$ff_read"`,
      `case "$ff_read" in size=* | *"\n"size=*) ;; *) if [ -f "$ff_file" ]; then ${READ_AS_ROOT}; fi ;; esac`,
    ].join('\n');
  },
});

export const authorizedKeyModule = defineModule({
  name: 'authorized_key',
  summary: "a public key is present in (or absent from) a user's authorized_keys",
  params,
  facts: (p: Params) => ({ keys: authorizedKeyFileFact(p) }),
  plan(p: Params, facts, planned): CheckPlan {
    const r = parseRecords(facts.keys!.stdout);
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    if (first(r, 'user') === 'absent') return fail(`no such user: ${p.user}`);
    if (first(r, 'error')) return fail(first(r, 'error')!);
    if (first(r, 'akf_none') === 'yes') return fail(`AuthorizedKeysFile is none for ${p.user}: sshd reads no authorized_keys file, so no key logs ${p.user} in`);
    const file = first(r, 'file');
    const dir = first(r, 'dir');
    const home = first(r, 'home');
    const seenChain = parseChain(r.get('chain') ?? []);
    // Where every path of the chain exists, its records are the file's and the directory's stats; statScript's otherwise.
    const statOf = (key: string, path: string | undefined): FileStat | 'absent' | undefined => parseStat(r, key) ?? seenChain.find((c) => c.path === path)?.stat;
    const dirSeen = statOf('dir_stat', dir);
    const fileSeen = statOf('file_stat', file);
    if (!file || !dir || !home || !dirSeen || !fileSeen) return fail(facts.keys!.stderr.trim() || 'could not read authorized_keys facts');
    const dirReal = first(r, 'dir_real');
    if (dirSeen !== 'absent' && dirReal !== dir) return fail(`${dir} leads through a symbolic link${dirReal ? ` (to ${dirReal})` : ''}; fleetfix changes nothing reached through a link`);
    if (fileSeen !== 'absent' && fileSeen.type === 'symlink') return fail(`${file} is a symbolic link; fleetfix changes nothing reached through a link`);
    if (fileSeen !== 'absent' && fileSeen.type !== 'file') return fail(`${file} is not a regular file; not touching it`);
    if (dirSeen !== 'absent' && dirSeen.type !== 'directory') return fail(`${dir} is not a directory; not touching it`);
    // As the fixes planned before this check leave them: the file, its directory and StrictModes' chain.
    const uid = Number(first(r, 'uid'));
    const fileLeft = planned.get(file);
    const dirStat = planned.get(dir)?.stat ?? dirSeen;
    const fileStat = fileLeft?.stat ?? fileSeen;
    const chain = chainPaths(file, home).flatMap((path) => {
      const stat = planned.get(path)?.stat ?? seenChain.find((c) => c.path === path)?.stat;
      return stat ? [{ path, stat }] : [];
    });
    const content = contentToPlanOn(r, p.user, fileSeen, fileLeft, readableBy(chain, uid));
    if ('error' in content) return fail(`${file} ${content.error}`);

    const key = parseAuthorizedKey(p.key)!;
    const wantPresent = (p.state ?? 'present') === 'present';
    const label = `${key.type} ${key.comment ?? fingerprint(Buffer.from(key.blob, 'base64'))}`;
    const before = content.raw.toString('utf8');
    const wantedLine = [p.options, key.type, key.blob, key.comment].filter(Boolean).join(' ');
    const edit = wantPresent ? wantKey(before, key, wantedLine, p.options) : dropKey(before, key);
    const after = edit.after;
    const findings = brokenLineFindings(file, edit.broken);
    const refusedNow = strictModesProblems(seenChain, uid);
    const refused = strictModesProblems(chain, uid);
    const refusal = refused.length ? `; but sshd's StrictModes refuses ${refused.join(', ')}` : refusedNow.length ? `; sshd's StrictModes refuses ${refusedNow.join(', ')} until the fixes before this check are made` : '';
    const wanted = wantPresent ? `present${p.options ? ` with options ${p.options}` : ' without options'}` : 'absent';
    const asSeen = refusedNow.length === 0 && content.seen;
    if (after === before) return { ok: refused.length === 0 && asSeen, message: `key ${label} is ${wanted} in ${file}${asSeen ? '' : refusal || ' once the fixes before this check are made'}`, changes: [], findings };

    const owner = `${uid}:${first(r, 'gid')}`;
    const changes: Change[] = [];
    const leaves: PlannedPath[] = [];
    if (wantPresent && dirStat === 'absent') {
      const parent = splitPath(dir);
      const n = shq(parent.name);
      changes.push({
        summary: `create directory ${dir} (mode 0700, owner ${p.user})`,
        diff: `${dir}: absent -> directory (mode 0700, owner ${p.user})`,
        script: inDirScript(parent.dir, [`[ -e ${n} ] || [ -L ${n} ] || ff_as_owner mkdir -m 0700 -- ${n}`, `ff_give ${n} ${shq(owner)} directory`, `ff_chmod ${n} 0700 directory`]),
      });
      leaves.push({ path: dir, stat: { type: 'directory', mode: 0o700, owner: p.user, group: p.user, uid, gid: Number(first(r, 'gid')) } });
    }
    const fixed = edit.repaired && `line${edit.repaired.first === edit.repaired.last ? ` ${edit.repaired.first}` : `s ${edit.repaired.first}-${edit.repaired.last}`}`;
    const summary = !wantPresent ? `remove key ${label} from ${file}` : edit.repaired ? `repair key ${label} in ${file} (${fixed}: ${edit.repaired.problem})` : edit.action === 'options' ? `set the options of key ${label} in ${file} to ${p.options ? `"${p.options}"` : 'none'}` : fileStat === 'absent' ? `create ${file} with key ${label}` : `add key ${label} to ${file}`;
    const sha = fileStat === 'absent' ? null : createHash('sha256').update(content.raw).digest('hex');
    changes.push({
      summary,
      diff: unifiedDiff(file, before, after, fileStat === 'absent'),
      script: ['set -eu', SAFE_FS_FNS, replaceFileLines(dir, splitPath(file).name, after, sha, { mode: '0600', owner })].join('\n'),
    });
    leaves.push({ path: file, stat: fileStat !== 'absent' ? fileStat : { type: 'file', mode: 0o600, owner: p.user, group: p.user, uid, gid: Number(first(r, 'gid')) }, content: after });
    return { ok: false, message: `${changes.map((c) => c.summary).join('; ')}${refusal}`, changes, leaves, findings };
  },
});

/** The file, then each directory above it up to the home (or /): what StrictModes examines, as the shell lists it. */
function chainPaths(file: string, home: string): string[] {
  const paths = [file];
  for (let p = file; p !== home && p !== '/'; ) paths.push((p = p.slice(0, p.lastIndexOf('/')) || '/'));
  return paths;
}

/**
 * Whether the user can read the file at the head of `chain` and enter each directory above it (up to the home) by
 * its owner's or others' bits: a directory of the user's with u+x, or any with o+x.
 */
function readableBy(chain: { path: string; stat: FileStat }[], uid: number): boolean {
  const [file, ...dirs] = chain;
  if (!file || !(file.stat.uid === uid ? file.stat.mode & 0o400 : file.stat.mode & 0o004)) return false;
  return dirs.every(({ stat }) => (stat.uid === uid ? stat.mode & 0o100 : stat.mode & 0o001));
}

/**
 * The content to plan the fix on, and whether it is the file as the host has it now (`seen`): what a fix planned
 * before leaves there; else what the user read; else, where the fixes before make the file the user's to read, what
 * root read for the plan (the write is the user's, after those fixes).
 */
function contentToPlanOn(r: Map<string, string[]>, user: string, fileSeen: FileStat | 'absent', left: PlannedPath | undefined, readableAfter: boolean): { raw: Buffer; seen: boolean } | { error: string } {
  if (left?.content !== undefined) return { raw: Buffer.from(left.content), seen: false };
  if (fileSeen === 'absent') return { raw: Buffer.alloc(0), seen: true };
  const size = first(r, 'size');
  if (size !== undefined) {
    if (Number(size) > FILE_READ_LIMIT) return { error: `is ${size} bytes, over the ${FILE_READ_LIMIT} bytes fleetfix reads from a host; not reading it` };
    return { raw: Buffer.from(first(r, 'content') ?? '', 'base64'), seen: true };
  }
  const unreadable = `cannot be read as ${user} (${first(r, 'read_error') ?? 'a directory above it is closed to the user'}), and sshd reads it as the user`;
  const asRoot = first(r, 'root_content');
  if (!readableAfter || asRoot === undefined) return { error: unreadable };
  const raw = Buffer.from(asRoot, 'base64');
  if (raw.length !== Number(first(r, 'root_size'))) return { error: 'changed while it was read; run again' };
  return { raw, seen: false };
}

/**
 * What sshd's StrictModes would refuse in the chain (the file, then each directory up to the home): anything owned
 * by neither the user nor root, or writable by group or others.
 */
function strictModesProblems(chain: { path: string; stat: FileStat }[], uid: number): string[] {
  return chain.flatMap(({ path, stat }) => {
    if (stat.uid !== 0 && stat.uid !== uid) return [`${path} (owned by ${stat.owner})`];
    if (stat.mode & 0o022) return [`${path} (writable by group or others: mode ${formatMode(stat.mode)})`];
    return [];
  });
}
