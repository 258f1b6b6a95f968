// log_scan module (check only): recent sshd log lines that name a cause of refused logins, and what fleetfix's own
// safety net undid lately, reported as findings with the line. Findings decide nothing: a log keeps describing a
// fault after it is fixed, and the other checks judge the state.
import { z } from 'zod';
import { absolutePathString, intLike } from '../config/fields.js';
import { LOG_KEYWORDS, scanJournal, scanLogFile } from '../facts/auth-log.js';
import { first, parseRecords } from '../facts/records.js';
import { NET_LOG, recentNetLines } from '../facts/safety-net-log.js';
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
    // Of a log file's last n lines (the window of its findings: see scanLogFile), only those that can matter travel,
    // each cut to a length a log line has. Without a log file, the journal of sshd's units (the service, its socket
    // and per-connection instances) since the one running started: a socket-activated sshd's refusals are logged by
    // the service the socket started. Its records as JSON, with the sender's PID and name as the journal recorded
    // them, and the listener's PID (the service's main process), so that only the listener itself marks a restart.
    // What the safety net logged (its lines name their time; the plan keeps the recent ones).
    const net = `if [ -r ${NET_LOG} ]; then printf 'now=%s\\n' "$(date -u +%s)"; tail -n 50 ${NET_LOG} | ${linesKept('net')}; fi`;
    return `${net}
for f in ${files}; do if [ -r "$f" ]; then printf 'source=%s\\n' "$f"; tail -n ${n} "$f" | ${linesKept('log', LOG_KEYWORDS)}; exit 0; fi; done
if command -v journalctl >/dev/null 2>&1; then
  ff_since=; for ff_u in ssh.socket sshd.socket ssh.service sshd.service; do
    if [ "$(systemctl is-active "$ff_u" 2>/dev/null)" = active ]; then ff_since=$(systemctl show --timestamp=unix -P ActiveEnterTimestamp "$ff_u" 2>/dev/null); echo "since=$ff_u"; break; fi
  done
  for ff_p in $(systemctl show -P MainPID ssh.service sshd.service 2>/dev/null); do echo "listener=$ff_p"; done
  echo source=journal
  journalctl -u ssh.service -u sshd.service -u ssh.socket -u sshd.socket -u 'ssh@*.service' -u 'sshd@*.service' \${ff_since:+--since "$ff_since"} -n ${n} --no-pager -o json --output-fields=MESSAGE,_PID,_COMM 2>/dev/null | ${linesKept('journal', LOG_KEYWORDS)}
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
    const source = first(r, 'source');
    const net = recentNetLines(r.get('net') ?? [], Number(first(r, 'now'))).map((line) => `safety-net: ${line}`);
    const netNote = net.length ? `; fleetfix's safety net undid changes here lately (${NET_LOG})` : '';
    if (!source) return { ok: true, message: `no sshd log found to scan${netNote}`, changes: [], findings: net.length ? net : undefined };
    // A file's restarts may be forged (see scanLogFile): its findings are of its last lines, some perhaps older.
    const journal = source === 'journal';
    const found = journal ? scanJournal(r.get('journal') ?? [], r.get('listener') ?? []) : scanLogFile(r.get('log') ?? []);
    const findings = [...net, ...found.map((f) => `${f.cause}: ${f.line}`)];
    const window = journal ? `since ${first(r, 'since') ?? 'sshd'} started` : `in its last ${p.lines ?? DEFAULT_LINES} lines`;
    if (findings.length === 0) return { ok: true, message: `${source}: nothing of note ${window}`, changes: [] };
    const older = journal || found.length === 0 ? '' : ', perhaps from before sshd last started';
    return { ok: true, message: `${source}: ${found.length} finding${found.length === 1 ? '' : 's'} ${window}${older}${netNote}`, changes: [], findings };
  },
});
