// The sshd facts several checks share, gathered once per host: the effective configuration for a connection (one
// sshd -T per user and connection), the configuration files, and the socket sshd may be activated by.
import { defineFact, type FactUse } from '../facts/fact.js';
import { connectionFacts, type ConnectionParams } from './sshd-effective.js';
import { BASE64, forEachLine, linesAsRecords } from '../util/shell.js';
import { FILE_READ_LIMIT } from './safe-fs.js';
import { parseEffective, type ConfigFile } from '../facts/sshd-config.js';
import { factRecords } from '../facts/records.js';
import type { ExecResult } from '../transport/types.js';
import type { PlannedState } from './types.js';
import { socketListenFacts, SSHD_FN } from './sshd-socket.js';

/** The throwaway host key ff_sshd_keyless gives sshd, in its private /run. */
const PROBE_HOST_KEY = '/run/fleetfix-probe-key';

/**
 * ff_sshd_keyless ARGS: sshd ARGS (-T) where sshd loads no host key: given a throwaway key of its own, made in a
 * private /run that vanishes with it, and that key left out of what it prints. Given on the command line, it keeps
 * sshd from adding its default keys where the configuration names none: then those defaults are printed.
 */
const SSHD_KEYLESS_FN = `ff_sshd_keyless() {
  ff_o=$(unshare -m sh -c 'mount -t tmpfs -o size=64k,mode=0755 tmpfs /run && mkdir /run/sshd && ssh-keygen -q -N "" -t ed25519 -f ${PROBE_HOST_KEY} </dev/null >/dev/null && exec "$0" -o HostKey=${PROBE_HOST_KEY} "$@"' "$ff_sshd_bin" "$@" 2>&1) || { printf '%s\\n' "$ff_o"; return 1; }
  ff_o=$(printf '%s\\n' "$ff_o" | grep -vxF 'hostkey ${PROBE_HOST_KEY}')
  case "$ff_o" in *"
hostkey "*) printf '%s\\n' "$ff_o" ;; *) printf '%s\\nhostkey /etc/ssh/ssh_host_rsa_key\\nhostkey /etc/ssh/ssh_host_ecdsa_key\\nhostkey /etc/ssh/ssh_host_ed25519_key\\n' "$ff_o" ;; esac
}`;

/**
 * ff_sshd_config_ok [TEXT]: sshd -t accepts the configuration (TEXT, else the files on disk). A failure for want of a
 * host key sshd can load is the host_keys check's to fix, not the configuration's: the configuration is then tried
 * with a throwaway key (ff_sshd_keyless), and passes if that passes. sshd's words go to stderr on failure.
 */
export const SSHD_CONFIG_OK_FN = `${SSHD_KEYLESS_FN}
ff_sshd_config_ok() {
  if [ $# -gt 0 ]; then ff_err=$(printf '%s' "$1" | ff_sshd -t -f /dev/stdin 2>&1) && return 0; else ff_err=$(ff_sshd -t 2>&1) && return 0; fi
  case "$ff_err" in *'no hostkeys available'*)
    if [ $# -gt 0 ]; then ff_err=$(printf '%s' "$1" | ff_sshd_keyless -t -f /dev/stdin 2>&1) && return 0; else ff_err=$(ff_sshd_keyless -t 2>&1) && return 0; fi ;;
  esac
  printf '%s\n' "$ff_err" >&2; return 1
}`;

/**
 * sshd -T for `conn`'s connection (Match blocks applied), or plain sshd -T without one: `effective=` lines, or
 * `invalid=` lines where the configuration fails; with the connection (conn_*) and the user's groups; `sshd=absent`
 * without sshd. Where sshd -T fails only for want of a host key it can load, the configuration is read with a
 * throwaway one (ff_sshd_keyless), `hostkeys_loaded=none` says so, and what sshd said is kept as `hostkeys_said=` lines:
 * the other checks still judge the configuration.
 */
export const sshdEffective = defineFact<ConnectionParams | undefined>({
  name: 'sshd.effective',
  script: (conn) => `${SSHD_FN}
${SSHD_KEYLESS_FN}
if [ ! -x "$ff_sshd_bin" ]; then echo 'sshd=absent'; exit 0; fi
${conn ? connectionFacts(conn) : 'ff_spec='}
if ff_out=$(ff_sshd -T \${ff_spec:+-C "$ff_spec"} 2>&1); then ff_key=effective
else
  ff_key=invalid
  case "$ff_out" in *'no hostkeys available'*) if ff_nk=$(ff_sshd_keyless -T \${ff_spec:+-C "$ff_spec"}); then ff_key=effective; echo 'hostkeys_loaded=none'; ${linesAsRecords('ff_out', 'hostkeys_said')}; ff_out=$ff_nk; fi ;; esac
fi
${linesAsRecords('ff_out', '$ff_key')}`,
});

