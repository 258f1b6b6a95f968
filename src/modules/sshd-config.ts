// sshd_config module: directives judged by sshd's effective configuration (sshd -T), fixed where the value comes from, validated by sshd -t.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { controlCharIn } from '../config/fields.js';
import { flatten, parseEffective, parseMaxStartups, type ConfigFile } from '../facts/sshd-config.js';
import { first, parseRecords } from '../facts/records.js';
import { unifiedDiff } from '../report/diff.js';
import { BASE64, shq } from '../util/shell.js';
import { FILE_READ_LIMIT, replaceFileLines, SAFE_FS_FNS, splitPath, unchangedGuard } from './safe-fs.js';
import { editConfig, type WantedDirective } from './sshd-config-edit.js';
import { defineModule, type CheckPlan } from './types.js';

export const SSHD_CONFIG = '/etc/ssh/sshd_config';

/**
 * ff_sshd: sshd -t/-T as the host has it. They insist on the privilege separation directory, which is missing where
 * sshd has not run since boot; then they run in a private mount namespace with a scratch /run, so that checking
 * changes nothing on the host.
 */
const SSHD_FN = `ff_sshd_bin=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
ff_sshd() { if [ -d /run/sshd ]; then "$ff_sshd_bin" "$@"; else unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs /run && mkdir /run/sshd && exec "$0" "$@"' "$ff_sshd_bin" "$@"; fi; }`;

