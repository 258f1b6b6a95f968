// The on-host safety net (commit-confirm): a detached timer that undoes the changes and restarts sshd unless fleetfix confirms.
import { NET_LOG } from '../facts/safety-net-log.js';
import { shq } from '../util/shell.js';

/** Where the armed net lives on the host: root's, on tmpfs, gone at reboot (as a net must be: the changes were undone or kept). */
export const NET_DIR = '/run/fleetfix-net';
/** The systemd unit of the timer, where systemd runs: one name, so systemd itself refuses a second net. */
const UNIT = 'fleetfix-safety-net';

/**
 * Appends its stdin to NET_LOG. Where a user can write the log's directory (Ubuntu's /var/log is root:syslog 0775),
 * the log may have been swapped for a link or a FIFO: it is opened without following a link and without waiting; if
 * it cannot be, the lines go to syslog only (ff_say), and the net goes on.
 */
const TO_NET_LOG = `{ dd of=${NET_LOG} oflag=append,nofollow,nonblock conv=notrunc status=none 2>/dev/null || cat >/dev/null; }`;
/** A script that acts on a net must finish with it even when the connection it came over ends: neither that hangup nor a write to it stops it. */
const CLAIM_SURVIVES = `trap '' HUP PIPE`;
const SAY_FN = `ff_say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) fleetfix: $*"; logger -t fleetfix -p auth.warning -- "$*" 2>/dev/null || true; }`;

/**
 * Arms the net: refuses (exit 3) when one is already armed on the host; otherwise writes `restart` (run after every
 * recorded undo, e.g. sshd -t and a restart) and starts a timer, detached from this session (systemd-run where
 * systemd runs, else setsid), that after `seconds` runs the undo steps recorded so far, newest first, then `restart`,
 * and logs what it did to syslog and to NET_LOG. `fires-at` holds when it fires (the host's clock), for
 * `fleetfix status`. The `fire` script may also be run at once by fleetfix, with the reason as its argument, once
 * fleetfix has claimed the net (fireNowScript, settleByHandScript): it then says on stdout what each undo came to
 * (`undone NNNN`, `undo-failed NNNN`, `restarted`, `restart-failed`).
 */
export function armScript(runId: string, seconds: number, restart: string[]): string {
  const fire = [
    '#!/bin/sh',
    `# fleetfix ${runId}: undo the changes and restart sshd: no confirmation came within ${seconds} s of them, or fleetfix was told to.`,
    SAY_FN,
    // Fired by its timer and disarmed race for one claim: whichever makes the directory first acts, the other stands
    // down. Run by fleetfix, which holds the claim already, it tells fleetfix (fd 3) what it undid.
    CLAIM_SURVIVES,
    `if [ $# -eq 0 ]; then mkdir ${NET_DIR}/claimed 2>/dev/null || exit 0; ff_why=${shq(`no confirmation within ${seconds} s`)}; exec 3>/dev/null; else ff_why=$1; exec 3>&1; fi`,
    '{',
    `ff_say "safety net of run ${runId} fired: $ff_why; rolling back"`,
    `for ff_undo in $(ls -1 ${NET_DIR}/undo.* 2>/dev/null | sort -r); do ff_what=$(head -n 1 "$ff_undo" | cut -c 3-); if sh "$ff_undo"; then ff_say "undone: $ff_what"; echo "undone \${ff_undo##*.}" >&3; else ff_say "undo failed: $ff_what"; echo "undo-failed \${ff_undo##*.}" >&3; fi; done`,
    `if sh ${NET_DIR}/restart; then ff_say 'sshd restarted'; echo restarted >&3; else ff_say 'sshd restart failed'; echo restart-failed >&3; fi`,
    `rm -rf ${NET_DIR}`,
    `} </dev/null 2>&1 | ${TO_NET_LOG}`,
  ].join('\n');
  return [
    'set -eu',
    `if [ -e ${NET_DIR} ] || [ -L ${NET_DIR} ]; then echo "a safety net of another fleetfix run is armed on this host ($(cat ${NET_DIR}/run 2>/dev/null)); not changing anything" >&2; exit 3; fi`,
    `mkdir -m 0700 ${NET_DIR}`,
    `printf '%s\\n' ${shq(runId)} > ${NET_DIR}/run`,
    `printf '%s\\n' ${shq(fire)} > ${NET_DIR}/fire`,
    `printf '%s\\n' ${shq(['set +e', ...restart].join('\n'))} > ${NET_DIR}/restart`,
    `echo "$(($(date +%s) + ${seconds}))" > ${NET_DIR}/fires-at`,
    `if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then`,
    `  systemd-run --quiet --collect --unit=${UNIT} --on-active=${seconds}s /bin/sh ${NET_DIR}/fire`,
    `  echo systemd > ${NET_DIR}/timer`,
    'else',
    `  setsid sh -c 'sleep "$1"; exec sh "$2"' sh ${seconds} ${NET_DIR}/fire </dev/null >/dev/null 2>&1 &`,
    `  echo "$!" > ${NET_DIR}/timer`,
    'fi',
  ].join('\n');
}

