// sshd_config module: directives judged by sshd's effective configuration (sshd -T), fixed where the value comes from, validated by sshd -t.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { controlCharIn } from '../config/fields.js';
import { flatten, parseMaxStartups, type ConfigFile } from '../facts/sshd-config.js';
import { factRecords, first } from '../facts/records.js';
import { listenerPorts, sameListeners, socketListeners, sshdListeners } from '../facts/socket-listeners.js';
import { unifiedDiff } from '../report/diff.js';
import { shq } from '../util/shell.js';
import { FILE_READ_LIMIT, replaceFileLines, SAFE_FS_FNS, splitPath, unchangedGuard } from './safe-fs.js';
import { editConfig, type WantedDirective } from './sshd-config-edit.js';
import { connectionOf, connectionParams, describeConnection } from './sshd-effective.js';
import type { Connection } from '../facts/sshd-match.js';
import { configFiles, effectiveConfig, SSHD_CONFIG, SSHD_CONFIG_OK_FN, sshdConfigFiles, sshdEffective, sshdSocket } from './sshd-facts.js';
import { restartSocketScript, SSHD_FN } from './sshd-socket.js';
import { defineModule, type Change, type CheckPlan, type PlannedPath } from './types.js';

const KEYWORDS = new Set(
  'acceptenv addressfamily allowagentforwarding allowgroups allowstreamlocalforwarding allowtcpforwarding allowusers authenticationmethods authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner casignaturealgorithms challengeresponseauthentication chrootdirectory ciphers clientalivecountmax clientaliveinterval compression denygroups denyusers disableforwarding exposeauthinfo fingerprinthash forcecommand gatewayports gssapiauthentication gssapicleanupcredentials hostbasedacceptedalgorithms hostbasedauthentication hostbasedusesnamefrompacketonly hostcertificate hostkey hostkeyagent hostkeyalgorithms ignorerhosts ignoreuserknownhosts ipqos kbdinteractiveauthentication kerberosauthentication kexalgorithms listenaddress logingracetime loglevel macs maxauthtries maxsessions maxstartups passwordauthentication permitemptypasswords permitlisten permitopen permitrootlogin permittty permittunnel permituserenvironment permituserrc persourcemaxstartups persourcenetblocksize pidfile port printlastlog printmotd pubkeyacceptedalgorithms pubkeyauthentication pubkeyauthoptions rekeylimit requiredrsasize revokedkeys securitykeyprovider setenv streamlocalbindmask streamlocalbindunlink strictmodes subsystem syslogfacility tcpkeepalive trustedusercakeys unusedconnectiontimeout usedns usepam versionaddendum x11displayoffset x11forwarding x11uselocalhost xauthlocation'.split(' '),
);
/** sshd -T prints some values under another name than the one written. */
const SYNONYMS: Record<string, string> = { 'prohibit-password': 'without-password' };

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const directiveValue = z.union([scalar, z.array(z.union([z.string(), z.number()])).min(1)]);
export type DirectiveValue = z.output<typeof directiveValue>;
/** Directives by keyword; `for: { user, ... }` judges them as sshd applies them to that user's connection (Match blocks). */
const params = z.object({ for: z.unknown().optional() }).catchall(directiveValue).superRefine((p, ctx) => {
  // `for` is checked here, beside the directives, so that a bad value in either is reported with the other's.
  if (p.for !== undefined) for (const issue of connectionParams.safeParse(p.for).error?.issues ?? []) ctx.addIssue({ code: 'custom', path: ['for', ...issue.path.map(String)], message: issue.message });
  for (const key of Object.keys(directivesOf(p))) {
    if (!KEYWORDS.has(key.toLowerCase())) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not an sshd_config directive fleetfix knows` });
  }
  // One value is one line of the file: a newline in it would write directives of its own.
  for (const [key, value] of Object.entries(directivesOf(p))) {
    (Array.isArray(value) ? value : [value]).forEach((v, i) => {
      const problem = typeof v !== 'string' ? undefined : v.trim() === '' ? 'got an empty string' : controlCharIn(v) && `found ${controlCharIn(v)}`;
      if (problem) ctx.addIssue({ code: 'custom', path: Array.isArray(value) ? [key, i] : [key], message: `expected a value on one line without control characters; ${problem}` });
    });
  }
  if (Object.keys(directivesOf(p)).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'expected at least one directive, e.g. { PubkeyAuthentication: "yes" }' });
  const ms = Object.entries(directivesOf(p)).find(([k]) => k.toLowerCase() === 'maxstartups');
  if (ms && !parseMaxStartups(String(ms[1]))) ctx.addIssue({ code: 'custom', path: [ms[0]], message: 'expected start:rate:full, e.g. "10:30:100"' });
}).transform((p) => ({ ...p, for: p.for === undefined ? undefined : connectionParams.parse(p.for) }));
type Params = z.output<typeof params>;

/** The directives of the parameters, without `for`. */
function directivesOf(p: Record<string, unknown>): Record<string, DirectiveValue> {
  const { for: _for, ...rest } = p;
  return rest as Record<string, DirectiveValue>;
}

const render = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

/** Whether the effective values satisfy the wanted one; MaxStartups is a minimum, ListenAddress "any" means every address. */
export function satisfied(keyword: string, wanted: DirectiveValue, effective: string[]): boolean {
  const lower = keyword.toLowerCase();
  if (lower === 'maxstartups') {
    const want = parseMaxStartups(render(wanted as string));
    const have = parseMaxStartups(effective[0] ?? '');
    return !!want && !!have && have.start >= want.start && have.full >= want.full;
  }
  if (lower === 'listenaddress') {
    const hosts = effective.map((e) => e.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
    if (wanted === 'any') return hosts.length > 0 && hosts.every((h) => h === '0.0.0.0' || h === '::');
    return sameSet(hosts, (Array.isArray(wanted) ? wanted : [wanted]).map((w) => String(w).replace(/^\[|\]$/g, '')));
  }
  const want = (Array.isArray(wanted) ? wanted : [wanted]).map((w) => normalize(render(w)));
  const have = effective.flatMap((e) => e.split(/\s+/)).map(normalize);
  return Array.isArray(wanted) || lower === 'port' ? sameSet(have, want) : have.join(' ') === want.join(' ');
}

function normalize(v: string): string {
  const lower = v.toLowerCase();
  return SYNONYMS[lower] ?? lower;
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

export const sshdConfigModule = defineModule({
  name: 'sshd_config',
  summary: 'sshd directives, judged by sshd -T and edited where the effective value is set',
  params,
  facts: (p: Params) => ({ effective: sshdEffective(p.for), files: sshdConfigFiles(undefined), socket: sshdSocket(undefined) }),
  plan(p: Params, facts, planned): CheckPlan {
    const r = factRecords(facts.effective!, facts.files!, facts.socket!);
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    if (first(r, 'sshd') === 'absent') return fail('sshd is not installed');
    const tooLarge = first(r, 'too_large');
    if (tooLarge) return fail(`${tooLarge} is over the ${FILE_READ_LIMIT} bytes fleetfix reads from a host; not reading it`);
    const files = configFiles(facts.files!, planned);
    if (!files.some((f) => f.path === SSHD_CONFIG)) return fail(`cannot read ${SSHD_CONFIG}`);
    if (r.has('invalid')) return planInvalid(files, r.get('invalid')!);
    const effective = effectiveConfig(facts.effective!);
    const conn = p.for && connectionOf(r, p.for.user);
    const judged = conn ? `sshd -T for ${describeConnection(conn)}` : 'sshd -T';
    const wanted = directivesOf(p);

    const wrong = unsatisfied(wanted, effective);
    const socketUnit = first(r, 'socket_unit');
    if (wrong.length === 0 && socketUnit && Object.keys(wanted).some((k) => /^(port|listenaddress)$/i.test(k))) {
      // sshd_config is right, but a socket-activated sshd listens where the socket does, until it follows.
      const want = sshdListeners(effective.get('listenaddress') ?? []);
      const have = socketListeners(r.get('socket_listen') ?? [], first(r, 'socket_bind'));
      if (!sameListeners(want, have)) {
        const describe = (l: Set<string>) => [...l].sort().join(', ');
        const message = `sshd -T listens on ${describe(want)}, but ${socketUnit} listens on ${describe(have)}: daemon-reload and restart ${socketUnit}`;
        const unit = socketUnit.replace(/\.socket$/, '');
        return { ok: false, message, changes: [{ summary: message, diff: `${socketUnit}: listen ${describe(have)} -> ${describe(want)}`, script: restartSocketScript(unit, listenerPorts(want)) }] };
      }
    }
    if (wrong.length === 0) return { ok: true, message: `${judged}: ${Object.keys(wanted).map((k) => `${k} ${(effective.get(k.toLowerCase()) ?? []).join(',')}`).join('; ')}`, changes: [] };

    const edited = editsFor(files, wrong, conn);
    const summary = (conn ? `for ${describeConnection(conn)}: ` : '') + wrong.map(([k, v]) => `${k} ${(effective.get(k.toLowerCase()) ?? ['(unset)']).join(',')} -> ${Array.isArray(v) ? v.join(',') : render(v)}`).join('; ');
    return { ok: false, message: summary, changes: [editChange(files, edited, summary)], leaves: editedFiles(edited) };
  },
});

/** The directives of `wanted` that sshd -T's `effective` values do not satisfy. */
export function unsatisfied(wanted: Record<string, DirectiveValue>, effective: Map<string, string[]>): [string, DirectiveValue][] {
  return Object.entries(wanted).filter(([k, v]) => !satisfied(k, v, effective.get(k.toLowerCase()) ?? []));
}

/** The files edited so that sshd applies the `wrong` directives' wanted values (to `conn`'s connection): path -> text. */
export function editsFor(files: ConfigFile[], wrong: [string, DirectiveValue][], conn?: Connection): Map<string, string> {
  const edits: WantedDirective[] = wrong.map(([keyword, v]) => ({
    keyword,
    values: keyword.toLowerCase() === 'listenaddress' && v === 'any' ? null : (Array.isArray(v) ? v : [v]).map(render),
  }));
  return editConfig(files, SSHD_CONFIG, edits, conn);
}

/**
 * The configuration on disk fails sshd -T (sshd would not start): each line the validator names (FILE line N: why)
 * is commented out, as a backed-up edit validated like any other; a line in a file not read is an error naming it.
 */
function planInvalid(files: ConfigFile[], output: string[]): CheckPlan {
  const named = output.map((l) => /^(\/.+?):? line (\d+): (.+)$/.exec(l.trim())).filter((m): m is RegExpExecArray => m !== null);
  const why = named.map((m) => `${m[1]} line ${m[2]}: ${m[3]}`).join('; ') || output.join(' ');
  const message = `the sshd configuration fails sshd -t: ${why}`;
  const edited = new Map<string, string>();
  for (const [, path, line] of named) {
    const file = files.find((f) => f.path === path);
    const lines = (edited.get(path!) ?? file?.text)?.split('\n');
    const index = Number(line) - 1;
    if (!lines || lines[index] === undefined) return { ok: false, message, changes: [], error: `${message} (fleetfix cannot edit ${path} line ${line})` };
    if (!lines[index]!.startsWith('# fleetfix: ')) lines[index] = `# fleetfix: ${lines[index]!.trim()}`;
    edited.set(path!, lines.join('\n'));
  }
  if (edited.size === 0) return { ok: false, message, changes: [], error: message };
  return { ok: false, message: `${message}; comment it out`, changes: [editChange(files, edited, `comment out what sshd -t rejects: ${why}`)], leaves: editedFiles(edited) };
}

/** What an edit leaves: each file's new text, for the checks planned after it to edit further. */
export function editedFiles(edited: Map<string, string>): PlannedPath[] {
  return [...edited].map(([path, content]) => ({ path, content }));
}

/** The change that writes `edited` (path -> new text): a diff per file, sshd -t on the result first, backups to roll back to. */
export function editChange(files: ConfigFile[], edited: Map<string, string>, summary: string): Change {
  const candidate = files.map((f) => ({ path: f.path, text: edited.get(f.path) ?? f.text }));
  const changed = files.filter((f) => edited.has(f.path));
  const validate = `ff_sshd_config_ok ${shq(flatten(candidate, SSHD_CONFIG))}`;
  return {
    summary: `sshd_config: ${summary} (${changed.map((f) => f.path).join(', ')})`,
    diff: changed.map((f) => unifiedDiff(f.path, f.text, edited.get(f.path)!)).join('\n'),
    preflight: `${SSHD_FN}\n${SSHD_CONFIG_OK_FN}\n${validate}`,
    script: writeScript(changed.map((f) => ({ path: f.path, before: f.text, after: edited.get(f.path)! }))),
    // The newest backup that holds the file as this change found it: another change to the file may have come after.
    rollback: changed.map((f) => `for ff_b in $(ls -1 -- ${shq(f.path)}.fleetfix-*.bak 2>/dev/null | sort -r); do if [ "$(sha256sum < "$ff_b")" = ${shq(`${sha256(f.text)}  -`)} ]; then cp -p -- "$ff_b" ${shq(f.path)}; break; fi; done`).join('\n'),
  };
}

/**
 * Apply: every file must still be as read (the new configuration passed sshd -t in the preflight, which always runs
 * first); each file is backed up (FILE.fleetfix-TIMESTAMP.bak beside it, or -2, -3... after another change to it in
 * the same second, never over an older backup) and replaced atomically with its mode and owner; then sshd -t runs on
 * the real files, restoring the backups if it fails.
 */
function writeScript(files: { path: string; before: string; after: string }[]): string {
  const lines = ['set -eu', SSHD_FN, SSHD_CONFIG_OK_FN, SAFE_FS_FNS, 'ff_ts=$(date +%Y%m%dT%H%M%S)'];
  files.forEach((f, i) => {
    const name = `${shq(`${f.path}.fleetfix-`)}"$ff_ts"`;
    lines.push(`ff_bak${i}=${name}.bak; ff_n=1; while [ -e "$ff_bak${i}" ] || [ -L "$ff_bak${i}" ]; do ff_n=$((ff_n + 1)); ff_bak${i}=${name}-$ff_n.bak; done`);
  });
  for (const f of files) {
    // sshd reads its configuration as root: only a directory no one else can write may hold it, and so the backup.
    lines.push(`( ff_enter ${shq(splitPath(f.path).dir)}; [ "$ff_dir_uid" = 0 ] || ff_refuse "$PWD belongs to uid $ff_dir_uid; not writing sshd's configuration there" )`);
    lines.push(unchangedGuard(f.path, sha256(f.before)));
  }
  lines.push('ff_restore() {', ...files.map((f, i) => `  mv -f -- "$ff_bak${i}" ${shq(f.path)}`), '}');
  files.forEach((f, i) => {
    const { dir, name } = splitPath(f.path);
    lines.push(`cp -p -- ${shq(f.path)} "$ff_bak${i}"`, replaceFileLines(dir, name, f.after, sha256(f.before), { mode: '0600', owner: '0:0' }));
  });
  lines.push(`if ! ff_sshd_config_ok 2>/dev/null; then ff_restore; printf 'sshd -t failed after writing; backups restored: %s\\n' "$ff_err" >&2; exit 1; fi`);
  return lines.join('\n');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
