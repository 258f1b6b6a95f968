// sshd's own words in auth.log, secure or the journal, matched against the known causes of refused logins.
import { isIP } from 'node:net';
import { z } from 'zod';

export interface Finding {
  cause: string;
  line: string;
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

/** The messages with which sshd's listener starts anew: its listening sockets, and a re-exec on SIGHUP. */
const RESTART_MESSAGE = 'Received SIGHUP; restarting.';
const LISTENING_MESSAGE = /^Server listening on (\S+?)(?:%[\w.-]+)? port \d+(?: rdomain \S+)?\.$/;

/**
 * Fixed strings, at least one of which is in every line or journal record the scans look at: the host keeps only
 * those, so that a busy log is not shipped whole (a scan's result is the same on the kept lines as on all of them).
 */
export const LOG_KEYWORDS = ['Server listening on ', RESTART_MESSAGE, 'Authentication refused', 'Bind to port', 'Cannot bind any address', 'MaxStartups', 'Could not load host key', 'no hostkeys available', ' not allowed because ', 'userauth_pubkey', 'PubkeyAuthentication disabled', 'sshd_config', 'Bad configuration option'];

/** The process names sshd logs under: the listener, and (OpenSSH 9.8 and later) each connection's sshd-session and sshd-auth. */
const SSHD_NAMES = new Set(['sshd', 'sshd-session', 'sshd-auth']);

/** A syslog line starts with its time, traditional (`Dec  8 04:16:30`) or RFC 3339; then the host and the tag with a PID. */
const SYSLOG_TIME = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) /;
const SYSLOG_TAGGED = /^\S+ ([^\s[\]]+)\[\d+\]: (.*)$/;

/**
 * A journal record (journalctl -o json). The journal sets _PID and _COMM itself, from the process that sent the
 * record: no process can claim another's PID, and a name a user gives their own process comes with its own PID.
 */
const journalRecord = z.object({ MESSAGE: z.string(), _PID: z.string(), _COMM: z.string() });

/** A line sshd logged (as far as the log can tell): its message, and the line a finding shows. */
interface Entry {
  message: string;
  line: string;
}

/**
 * Findings in a log file's last lines, those tagged sshd's (sshd, sshd-session, sshd-auth) or untagged as `sshd -E`
 * writes them. None of them ends the window: any local user can log a line tagged with the listener's own PID
 * (`logger -t sshd --id=PID`), so a restart seen there may be forged to hide what came before it.
 */
export function scanLogFile(lines: string[]): Finding[] {
  return findingsIn(lines.flatMap(fileEntry));
}

/**
 * Findings in journal records since sshd's listener (one of `listenerPids`) last started: a restart counts only as
 * the listener's own message from the listener's own process, as the journal saw it (_COMM and _PID).
 */
export function scanJournal(records: string[], listenerPids: string[]): Finding[] {
  const entries = records.flatMap(journalEntry);
  let start = 0;
  entries.forEach((e, i) => {
    if (e.comm === 'sshd' && listenerPids.includes(e.pid) && isRestart(e.message)) start = i;
  });
  return findingsIn(entries.slice(start));
}

/** sshd's listener message exactly (an address, a port), or its re-exec on SIGHUP: never a line that only holds one. */
function isRestart(message: string): boolean {
  const address = LISTENING_MESSAGE.exec(message)?.[1];
  return message === RESTART_MESSAGE || (address !== undefined && isIP(address) !== 0);
}

function findingsIn(entries: Entry[]): Finding[] {
  const findings: Finding[] = [];
  for (const { message, line } of entries) {
    const hit = PATTERNS.find((p) => p.re.test(message));
    if (hit && !findings.some((f) => f.line === line)) findings.push({ cause: hit.cause, line });
  }
  return findings;
}

/** A syslog line tagged sshd's, or a line with no syslog time: sshd's own `-E FILE`, which no syslog writes. */
function fileEntry(raw: string): Entry[] {
  const line = raw.trim();
  const time = SYSLOG_TIME.exec(line);
  if (!time) return [{ message: line, line }];
  const [, tag, message] = SYSLOG_TAGGED.exec(line.slice(time[0].length)) ?? [];
  return tag !== undefined && SSHD_NAMES.has(tag) ? [{ message: message!, line }] : [];
}

/** A journal record of one of sshd's processes, by the journal's own _COMM; its message is what a finding shows. */
function journalEntry(json: string): (Entry & { comm: string; pid: string })[] {
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch {
    return [];
  }
  const r = journalRecord.safeParse(record);
  if (!r.success || !SSHD_NAMES.has(r.data._COMM)) return [];
  return [{ comm: r.data._COMM, pid: r.data._PID, message: r.data.MESSAGE, line: r.data.MESSAGE }];
}
