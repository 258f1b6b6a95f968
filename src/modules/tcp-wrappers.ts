// tcp_wrappers module: where sshd links libwrap, /etc/hosts.allow and /etc/hosts.deny let this machine's address reach it;
// fixed (let_in) by taking the address out of the line that bans it, or by a line for it alone in hosts.allow.
import { z } from 'zod';
import { boolLike } from '../config/fields.js';
import { evaluateAccess, HOSTS_ALLOW, HOSTS_DENY, parseAccessFile, type Unsure } from '../facts/hosts-access.js';
import { defineFact } from '../facts/fact.js';
import { factRecords, first } from '../facts/records.js';
import { unifiedDiff } from '../report/diff.js';
import { asRecords, shq } from '../util/shell.js';
import { controllerAddress, controllerAddressFacts, controllerAddressParam, NO_ADDRESS } from './controller-address.js';
import { letAddressIn, where, type AccessFile } from './hosts-access-edit.js';
import { FILE_READ_LIMIT, replaceFileLines, SAFE_FS_FNS, splitPath, unchangedGuard } from './safe-fs.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  addr: controllerAddressParam,
  /** Let this machine's address in where a line keeps it out (edits hosts.allow or hosts.deny). */
  let_in: boolLike.optional(),
});
type Params = z.output<typeof params>;

/** The daemon name Debian's sshd hands libwrap (its program name). */
const DAEMON = 'sshd';
/** Where sshd and, from OpenSSH 9.8 on, its per-connection binaries live; any of them linking libwrap consults the files. */
const SSHD_BINARIES = ['/usr/lib/openssh/sshd-session', '/usr/lib/openssh/sshd-auth', '/usr/libexec/openssh/sshd-session', '/usr/libexec/openssh/sshd-auth'];
const FILES = [
  { path: HOSTS_ALLOW, key: 'allow' },
  { path: HOSTS_DENY, key: 'deny' },
] as const;

/**
 * The sshd binaries that link libwrap (`libwrap=`, its name read in the binary: nothing is run), the address judged,
 * and each file that exists: its sha256 and its lines (`allow=` / `deny=`), or `too_large=` past the read limit.
 */
const wrappersFact = defineFact<string | undefined>({
  name: 'tcp_wrappers.files',
  script: (addr) => `${controllerAddressFacts(addr)}
for ff_b in "$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)" ${SSHD_BINARIES.map(shq).join(' ')}; do
  if [ -f "$ff_b" ] && LC_ALL=C grep -q 'libwrap\\.so' "$ff_b" 2>/dev/null; then printf 'libwrap=%s\\n' "$ff_b"; fi
done
${FILES.map(
  (f) => `if [ -f ${f.path} ]; then
  if [ "$(head -c ${FILE_READ_LIMIT + 1} -- ${f.path} | wc -c)" -gt ${FILE_READ_LIMIT} ]; then echo 'too_large=${f.path}'
  else printf '${f.key}_sha=%s\\n' "$(sha256sum < ${f.path} | cut -d' ' -f1)"; head -c ${FILE_READ_LIMIT} -- ${f.path} | ${asRecords(f.key)}; fi
fi`,
).join('\n')}
true`,
});

