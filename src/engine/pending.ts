// What a host holds for fleetfix runs (an armed safety net, a lease) and what its nets logged, read in one script that
// changes nothing (fleetfix status); and a net settled by hand (--confirm, --rollback) under a lease of its own.
import { NET_LOG } from '../facts/safety-net-log.js';
import type { HostPending } from '../report/model.js';
import { asRecords } from '../util/shell.js';
import { acquireScript, LOCK_DIR, OWNER_FNS, releaseScript } from './host-lock.js';
import { NET_DIR, parseFired, settleByHandScript } from './safety-net.js';

/** Host text is bounded: at most this many undo summaries and log lines are read, each cut at VALUE_CHARS. */
export const MAX_UNDO = 50;
export const MAX_LOG_LINES = 20;
const VALUE_CHARS = 500;
/** The log is read no further back than this from its end. */
const LOG_TAIL_BYTES = 65536;

/**
 * Prints `key=value` records, one a line, each value one line of the host's: the host's clock; the net's run, when
 * it fires, whether it is firing, and the `# summary` first line of each undo file, newest first; the lease's run,
 * until when, and whether its owner's connection lives (host-lock.ts); and the log's last lines, read without
 * following a link or waiting on a FIFO (any user of a group that can write /var/log can plant either).
 */
export function pendingScript(): string {
  const value = `cut -c 1-${VALUE_CHARS}`;
  return [
    OWNER_FNS,
    `printf 'now=%s\\n' "$(date +%s)"`,
    `if [ -d ${NET_DIR} ]; then`,
    `  ff_l=; read -r ff_l 2>/dev/null < ${NET_DIR}/run; printf 'net=%s\\n' "$ff_l"`,
    `  ff_l=; read -r ff_l 2>/dev/null < ${NET_DIR}/fires-at; printf 'net.fires=%s\\n' "$ff_l"`,
    `  [ ! -e ${NET_DIR}/claimed ] || echo net.firing=yes`,
    `  for ff_f in $(ls -1 ${NET_DIR}/undo.* 2>/dev/null | sort -r | head -n ${MAX_UNDO}); do head -n 1 "$ff_f" | cut -c 3-${VALUE_CHARS + 2} | ${asRecords('net.undo')}; done`,
    'fi',
    `ff_run=; ff_until=; ff_owner=; if read -r ff_run ff_until ff_owner 2>/dev/null < ${LOCK_DIR}/owner; then`,
    `  printf 'lease=%s\\nlease.until=%s\\n' "$ff_run" "$ff_until"`,
    `  case $ff_owner in *:*) if ff_alive "$ff_owner"; then echo lease.owner=connected; else echo lease.owner=gone; fi;; *) echo lease.owner=unknown;; esac`,
    'fi',
    `ff_size=$(stat -c %s ${NET_LOG} 2>/dev/null) || ff_size=0`,
    `if [ "$ff_size" -gt 0 ]; then dd if=${NET_LOG} iflag=skip_bytes,nofollow,nonblock skip=$((ff_size > ${LOG_TAIL_BYTES} ? ff_size - ${LOG_TAIL_BYTES} : 0)) bs=${LOG_TAIL_BYTES} count=1 status=none 2>/dev/null | tail -n ${MAX_LOG_LINES} | ${value} | ${asRecords('log')}; fi`,
  ].join('\n');
}

/** Pure: the records pendingScript printed, as the report's model; every value bounded, whatever the host sent. */
export function parsePending(stdout: string): HostPending {
  const values = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    values.set(key, [...(values.get(key) ?? []), line.slice(eq + 1, eq + 1 + VALUE_CHARS)]);
  }
  const one = (key: string) => values.get(key)?.[0];
  const time = (key: string) => {
    const epoch = Number(one(key));
    return one(key) && Number.isSafeInteger(epoch) && epoch > 0 ? new Date(epoch * 1000).toISOString() : undefined;
  };
  const pending: HostPending = { now: time('now') ?? 'unknown', log: (values.get('log') ?? []).slice(-MAX_LOG_LINES) };
  const net = one('net');
  if (net !== undefined) pending.net = { run: net, firesAt: time('net.fires'), firing: one('net.firing') === 'yes', undo: (values.get('net.undo') ?? []).slice(0, MAX_UNDO) };
  const lease = one('lease');
  if (lease !== undefined) {
    const owner = one('lease.owner');
    pending.lease = { run: lease, until: time('lease.until'), owner: owner === 'connected' || owner === 'gone' ? owner : 'unknown' };
  }
  return pending;
}

/** How long settling by hand holds the host: one round trip, with room to spare. */
const HAND_LEASE_S = 60;

/**
 * Settling by hand in one round trip that stops at the first failure: the lease taken for `runId` (refused when
 * another live run holds the host; a gone run's is broken even while its net is armed, which this settles), then
 * the net confirmed or rolled back, and the lease given back.
 */
export function settleByHandScripts(action: 'confirm' | 'rollback', runId: string): string[] {
  return [acquireScript(runId, HAND_LEASE_S, 0, true), `(\n${settleByHandScript(action)}\n)\nff_rc=$?\n${releaseScript(runId)}\nexit $ff_rc`];
}

/** Pure: what settling by hand came to, in a sentence for the report, from the output of its second script (which exited 0). */
export function settledByHand(action: 'confirm' | 'rollback', stdout: string): { ok: boolean; message: string } {
  const run = /^net (.*)$/m.exec(stdout)?.[1]?.slice(0, VALUE_CHARS);
  if (run === undefined) {
    const none = /^none$/m.test(stdout);
    return { ok: none, message: none ? `no safety net was armed: nothing to ${action === 'confirm' ? 'confirm' : 'roll back'}` : 'the host did not say what it settled' };
  }
  if (action === 'confirm') return { ok: true, message: `confirmed: the safety net of run ${run} is disarmed, and its changes are kept` };
  const fired = parseFired(stdout);
  const failed = fired.undoFailed.size ? `, ${fired.undoFailed.size} undo${fired.undoFailed.size === 1 ? '' : 's'} failed` : '';
  return { ok: fired.undoFailed.size === 0 && fired.restarted, message: `rolled back: the safety net of run ${run} fired now: ${fired.undone.size} change${fired.undone.size === 1 ? '' : 's'} undone${failed}, ${fired.restarted ? 'sshd restarted' : 'sshd RESTART FAILED'}` };
}