const effectiveParsed = new WeakMap<ExecResult, Map<string, string[]>>();

/** sshd -T's values by keyword, from sshdEffective's answer: parsed once, however many checks read it (do not change it). */
export function effectiveConfig(answer: ExecResult): Map<string, string[]> {
  let config = effectiveParsed.get(answer);
  if (!config) effectiveParsed.set(answer, (config = parseEffective((factRecords(answer).get('effective') ?? []).join('\n'))));
  return config;
}

/**
 * Shell lines that set ff_v to the value sshd -T gives `keyword` (lowercase) in `effective`'s output on the host: a
 * loop over its lines, as dash's ${v#*pattern} on a text this long costs more than a process.
 */
export function effectiveValue(effective: FactUse, keyword: string): string {
  const prefix = `effective=${keyword} `;
  return `ff_v=; ${forEachLine(effective.variable, `case "$ff_l" in '${prefix}'*) ff_v=\${ff_l#'${prefix}'}; break ;; esac`)}`;
}

export const SSHD_CONFIG = '/etc/ssh/sshd_config';

/**
 * A shell function: `ff_emit FILE` prints file= and content= (base64), or too_large= past the read limit. One byte
 * past the limit is read, and the bytes read are counted from the base64 (its length and padding), with no stat.
 */
export const EMIT_FILE_FN = `ff_emit() {
  ff_c=$(head -c ${FILE_READ_LIMIT + 1} -- "$1" | ${BASE64})
  case "$ff_c" in *==) ff_pad=2 ;; *=) ff_pad=1 ;; *) ff_pad=0 ;; esac
  if [ $(( \${#ff_c} / 4 * 3 - ff_pad )) -gt ${FILE_READ_LIMIT} ]; then printf 'too_large=%s\\n' "$1"; return; fi
  printf 'file=%s\\ncontent=%s\\n' "$1" "$ff_c"
}`;

/** sshd_config and the files it includes (file=, content= base64; too_large= past the read limit). */
export const sshdConfigFiles = defineFact<undefined>({
  name: 'sshd.config-files',
  script: () => `${EMIT_FILE_FN}
ff_emit ${SSHD_CONFIG}
for ff_pat in $(awk 'tolower($1)=="include"{for(i=2;i<=NF;i++)print $i}' ${SSHD_CONFIG}); do
  case "$ff_pat" in /*) ;; *) ff_pat="/etc/ssh/$ff_pat" ;; esac
  for ff_f in $ff_pat; do [ -f "$ff_f" ] && ff_emit "$ff_f"; done
done; true`,
});

const filesRead = new WeakMap<ExecResult, ConfigFile[]>();

/**
 * The files sshdConfigFiles printed, from its answer (decoded once, however many checks read them: do not change
 * them), each as the fixes planned before leave it where one rewrites it.
 */
export function configFiles(answer: ExecResult, planned: PlannedState): ConfigFile[] {
  let files = filesRead.get(answer);
  if (!files) {
    const r = factRecords(answer);
    const contents = r.get('content') ?? [];
    filesRead.set(answer, (files = (r.get('file') ?? []).map((path, i) => ({ path, text: Buffer.from(contents[i] ?? '', 'base64').toString('utf8') }))));
  }
  return files.some((f) => planned.get(f.path)?.content !== undefined) ? files.map((f) => ({ path: f.path, text: planned.get(f.path)?.content ?? f.text })) : files;
}

/** Where sshd is socket-activated, the active socket and where it listens (socket_unit, socket_listen, socket_bind). */
export const sshdSocket = defineFact<undefined>({
  name: 'sshd.socket',
  script: () => `if [ -d /run/systemd/system ]; then for ff_s in ssh.socket sshd.socket; do
  if [ "$(systemctl is-active "$ff_s" 2>/dev/null)" = active ]; then echo "socket_unit=$ff_s"; ${socketListenFacts('"$ff_s"')}; break; fi
done; fi; true`,
});
