// sshd's own words in auth.log, secure or the journal, matched against the known causes of refused logins, each with its time.
import { z } from 'zod';
import { refusedPath } from './log-paths.js';
import { journalTime, syslogTime, type HostClock, type Moment } from './log-time.js';

/** A line sshd logged that names a cause: what a finding shows, its own time (none: sshd -E writes none), and the path it names. */
export interface LogEvent {
  cause: string;
  line: string;
  time?: Moment;
  path?: string;
}

const PATTERNS: { cause: string; re: RegExp }[] = [
  { cause: 'bad-ownership-or-modes', re: /Authentication refused: bad ownership or modes for (file|directory) \S+/ },
  { cause: 'port-in-use', re: /Bind to port \d+ on \S+ failed: Address already in use/ },
  { cause: 'no-listen-address', re: /Cannot bind any address/ },
  { cause: 'maxstartups', re: /drop(?:ping)? connection #\d+ from .* past MaxStartups|beginning MaxStartups throttling/ },
  { cause: 'host-key-unloadable', re: /Could not load host key: \S+|no hostkeys available/ },
  { cause: 'user-not-allowed', re: /User \S+ from \S+ not allowed because .+/ },
  { cause: 'pubkey-disabled', re: /userauth_pubkey: .*disabled|PubkeyAuthentication disabled/ },
  { cause: 'config-error', re: /\/etc\/ssh\/sshd_config(?:\.d\/\S+)? line \d+: .+|Bad configuration option: .+/ },
];

/**
 * Fixed strings, at least one of which is in every line or journal record that names a cause: the host keeps only
 * those, so that a busy log is not shipped whole (a scan's result is the same on the kept lines as on all of them).
 */
export const LOG_KEYWORDS = ['Authentication refused', 'Bind to port', 'Cannot bind any address', 'MaxStartups', 'Could not load host key', 'no hostkeys available', ' not allowed because ', 'userauth_pubkey', 'PubkeyAuthentication disabled', 'sshd_config', 'Bad configuration option'];

/** The process names sshd logs under: the listener, and (OpenSSH 9.8 and later) each connection's sshd-session and sshd-auth. */
const SSHD_NAMES = new Set(['sshd', 'sshd-session', 'sshd-auth']);

/** A syslog line starts with its time, traditional (`Dec  8 04:16:30`) or RFC 3339; then the host and the tag with a PID. */
const SYSLOG_TIME = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) /;
const SYSLOG_TAGGED = /^\S+ ([^\s[\]]+)\[\d+\]: (.*)$/;

/**
 * A journal record (journalctl -o json). The journal sets _COMM and __REALTIME_TIMESTAMP itself, from the process
 * that sent the record and when it came: no sender chooses its time.
 */
const journalRecord = z.object({ MESSAGE: z.string(), _COMM: z.string(), __REALTIME_TIMESTAMP: z.string().optional() });

/** A line sshd logged (as far as the log can tell): its message, the line a finding shows, and its time. */
interface Entry {
  message: string;
  line: string;
  time?: Moment;
}

/**
 * The lines of a log file's last lines that name a cause: those tagged sshd's (sshd, sshd-session, sshd-auth), each
 * with the time its line carries, or untagged and untimed as `sshd -E` writes them. No line's time moves another's.
 */
export function scanLogFile(lines: string[], clock: HostClock | undefined): LogEvent[] {
  return eventsIn(lines.flatMap((line) => fileEntry(line, clock)));
}

/** The journal records of sshd's processes (by the journal's own _COMM) that name a cause, with the journal's time. */
export function scanJournal(records: string[]): LogEvent[] {
  return eventsIn(records.flatMap(journalEntry));
}

function eventsIn(entries: Entry[]): LogEvent[] {
  return entries.flatMap(({ message, line, time }) => {
    const hit = PATTERNS.find((p) => p.re.test(message));
    if (!hit) return [];
    const path = hit.cause === 'bad-ownership-or-modes' ? refusedPath(message) : undefined;
    return [{ cause: hit.cause, line, ...(time && { time }), ...(path && { path }) }];
  });
}

/** A syslog line tagged sshd's, or a line with no syslog time: sshd's own `-E FILE`, which no syslog writes. */
function fileEntry(raw: string, clock: HostClock | undefined): Entry[] {
  const line = raw.trim();
  const stamp = SYSLOG_TIME.exec(line);
  if (!stamp) return [{ message: line, line }];
  const [, tag, message] = SYSLOG_TAGGED.exec(line.slice(stamp[0].length)) ?? [];
  if (tag === undefined || !SSHD_NAMES.has(tag)) return [];
  const time = syslogTime(stamp[1]!, clock);
  return [{ message: message!, line, ...(time && { time }) }];
}

/** A journal record of one of sshd's processes, by the journal's own _COMM; its message is what a finding shows. */
function journalEntry(json: string): Entry[] {
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch {
    return [];
  }
  const r = journalRecord.safeParse(record);
  if (!r.success || !SSHD_NAMES.has(r.data._COMM)) return [];
  const time = journalTime(r.data.__REALTIME_TIMESTAMP);
  return [{ message: r.data.MESSAGE, line: r.data.MESSAGE, ...(time && { time }) }];
}
