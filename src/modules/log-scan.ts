// log_scan module (check only): what sshd logged that names a cause of refused logins, judged by each line's own time
// against the last change that could have fixed it, and what fleetfix's own safety net undid lately, reported as
// findings with the line and its time. Findings decide nothing: the other checks judge the state.
import { z } from 'zod';
import { absolutePathString, intLike } from '../config/fields.js';
import { LOG_KEYWORDS, scanJournal, scanLogFile } from '../facts/auth-log.js';
import { pathStates, refusedPathsChanged } from '../facts/log-paths.js';
import { hostClock, showTime, type HostClock } from '../facts/log-time.js';
import { judge, type Finding, type History } from '../facts/log-window.js';
import { first, parseRecords } from '../facts/records.js';
import { NET_LOG, recentNetLines } from '../facts/safety-net-log.js';
import { SSHD_START_FACTS, sshdStart } from '../facts/sshd-start.js';
import { shq } from '../util/shell.js';
import { defineFact } from '../facts/fact.js';
import { defineModule, type CheckPlan } from './types.js';

const params = z.strictObject({
  files: z.array(absolutePathString).min(1).optional(),
  lines: intLike(10, 100000).optional(),
});
type Params = z.output<typeof params>;

/** How many of a log's last lines are scanned, by default. */
const DEFAULT_LINES = 2000;

/** The longest log line that travels: sshd's own lines are far shorter, a user's crafted one need not be. */
const MAX_LINE = 2000;

/**
 * One awk (bytes, not characters: LC_ALL=C) that prints each line of its input as a `key=` record, cut to MAX_LINE
 * bytes; with `keywords`, only the lines that hold one of them, as grep -F would pick.
 */
function linesKept(key: string, keywords?: string[]): string {
  const literal = (k: string) => `"${k.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  const pick = keywords ? `${keywords.map((k) => `index($0, ${literal(k)})`).join(' || ')} ` : '';
  return `LC_ALL=C awk ${shq(`${pick}{ print "${key}=" substr($0, 1, ${MAX_LINE}) }`)}`;
}

/** The facts the log_scan check reads. */
const logScanLinesFact = defineFact<Params>({
  name: 'log_scan.lines',
  script(p) {
    const n = p.lines ?? DEFAULT_LINES;
    const files = (p.files ?? ['/var/log/auth.log', '/var/log/secure']).map(shq).join(' ');
    // The host's clock (a traditional syslog time is its local time, without a year), what the safety net logged
    // (its lines name their time; the plan keeps the recent ones), and when the running sshd last loaded its
    // configuration. Of a log file's last n lines, only those that can matter travel, each cut to a length a log line
    // has; then when each path their refusals name last changed. Without a log file, the same of the journal of
    // sshd's units (the service, its socket and per-connection instances), as JSON with the sender's name and the
    // time as the journal recorded them.
    const net = `if [ -r ${NET_LOG} ]; then tail -n 50 ${NET_LOG} | ${linesKept('net')}; fi`;
    const units = `-u ssh.service -u sshd.service -u ssh.socket -u sshd.socket -u 'ssh@*.service' -u 'sshd@*.service'`;
    return `printf 'now=%s\\nzone=%s\\n' "$(date +%s)" "$(date +%z)"
${net}
${SSHD_START_FACTS}
for f in ${files}; do if [ -r "$f" ]; then printf 'source=%s\\n' "$f"; tail -n ${n} "$f" | ${linesKept('log', LOG_KEYWORDS)}; tail -n ${n} "$f" | ${refusedPathsChanged(MAX_LINE)}; exit 0; fi; done
if command -v journalctl >/dev/null 2>&1; then
  ff_journal() { journalctl ${units} -n ${n} --no-pager "$@" 2>/dev/null; }
  echo source=journal
  ff_journal -o json --output-fields=MESSAGE,_COMM | ${linesKept('journal', LOG_KEYWORDS)}
  ff_journal -o cat | ${refusedPathsChanged(MAX_LINE)}
fi; true`;
  },
});

export const logScanModule = defineModule({
  name: 'log_scan',
  summary: 'check only: recent sshd log lines matched against known causes, reported as findings',
  params,
  facts: (p: Params) => ({ log: logScanLinesFact(p) }),
  plan(p: Params, facts): CheckPlan {
    const r = parseRecords(facts.log!.stdout);
    const clock = hostClock(first(r, 'now'), first(r, 'zone'));
    const net = recentNetLines(r.get('net') ?? [], Number(first(r, 'now'))).map((line) => `safety-net: ${line}`);
    const netNote = net.length ? `; fleetfix's safety net undid changes here lately (${NET_LOG})` : '';
    const source = first(r, 'source');
    if (!source) return { ok: true, message: `no sshd log found to scan${netNote}`, changes: [], findings: net.length ? net : undefined };
    const journal = source === 'journal';
    const events = journal ? scanJournal(r.get('journal') ?? []) : scanLogFile(r.get('log') ?? [], clock);
    const sshd = sshdStart(first(r, 'listener_started'), first(r, 'pidfile_written'));
    const { findings, history } = judge(events, sshd, pathStates(r.get('changed') ?? []));
    const window = `in its last ${p.lines ?? DEFAULT_LINES} ${journal ? 'records' : 'lines'} ${sshd ? `since ${sshd.what} at ${showTime(sshd.at, clock)}` : "(sshd's start unknown: no running listener found)"}`;
    const untimed = findings.filter((f) => !f.event.time).length;
    const notes = [...(untimed ? [`${untimed} of unknown time`] : []), ...history.map((h) => historyNote(h, clock))].map((n) => `; ${n}`).join('');
    const found = findings.length ? `${findings.length} ${plural(findings.length, 'finding')}` : 'nothing of note';
    const all = [...net, ...findings.map((f) => `${f.event.cause}: ${f.event.line} (${when(f, clock)})`)];
    return { ok: true, message: `${source}: ${found} ${window}${notes}${netNote}`, changes: [], findings: all.length ? all : undefined };
  },
});

/** When a finding happened, relative to the last change that could have fixed it. */
function when({ event, after }: Finding, clock: HostClock | undefined): string {
  if (!event.time) return 'time unknown';
  const at = `at ${showTime(event.time.at, clock)}`;
  return after ? `${at}, ${event.time.at >= after.at ? 'after' : 'as'} ${after.what} at ${showTime(after.at, clock)}` : at;
}

/** What came before a change: "2 refusals before /home/deploy/.ssh last changed at ...". */
function historyNote({ before, count, refusals }: History, clock: HostClock | undefined): string {
  return `${count} ${refusals ? plural(count, 'refusal') : `${plural(count, 'line')} of note`} before ${before.what} at ${showTime(before.at, clock)}`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
