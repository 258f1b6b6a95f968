// The on-host safety net (commit-confirm): a detached timer that undoes the changes and restarts sshd unless fleetfix confirms.
import { NET_LOG } from '../facts/safety-net-log.js';
import { shq } from '../util/shell.js';

/** Where the armed net lives on the host: root's, on tmpfs, gone at reboot (as a net must be: the changes were undone or kept). */
export const NET_DIR = '/run/fleetfix-net';
/** The systemd unit of the timer, where systemd runs: one name, so systemd itself refuses a second net. */
const UNIT = 'fleetfix-safety-net';

/**
 * Arms the net: refuses (exit 3) when one is already armed on the host; otherwise writes `restart` (run after every
 * recorded undo, e.g. sshd -t and a restart) and starts a timer, detached from this session (systemd-run where
 * systemd runs, else setsid), that after `seconds` runs the undo steps recorded so far, newest first, then `restart`,
 * and logs what it did to syslog and to NET_LOG (opened without following a link).
 */
export function armScript(runId: string, seconds: number, restart: string[]): string {
  const fire = [
    '#!/bin/sh',
    `# fleetfix ${runId}: no confirmation came within ${seconds} s of the changes; undo them and restart sshd.`,
    `ff_say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) fleetfix: $*"; logger -t fleetfix -p auth.warning -- "$*" 2>/dev/null || true; }`,
    // Fired and disarmed race for one claim: whichever makes the directory first acts, the other stands down.
    `mkdir ${NET_DIR}/claimed 2>/dev/null || exit 0`,
    '{',
    `ff_say ${shq(`safety net of run ${runId} fired: no confirmation within ${seconds} s; rolling back`)}`,
    `for ff_undo in $(ls -1 ${NET_DIR}/undo.* 2>/dev/null | sort -r); do sh "$ff_undo" && ff_say "undone: $(head -n 1 "$ff_undo" | cut -c 3-)" || ff_say "undo failed: $(head -n 1 "$ff_undo" | cut -c 3-)"; done`,
    `sh ${NET_DIR}/restart && ff_say 'sshd restarted' || ff_say 'sshd restart failed'`,
    `rm -rf ${NET_DIR}`,
    // Where a user can write the log's directory (Ubuntu's /var/log is root:syslog 0775), the log may have been swapped
    // for a link or a FIFO: it is opened without following a link and without waiting; if it cannot be, the lines go
    // to syslog only, and the undo goes on.
    `} </dev/null 2>&1 | { dd of=${NET_LOG} oflag=append,nofollow,nonblock conv=notrunc status=none 2>/dev/null || cat >/dev/null; }`,
  ].join('\n');
  return [
    'set -eu',
    `if [ -e ${NET_DIR} ] || [ -L ${NET_DIR} ]; then echo "a safety net of another fleetfix run is armed on this host ($(cat ${NET_DIR}/run 2>/dev/null)); not changing anything" >&2; exit 3; fi`,
    `mkdir -m 0700 ${NET_DIR}`,
    `printf '%s\\n' ${shq(runId)} > ${NET_DIR}/run`,
    `printf '%s\\n' ${shq(fire)} > ${NET_DIR}/fire`,
    `printf '%s\\n' ${shq(['set +e', ...restart].join('\n'))} > ${NET_DIR}/restart`,
    `if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then`,
    `  systemd-run --quiet --collect --unit=${UNIT} --on-active=${seconds}s /bin/sh ${NET_DIR}/fire`,
    `  echo systemd > ${NET_DIR}/timer`,
    'else',
    `  setsid sh -c 'sleep "$1"; exec sh "$2"' sh ${seconds} ${NET_DIR}/fire </dev/null >/dev/null 2>&1 &`,
    `  echo "$!" > ${NET_DIR}/timer`,
    'fi',
  ].join('\n');
}

/** `change` followed, once it succeeded, by recording `undo` (numbered `step`) for the net to run if it fires. */
export function guardedChange(change: string, undo: string, summary: string, step: number): string {
  const file = `${NET_DIR}/undo.${String(step).padStart(4, '0')}`;
  return `(\n${change}\n) || exit $?\nprintf '%s\\n' ${shq(`# ${summary.replace(/\n/g, ' ')}\n${undo}`)} > ${file}`;
}

/**
 * Disarms the net (the fresh login worked, or the changes were undone over the session): stops the timer, leaves
 * nothing behind. Exits 4 when the net fired first: the changes are being undone.
 */
export function disarmScript(runId: string): string {
  const fired = `{ echo 'the safety net fired before fleetfix confirmed: the changes were undone' >&2; exit 4; }`;
  // Files are read with the shell's read (no process): the net's own files, one line each.
  return [
    `ff_run=; read -r ff_run 2>/dev/null < ${NET_DIR}/run || true`,
    `[ "$ff_run" = ${shq(runId)} ] || ${fired}`,
    `mkdir ${NET_DIR}/claimed 2>/dev/null || ${fired}`,
    `ff_timer=; read -r ff_timer 2>/dev/null < ${NET_DIR}/timer || true`,
    `if [ "$ff_timer" = systemd ]; then systemctl stop ${UNIT}.timer ${UNIT}.service 2>/dev/null || true`,
    // The timer's process group (setsid made it one): its sleep too. No "--": dash's kill does not take it.
    `elif [ -n "$ff_timer" ]; then kill -TERM "-$ff_timer" 2>/dev/null || kill -TERM "$ff_timer" 2>/dev/null || true; fi`,
    `rm -rf ${NET_DIR}`,
  ].join('\n');
}