/** The name of the undo file of change number `step` under the net. */
function undoFile(step: number): string {
  return `${NET_DIR}/undo.${String(step).padStart(4, '0')}`;
}

/** `change` followed, once it succeeded, by recording `undo` (numbered `step`) for the net to run if it fires. */
export function guardedChange(change: string, undo: string, summary: string, step: number): string {
  return `(\n${change}\n) || exit $?\nprintf '%s\\n' ${shq(`# ${summary.replace(/\n/g, ' ')}\n${undo}`)} > ${undoFile(step)}`;
}

/** The net's timer stopped, wherever it runs; the net must be claimed first (its `fire` then stands down anyway). */
const STOP_TIMER = [
  // Files are read with the shell's read (no process): the net's own files, one line each.
  `ff_timer=; read -r ff_timer 2>/dev/null < ${NET_DIR}/timer || true`,
  `if [ "$ff_timer" = systemd ]; then systemctl stop ${UNIT}.timer ${UNIT}.service 2>/dev/null || true`,
  // The timer's process group (setsid made it one): its sleep too. No "--": dash's kill does not take it.
  `elif [ -n "$ff_timer" ]; then kill -TERM "-$ff_timer" 2>/dev/null || kill -TERM "$ff_timer" 2>/dev/null || true; fi`,
].join('\n');

/** Claims run `runId`'s net for this script, or exits 4 when it is gone or firing: its timer undid the changes. */
function claimOwnNet(runId: string, fired: string): string {
  const exit = `{ echo ${shq(fired)} >&2; exit 4; }`;
  return [CLAIM_SURVIVES, `ff_run=; read -r ff_run 2>/dev/null < ${NET_DIR}/run || true`, `[ "$ff_run" = ${shq(runId)} ] || ${exit}`, `mkdir ${NET_DIR}/claimed 2>/dev/null || ${exit}`, STOP_TIMER].join('\n');
}

/**
 * Disarms the net (the fresh login worked, or the changes were undone over the session): stops the timer, leaves
 * nothing behind. Exits 4 when the net fired first: the changes are being undone.
 */
export function disarmScript(runId: string): string {
  return `${claimOwnNet(runId, 'the safety net fired before fleetfix confirmed: the changes were undone')}\nrm -rf ${NET_DIR}`;
}

/**
 * Fires run `runId`'s net now rather than when its time runs out (the run was stopped before a fresh login proved the
 * host): every change under it undone, newest first, and sshd restarted, as its timer would, logged with `reason`.
 * Prints what each undo came to (see armScript); exits 4 when the net had fired already.
 */
export function fireNowScript(runId: string, reason: string): string {
  return `${claimOwnNet(runId, 'the safety net had fired on its own before fleetfix settled the host: it undid the changes')}\nsh ${NET_DIR}/fire ${shq(reason)}`;
}

/**
 * By hand (`fleetfix status --confirm` or `--rollback`), on whatever net is armed: claims it, stops its timer, and
 * keeps its changes (confirm: the net is removed, and the log says so) or undoes them at once (rollback, as
 * fireNowScript). Prints `none` when no net is armed, else `net RUN` and, on rollback, what each undo came to; exits 4
 * when the net is firing already.
 */
export function settleByHandScript(action: 'confirm' | 'rollback'): string {
  const settle =
    action === 'confirm'
      ? `rm -rf ${NET_DIR}\n{ ${SAY_FN}; ff_say "safety net of run $ff_run confirmed by hand (fleetfix status --confirm): its changes are kept"; } </dev/null 2>&1 | ${TO_NET_LOG}`
      : `sh ${NET_DIR}/fire 'rolled back by hand (fleetfix status --rollback)'`;
  return [
    CLAIM_SURVIVES,
    `[ -d ${NET_DIR} ] || { echo none; exit 0; }`,
    `ff_run=; read -r ff_run 2>/dev/null < ${NET_DIR}/run || true`,
    `mkdir ${NET_DIR}/claimed 2>/dev/null || { echo "the safety net of run $ff_run is firing: it is undoing that run's changes" >&2; exit 4; }`,
    STOP_TIMER,
    `printf 'net %s\\n' "$ff_run"`,
    settle,
  ].join('\n');
}

/** What the net's `fire` said it did, run by fleetfix: each undo by its step, and whether sshd was restarted. */
export interface Fired {
  undone: Set<number>;
  undoFailed: Set<number>;
  restarted: boolean;
}

/** Pure: the lines `fire` printed (armScript), read back. */
export function parseFired(stdout: string): Fired {
  const fired: Fired = { undone: new Set(), undoFailed: new Set(), restarted: false };
  for (const line of stdout.split('\n')) {
    const m = /^(undone|undo-failed) (\d{4})$/.exec(line);
    if (m) (m[1] === 'undone' ? fired.undone : fired.undoFailed).add(Number(m[2]));
    if (line === 'restarted') fired.restarted = true;
  }
  return fired;
}
