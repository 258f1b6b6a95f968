// sshd's own words in auth.log, secure or the journal, matched against the known causes of refused logins.

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

/**
 * Fixed strings, at least one of which is in every line scanLog looks at: the host keeps only those lines, so that
 * a busy log is not shipped whole (scanLog's result is the same on the kept lines as on all of them).
 */
export const LOG_KEYWORDS = ['Server listening on ', 'Authentication refused', 'Bind to port', 'Cannot bind any address', 'MaxStartups', 'Could not load host key', 'no hostkeys available', ' not allowed because ', 'userauth_pubkey', 'PubkeyAuthentication disabled', 'sshd_config', 'Bad configuration option'];

/** Findings since sshd last started ("Server listening on"): earlier lines describe a daemon that is gone. */
export function scanLog(lines: string[]): Finding[] {
  let start = 0;
  lines.forEach((l, i) => {
    if (/Server listening on /.test(l)) start = i;
  });
  const findings: Finding[] = [];
  for (const line of lines.slice(start)) {
    const hit = PATTERNS.find((p) => p.re.test(line));
    if (hit && !findings.some((f) => f.line === line.trim())) findings.push({ cause: hit.cause, line: line.trim() });
  }
  return findings;
}
