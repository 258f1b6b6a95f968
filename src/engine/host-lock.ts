// One apply per host at a time: a lease on the host, taken with the facts, held until the fresh login is verified.
import { shq } from '../util/shell.js';
import { NET_DIR } from './safety-net.js';

/** The lease: a directory put in place atomically, holding its run and the time it lapses; on tmpfs, gone at reboot. */
export const LOCK_DIR = '/run/fleetfix-lock';

/**
 * Shell functions for the lease's owner, a process on the host that lives exactly as long as the run's connection:
 * `ff_anchor` sets `ff_me` to the one of this script (`PID:STARTTIME` of the nearest sshd ancestor, the connection's
 * own sshd process; `-` where there is none, as on a console or an exec transport, whose end the host cannot see), and
 * `ff_alive OWNER` is true while that process lives (and for `-`, which is never known to be gone). The start time
 * tells a PID reused by another process apart. Reads are the shell's own (`read` of /proc), no process started.
 */
export const OWNER_FNS = [
  `ff_stat() { ff_s=; read -r ff_s 2>/dev/null < "/proc/$1/stat" || return 1; ff_s=\${ff_s##*) }; }`,
  `ff_anchor() { ff_me=-; ff_p=$$; ff_n=0; while [ "$ff_p" -gt 1 ] && [ "$ff_n" -lt 32 ] && ff_stat "$ff_p"; do ff_c=; read -r ff_c 2>/dev/null < "/proc/$ff_p/comm"; set -f; set -- $ff_s; set +f; case $ff_c in sshd|sshd-session) ff_me=$ff_p:\${20}; return;; esac; ff_p=$2; ff_n=$((ff_n + 1)); done; }`,
  `ff_alive() { case $1 in *:*) ;; *) return 0;; esac; ff_want=\${1#*:}; ff_stat "\${1%%:*}" || return 1; set -f; set -- $ff_s; set +f; [ "$1" != Z ] && [ "\${20}" = "$ff_want" ]; }`,
].join('\n');

/** True while run `$1`'s safety net is on the host (armed, or firing): until it has fired, its lease stands. */
const NET_OF_FN = `ff_net_of() { ff_r=; read -r ff_r 2>/dev/null < ${NET_DIR}/run; [ -d ${NET_DIR} ] && [ "$ff_r" = "$1" ]; }`;

/**
 * Takes the lease for `runId` until now + `leaseS`; exits 3 naming the run that holds it when it does not come free.
 * Runs hold a host from their facts to their confirmation, across all their hosts' planning, so two runs that each
 * hold one host and want the other's would wait for each other: as in wait-die, a run waits (up to `waitS` seconds)
 * only for a younger run's lease (run ids grow with their start), and an older run's makes it give up at once.
 * A lease is broken, under flock (so that two runs breaking it cannot both take it), when its time has passed, or
 * when its owner's connection is gone and its safety net has fired (a run killed mid-apply: its net undid what it
 * did). `settling` (fleetfix status --confirm/--rollback, which settles that net itself) breaks a gone owner's lease
 * even while its net is armed.
 */
export function acquireScript(runId: string, leaseS: number, waitS: number, settling = false): string {
  const lapses = `lapses at $(date -u -d "@$ff_until" +%H:%M:%SZ 2>/dev/null || echo "$ff_until")`;
  const busy = [
    `{ if ! ff_alive "$ff_owner" && ff_net_of "$ff_run"; then`,
    `echo "busy: fleetfix run $ff_run, which is gone, left its safety net armed on this host; the host is free once the net has undone that run's changes (fleetfix status shows when), or once it is settled by hand (fleetfix status --confirm or --rollback)" >&2;`,
    `else echo "busy: another fleetfix run ($ff_run) is changing this host; its lease ${lapses}" >&2; fi; exit 3; }`,
  ].join(' ');
  const ownerDone = settling ? '! ff_alive "$ff_owner"' : '{ ! ff_alive "$ff_owner" && ! ff_net_of "$ff_run"; }';
  return [
    OWNER_FNS,
    NET_OF_FN,
    `ff_lock=${LOCK_DIR}; ff_waited=0 ff_gone=0; ff_anchor`,
    'while :; do',
    `  ff_now=$(date +%s)`,
    // The lease appears whole, its owner in it (a rename), or not at all.
    // A leftover of this pid (a run killed here before) is removed; none there costs no process.
    `  ff_new=$ff_lock.new.$$; [ ! -e "$ff_new" ] || rm -rf "$ff_new"; mkdir -m 0700 "$ff_new" && printf '%s %s %s\\n' ${shq(runId)} "$((ff_now + ${leaseS}))" "$ff_me" > "$ff_new/owner"`,
    `  if mv -T "$ff_new" "$ff_lock" 2>/dev/null; then exit 0; fi; rm -rf "$ff_new"`,
    `  ff_run=; ff_until=0; ff_owner=; read -r ff_run ff_until ff_owner 2>/dev/null < "$ff_lock/owner" || true`,
    // Given back between the rename and the read: take it again (a bounded number of times, were it never whole).
    `  if [ -z "$ff_run" ]; then ff_gone=$((ff_gone + 1)); [ "$ff_gone" -gt 50 ] || continue; ff_run=unknown; fi`,
    `  if [ "$ff_run" = ${shq(runId)} ]; then exit 0; fi`,
    `  if { [ "\${ff_until:-0}" -gt 0 ] && [ "$ff_now" -ge "$ff_until" ]; } || ${ownerDone}; then`,
    `    flock -w 5 "$ff_lock.guard" sh -c 'read -r r u o < "$1/owner" && [ "$r $u $o" = "$2" ] && rm -rf "$1"' sh "$ff_lock" "$ff_run $ff_until $ff_owner" 2>/dev/null || true`,
    '    continue',
    '  fi',
    `  { [ ${shq(runId)} -lt "$ff_run" ] 2>/dev/null && [ "$ff_waited" -lt ${waitS} ]; } || ${busy}`,
    '  sleep 1; ff_waited=$((ff_waited + 1))',
    'done',
  ].join('\n');
}

/** A run id that orders runs by their start (milliseconds, then a random tie-breaker): a whole number for the shell. */
export function newRunId(): string {
  return `${Date.now()}${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
}

/**
 * Renews the lease for `runId` (apply may start long after the facts, past a prompt), over the connection that took
 * it, so its owner stays; exits 3 if another run holds it now.
 */
export function renewScript(runId: string, leaseS: number): string {
  return [
    `ff_run=; ff_owner=; read -r ff_run ff_until ff_owner 2>/dev/null < ${LOCK_DIR}/owner || true`,
    `[ "$ff_run" = ${shq(runId)} ] || { echo "this run's lease on the host lapsed and \${ff_run:-no run} holds it now; nothing applied" >&2; exit 3; }`,
    `printf '%s %s %s\\n' ${shq(runId)} "$(($(date +%s) + ${leaseS}))" "\${ff_owner:--}" > ${LOCK_DIR}/owner.new && mv -f ${LOCK_DIR}/owner.new ${LOCK_DIR}/owner`,
  ].join('\n');
}

/** Gives the lease back, if it is still this run's. */
export function releaseScript(runId: string): string {
  return `ff_run=; read -r ff_run ff_until 2>/dev/null < ${LOCK_DIR}/owner || true; if [ "$ff_run" = ${shq(runId)} ]; then rm -rf ${LOCK_DIR}; fi`;
}
