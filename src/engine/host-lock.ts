// One apply per host at a time: a lease on the host, taken with the facts, held until the fresh login is verified.
import { shq } from '../util/shell.js';

/** The lease: a directory put in place atomically, holding its run and the time it lapses; on tmpfs, gone at reboot. */
const LOCK_DIR = '/run/fleetfix-lock';

/**
 * Takes the lease for `runId` until now + `leaseS`; exits 3 naming the run that holds it when it does not come free.
 * Runs hold a host from their facts to their confirmation, across all their hosts' planning, so two runs that each
 * hold one host and want the other's would wait for each other: as in wait-die, a run waits (up to `waitS` seconds)
 * only for a younger run's lease (run ids grow with their start), and an older run's makes it give up at once.
 * A lease whose time has passed belongs to a run that died: it is broken, under flock, so that two runs breaking it
 * cannot both take it.
 */
export function acquireScript(runId: string, leaseS: number, waitS: number): string {
  const busy = `{ echo "busy: another fleetfix run ($ff_run) is changing this host; its lease lapses at $(date -u -d "@$ff_until" +%H:%M:%SZ 2>/dev/null || echo "$ff_until")" >&2; exit 3; }`;
  return [
    `ff_lock=${LOCK_DIR}; ff_waited=0 ff_gone=0`,
    'while :; do',
    `  ff_now=$(date +%s)`,
    // The lease appears whole, its owner in it (a rename), or not at all.
    // A leftover of this pid (a run killed here before) is removed; none there costs no process.
    `  ff_new=$ff_lock.new.$$; [ ! -e "$ff_new" ] || rm -rf "$ff_new"; mkdir -m 0700 "$ff_new" && printf '%s %s\\n' ${shq(runId)} "$((ff_now + ${leaseS}))" > "$ff_new/owner"`,
    `  if mv -T "$ff_new" "$ff_lock" 2>/dev/null; then exit 0; fi; rm -rf "$ff_new"`,
    `  ff_run=; ff_until=0; read -r ff_run ff_until 2>/dev/null < "$ff_lock/owner" || true`,
    // Given back between the rename and the read: take it again (a bounded number of times, were it never whole).
    `  if [ -z "$ff_run" ]; then ff_gone=$((ff_gone + 1)); [ "$ff_gone" -gt 50 ] || continue; ff_run=unknown; fi`,
    `  if [ "$ff_run" = ${shq(runId)} ]; then exit 0; fi`,
    `  if [ "\${ff_until:-0}" -gt 0 ] && [ "$ff_now" -ge "$ff_until" ]; then`,
    `    flock -w 5 "$ff_lock.guard" sh -c 'read -r r u < "$1/owner" && [ "$r $u" = "$2" ] && rm -rf "$1"' sh "$ff_lock" "$ff_run $ff_until" 2>/dev/null || true`,
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

/** Renews the lease for `runId` (apply may start long after the facts, past a prompt); exits 3 if another run holds it now. */
export function renewScript(runId: string, leaseS: number): string {
  return [
    `ff_run=; read -r ff_run ff_until 2>/dev/null < ${LOCK_DIR}/owner || true`,
    `[ "$ff_run" = ${shq(runId)} ] || { echo "this run's lease on the host lapsed and \${ff_run:-no run} holds it now; nothing applied" >&2; exit 3; }`,
    `printf '%s %s\\n' ${shq(runId)} "$(($(date +%s) + ${leaseS}))" > ${LOCK_DIR}/owner.new && mv -f ${LOCK_DIR}/owner.new ${LOCK_DIR}/owner`,
  ].join('\n');
}

/** Gives the lease back, if it is still this run's. */
export function releaseScript(runId: string): string {
  return `ff_run=; read -r ff_run ff_until 2>/dev/null < ${LOCK_DIR}/owner || true; if [ "$ff_run" = ${shq(runId)} ]; then rm -rf ${LOCK_DIR}; fi`;
}