export const tcpWrappersModule = defineModule({
  name: 'tcp_wrappers',
  summary: "where sshd links libwrap, /etc/hosts.allow and /etc/hosts.deny let this machine's address reach it",
  params,
  facts: (p: Params) => ({ files: wrappersFact(p.addr) }),
  plan(p: Params, facts): CheckPlan {
    const r = factRecords(facts.files!);
    const tooLarge = first(r, 'too_large');
    if (tooLarge) return fail(`${tooLarge} is over the ${FILE_READ_LIMIT} bytes fleetfix reads from a host; not reading it`);
    if (!r.has('libwrap')) return { ok: true, message: 'sshd does not link libwrap: /etc/hosts.allow and /etc/hosts.deny do not apply to it', changes: [] };
    const files: AccessFile[] = FILES.map((f) => ({ path: f.path, lines: r.get(f.key) ?? [], sha256: first(r, `${f.key}_sha`) }));
    const rules = files.flatMap((f) => parseAccessFile(f.path, f.lines.join('\n')));
    const { addr, fromSession } = controllerAddress(r);
    const verdict = evaluateAccess(rules, DAEMON, addr);
    if (verdict.allowed === true) return { ok: true, message: `TCP wrappers let ${addr ?? 'this machine'} reach sshd (${verdict.by ? where(verdict.by) : 'no line matches'})`, changes: [] };
    if (!addr) {
      if (verdict.allowed === false) return fail(`TCP wrappers refuse sshd to every address: ${where(verdict.by)}; ${NO_ADDRESS}`);
      return { ok: true, message: 'TCP wrappers: some lines may refuse sshd', changes: [], findings: [`lines that may refuse sshd were not judged: ${describeUnsure(verdict.unsure)}; ${NO_ADDRESS}`] };
    }
    if (verdict.allowed === undefined) {
      if (fromSession) return { ok: true, message: `TCP wrappers let ${addr} reach sshd: this session came in from it (fleetfix cannot judge ${describeUnsure(verdict.unsure)})`, changes: [] };
      return fail(`TCP wrappers may refuse sshd to ${addr}: fleetfix cannot judge ${describeUnsure(verdict.unsure)}${verdict.by ? `, and ${where(verdict.by)} would then decide` : ''}; nothing is changed`);
    }
    const refused = `TCP wrappers refuse sshd to ${addr}: ${where(verdict.by)}${verdict.by.file === HOSTS_ALLOW ? ` (${verdict.by.effect})` : ''}`;
    if (verdict.by.runs) return fail(`${refused}; the line runs a command (${verdict.by.runs}), so fleetfix does not change it`);
    if (p.let_in !== true) return fail(`${refused} (let_in: true lets fleetfix change that)`);
    const edit = letAddressIn(files, DAEMON, addr);
    if (!edit) return fail(`${refused}; ${unsureNote(verdict.unsure)}fleetfix finds no edit that lets ${addr} alone in`);
    return { ok: false, message: refused, changes: [editChange(files, edit.edited, edit.says.join('; '))] };
  },
});

const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
const describeUnsure = (unsure: Unsure[]) => unsure.map((u) => `${where(u.rule)} (${u.why})`).join('; ');
const unsureNote = (unsure: Unsure[]) => (unsure.length ? `${describeUnsure(unsure)}; ` : '');
const textOf = (lines: string[]) => (lines.length ? `${lines.join('\n')}\n` : '');

/**
 * Each file written whole: still as read (its sha256), a backup beside it (FILE.fleetfix-TIMESTAMP.bak), then replaced
 * atomically in /etc, which only root may write, keeping its mode and owner (a new hosts.allow: 0644 root). No rollback:
 * taking a refusal away cannot lock anyone out, so no safety net is armed for it.
 */
function editChange(files: AccessFile[], edited: Map<string, string[]>, summary: string): Change {
  const changed = files.filter((f) => edited.has(f.path)).map((f) => ({ ...f, before: textOf(f.lines), after: textOf(edited.get(f.path)!) }));
  const lines = ['set -eu', SAFE_FS_FNS, 'ff_ts=$(date +%Y%m%dT%H%M%S)'];
  for (const f of changed) {
    const { dir, name } = splitPath(f.path);
    lines.push(`( ff_enter ${shq(dir)}; [ "$ff_dir_uid" = 0 ] || ff_refuse "$PWD belongs to uid $ff_dir_uid; not writing ${name} there" )`);
    if (f.sha256) lines.push(unchangedGuard(f.path, f.sha256), `cp -p -- ${shq(f.path)} ${shq(`${f.path}.fleetfix-`)}"$ff_ts".bak`);
    lines.push(replaceFileLines(dir, name, f.after, f.sha256 ?? null, { mode: '0644', owner: '0:0' }));
  }
  return {
    summary: `tcp wrappers: ${summary}`,
    diff: changed.map((f) => unifiedDiff(f.path, f.before, f.after, !f.sha256)).join('\n'),
    script: lines.join('\n'),
  };
}
