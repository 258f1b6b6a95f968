// Which causes sshd logged are findings: those not older than the last change that could have fixed them; the rest is history.
import type { LogEvent } from './auth-log.js';
import type { PathState } from './log-paths.js';
import type { Reference } from './sshd-start.js';

/** A cause sshd logged that still counts, and the last change it is judged against (undefined: none known). */
export interface Finding {
  event: LogEvent;
  after?: Reference;
}

/** How many lines came before a change that could have fixed what they name; `refusals` when that change is a path's. */
export interface History {
  before: Reference;
  count: number;
  refusals: boolean;
}

export interface Judgement {
  findings: Finding[];
  history: History[];
}

/**
 * Judge each event by its own time against the latest change that could have fixed it: sshd's (re)start for what
 * sshd decides when it loads its configuration, and for a refused path also the path's own last change. An event
 * wholly before that change is history; one at or after it, or of unknown time, is a finding (a line repeated keeps
 * its place, with its latest time). Each event is judged alone: no line, forged or not, moves another's judgement.
 */
export function judge(events: LogEvent[], sshd: Reference | undefined, paths: Map<string, PathState>): Judgement {
  const findings: Finding[] = [];
  const history = new Map<string, History>();
  for (const event of events) {
    const path = pathChange(event, paths);
    const after = !path || (sshd && sshd.from >= path.from) ? sshd : path;
    if (event.time && after && event.time.at + event.time.within <= after.from) {
      const key = `${after.what}\n${after.at}`;
      history.set(key, { before: after, count: (history.get(key)?.count ?? 0) + 1, refusals: after === path });
      continue;
    }
    const same = findings.findIndex((f) => f.event.line === event.line);
    if (same < 0) findings.push({ event, after });
    else findings[same] = { event, after };
  }
  return { findings, history: [...history.values()] };
}

/**
 * The last change of the path a refusal names, as a reference; none when the host did not stat it, or when the path
 * is still writable by group or others (StrictModes refuses it still: that change fixed nothing).
 */
function pathChange(event: LogEvent, paths: Map<string, PathState>): Reference | undefined {
  const state = event.path === undefined ? undefined : paths.get(event.path);
  if (!state || (state.mode & 0o022) !== 0) return undefined;
  return { what: `${event.path} last changed`, at: state.changed, from: state.changed };
}