const KEYWORDS = new Set(
  'acceptenv addressfamily allowagentforwarding allowgroups allowstreamlocalforwarding allowtcpforwarding allowusers authenticationmethods authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner casignaturealgorithms challengeresponseauthentication chrootdirectory ciphers clientalivecountmax clientaliveinterval compression denygroups denyusers disableforwarding exposeauthinfo fingerprinthash forcecommand gatewayports gssapiauthentication gssapicleanupcredentials hostbasedacceptedalgorithms hostbasedauthentication hostbasedusesnamefrompacketonly hostcertificate hostkey hostkeyagent hostkeyalgorithms ignorerhosts ignoreuserknownhosts ipqos kbdinteractiveauthentication kerberosauthentication kexalgorithms listenaddress logingracetime loglevel macs maxauthtries maxsessions maxstartups passwordauthentication permitemptypasswords permitlisten permitopen permitrootlogin permittty permittunnel permituserenvironment permituserrc persourcemaxstartups persourcenetblocksize pidfile port printlastlog printmotd pubkeyacceptedalgorithms pubkeyauthentication pubkeyauthoptions rekeylimit requiredrsasize revokedkeys securitykeyprovider setenv streamlocalbindmask streamlocalbindunlink strictmodes subsystem syslogfacility tcpkeepalive trustedusercakeys unusedconnectiontimeout usedns usepam versionaddendum x11displayoffset x11forwarding x11uselocalhost xauthlocation'.split(' '),
);
/** sshd -T prints some values under another name than the one written. */
const SYNONYMS: Record<string, string> = { 'prohibit-password': 'without-password' };

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const params = z.record(z.string(), z.union([scalar, z.array(z.union([z.string(), z.number()])).min(1)])).superRefine((p, ctx) => {
  for (const key of Object.keys(p)) {
    if (!KEYWORDS.has(key.toLowerCase())) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not an sshd_config directive fleetfix knows` });
  }
  // One value is one line of the file: a newline in it would write directives of its own.
  for (const [key, value] of Object.entries(p)) {
    (Array.isArray(value) ? value : [value]).forEach((v, i) => {
      const problem = typeof v !== 'string' ? undefined : v.trim() === '' ? 'got an empty string' : controlCharIn(v) && `found ${controlCharIn(v)}`;
      if (problem) ctx.addIssue({ code: 'custom', path: Array.isArray(value) ? [key, i] : [key], message: `expected a value on one line without control characters; ${problem}` });
    });
  }
  if (Object.keys(p).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'expected at least one directive, e.g. { PubkeyAuthentication: "yes" }' });
  const ms = Object.entries(p).find(([k]) => k.toLowerCase() === 'maxstartups');
  if (ms && !parseMaxStartups(String(ms[1]))) ctx.addIssue({ code: 'custom', path: [ms[0]], message: 'expected start:rate:full, e.g. "10:30:100"' });
});
type Params = z.output<typeof params>;

const render = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

/** Whether the effective values satisfy the wanted one; MaxStartups is a minimum, ListenAddress "any" means every address. */
export function satisfied(keyword: string, wanted: Params[string], effective: string[]): boolean {
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
  gather() {
    return `${SSHD_FN}
if [ ! -x "$ff_sshd_bin" ]; then echo 'sshd=absent'; exit 0; fi
ff_emit() { ff_size=$(stat -c %s -- "$1"); if [ "$ff_size" -gt ${FILE_READ_LIMIT} ]; then printf 'too_large=%s|%s\\n' "$ff_size" "$1"; return; fi; printf 'file=%s\\n' "$1"; printf 'content=%s\\n' "$(head -c ${FILE_READ_LIMIT} -- "$1" | ${BASE64})"; }
ff_emit ${SSHD_CONFIG}
for ff_pat in $(awk 'tolower($1)=="include"{for(i=2;i<=NF;i++)print $i}' ${SSHD_CONFIG}); do
  case "$ff_pat" in /*) ;; *) ff_pat="/etc/ssh/$ff_pat" ;; esac
  for ff_f in $ff_pat; do [ -f "$ff_f" ] && ff_emit "$ff_f"; done
done
if ff_out=$(ff_sshd -T 2>&1); then printf '%s\\n' "$ff_out" | sed 's/^/effective=/'; else printf 'invalid=%s\\n' "$(printf '%s' "$ff_out" | tr '\\n' ' ')"; fi`;
  },
  plan(p: Params, facts): CheckPlan {
    const r = parseRecords(facts.stdout);
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    if (first(r, 'sshd') === 'absent') return fail('sshd is not installed');
    if (first(r, 'invalid')) return fail(`the current sshd configuration does not pass sshd -T: ${first(r, 'invalid')}`);
    const tooLarge = first(r, 'too_large');
    if (tooLarge) {
      const [size, ...path] = tooLarge.split('|');
      return fail(`${path.join('|')} is ${size} bytes, over the ${FILE_READ_LIMIT} bytes fleetfix reads from a host; not reading it`);
    }
    const paths = r.get('file') ?? [];
    const contents = r.get('content') ?? [];
    const files: ConfigFile[] = paths.map((path, i) => ({ path, text: Buffer.from(contents[i] ?? '', 'base64').toString('utf8') }));
    if (!files.some((f) => f.path === SSHD_CONFIG)) return fail(`cannot read ${SSHD_CONFIG}`);
    const effective = parseEffective((r.get('effective') ?? []).join('\n'));

    const wrong = Object.entries(p).filter(([k, v]) => !satisfied(k, v, effective.get(k.toLowerCase()) ?? []));
    if (wrong.length === 0) return { ok: true, message: `sshd -T: ${Object.keys(p).map((k) => `${k} ${(effective.get(k.toLowerCase()) ?? []).join(',')}`).join('; ')}`, changes: [] };

    const wanted: WantedDirective[] = wrong.map(([keyword, v]) => ({
      keyword,
      values: keyword.toLowerCase() === 'listenaddress' && v === 'any' ? null : (Array.isArray(v) ? v : [v]).map(render),
    }));
    const edited = editConfig(files, SSHD_CONFIG, wanted);
    const candidate = files.map((f) => ({ path: f.path, text: edited.get(f.path) ?? f.text }));
    const summary = wrong.map(([k, v]) => `${k} ${(effective.get(k.toLowerCase()) ?? ['(unset)']).join(',')} -> ${Array.isArray(v) ? v.join(',') : render(v)}`).join('; ');
    const changed = files.filter((f) => edited.has(f.path));
    const validate = `printf '%s' ${shq(flatten(candidate, SSHD_CONFIG))} | ff_sshd -t -f /dev/stdin`;
    return {
      ok: false,
      message: summary,
      changes: [
        {
          summary: `sshd_config: ${summary} (${changed.map((f) => f.path).join(', ')})`,
          diff: changed.map((f) => unifiedDiff(f.path, f.text, edited.get(f.path)!)).join('\n'),
          preflight: `${SSHD_FN}\n${validate}`,
          script: writeScript(changed.map((f) => ({ path: f.path, before: f.text, after: edited.get(f.path)! }))),
          rollback: changed.map((f) => `ff_b=$(ls -1 -- ${shq(f.path)}.fleetfix-*.bak 2>/dev/null | sort | tail -n 1); [ -n "$ff_b" ] && cp -p -- "$ff_b" ${shq(f.path)}`).join('\n'),
        },
      ],
    };
  },
});

/**
 * Apply: every file must still be as read (the new configuration passed sshd -t in the preflight, which always runs
 * first); each file is backed up (FILE.fleetfix-TIMESTAMP.bak, beside it) and replaced atomically with its mode and
 * owner; then sshd -t runs on the real files, restoring the backups if it fails.
 */
function writeScript(files: { path: string; before: string; after: string }[]): string {
  const backup = (path: string) => `${shq(`${path}.fleetfix-`)}"$ff_ts".bak`;
  const lines = ['set -eu', SSHD_FN, SAFE_FS_FNS, 'ff_ts=$(date +%Y%m%dT%H%M%S)'];
  for (const f of files) {
    // sshd reads its configuration as root: only a directory no one else can write may hold it, and so the backup.
    lines.push(`( ff_enter ${shq(splitPath(f.path).dir)}; [ "$ff_dir_uid" = 0 ] || ff_refuse "$PWD belongs to uid $ff_dir_uid; not writing sshd's configuration there" )`);
    lines.push(unchangedGuard(f.path, sha256(f.before)));
  }
  lines.push('ff_restore() {', ...files.map((f) => `  mv -f -- ${backup(f.path)} ${shq(f.path)}`), '}');
  for (const f of files) {
    const { dir, name } = splitPath(f.path);
    lines.push(`cp -p -- ${shq(f.path)} ${backup(f.path)}`, replaceFileLines(dir, name, f.after, sha256(f.before), { mode: '0600', owner: '0:0' }));
  }
  lines.push(`if ! ff_err=$(ff_sshd -t 2>&1); then ff_restore; printf 'sshd -t failed after writing; backups restored: %s\\n' "$ff_err" >&2; exit 1; fi`);
  return lines.join('\n');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
