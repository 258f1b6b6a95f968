// The on-host safety net's log: where a net that fired writes what it undid, and which of its lines are recent.

/** Where a net that fired logs, one line per step, each starting with its UTC time (see engine/safety-net.ts). */
export const NET_LOG = '/var/log/fleetfix.log';

/** How long a net's firing is reported by later audits. */
const RECENT_S = 7 * 24 * 3600;

/** The lines of NET_LOG written within RECENT_S of `now` (the host's clock, epoch seconds), in order. */
export function recentNetLines(lines: string[], now: number): string[] {
  return lines.filter((line) => {
    const at = Date.parse(/^(\S+) fleetfix: /.exec(line)?.[1] ?? '');
    return !Number.isNaN(at) && now - at / 1000 <= RECENT_S && at / 1000 <= now + 60;
  });
}
