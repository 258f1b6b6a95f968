// The check-only parsers: listening sockets (ss and /proc/net/tcp) and sshd log findings (files, journal), as tables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOG_KEYWORDS, scanJournal, scanLogFile } from '../../src/facts/auth-log.js';
import { parseProcNetTcp, parseSs } from '../../src/facts/listening.js';

/** What the host sends of a log: only the lines with a keyword (grep -F). */
const kept = (line: string) => LOG_KEYWORDS.some((k) => line.includes(k));

describe('listening sockets', () => {
  const ss: [string, object[]][] = [
    ['LISTEN 0      128          0.0.0.0:22        0.0.0.0:*', [{ address: '0.0.0.0', port: 22 }]],
    ['LISTEN 0      128             [::]:22           [::]:*', [{ address: '::', port: 22 }]],
    ['LISTEN 0      128        127.0.0.1:2222      0.0.0.0:*', [{ address: '127.0.0.1', port: 2222 }]],
    ['LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*', [{ address: '127.0.0.53', port: 53, device: 'lo' }]],
    ['LISTEN 0      128   [fe80::1%eth0]:22           [::]:*', [{ address: 'fe80::1', port: 22, device: 'eth0' }]],
    ['ESTAB  0      0        10.0.0.5:22      10.0.0.9:5555', []],
  ];
  for (const [line, want] of ss) it(`ss: ${line.slice(0, 50)}`, () => assert.deepEqual(parseSs([line]), want));

  const proc: [string, object[]][] = [
    ['   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1', [{ address: '0.0.0.0', port: 22 }]],
    ['   1: 0100007F:08AE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1', [{ address: '127.0.0.1', port: 2222 }]],
    ['   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0', [{ address: '::', port: 22 }]],
    ['   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0', [{ address: '::1', port: 22 }]],
    ['   2: 0B0112C6:0016 0A0112C6:D431 01 00000000:00000000 00:00000000 00000000     0        0 1 1', []],
  ];
  for (const [line, want] of proc) it(`/proc/net/tcp: ${line.trim().slice(0, 40)}`, () => assert.deepEqual(parseProcNetTcp([line]), want));
});

describe('sshd log findings in a file', () => {
  const refused = 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh';
  const cases: [string, string[], string[]][] = [
    ['nothing of note', ['Server listening on 0.0.0.0 port 22.', 'Accepted publickey for root from 198.18.1.1 port 4000 ssh2: ED25519 SHA256:x'], []],
    ['bad modes', ['Server listening on :: port 22.', refused], ['bad-ownership-or-modes']],
    ['port in use', ['error: Bind to port 22 on 0.0.0.0 failed: Address already in use.', 'fatal: Cannot bind any address.'], ['port-in-use', 'no-listen-address']],
    ['MaxStartups', ['Server listening on :: port 22.', 'drop connection #10 from [198.18.1.1]:41000 on [198.18.1.11]:22 past MaxStartups'], ['maxstartups']],
    ['host key', ['error: Could not load host key: /etc/ssh/ssh_host_rsa_key'], ['host-key-unloadable']],
    ['not allowed', ['Server listening on :: port 22.', 'User deploy from 198.18.1.1 not allowed because not listed in AllowUsers'], ['user-not-allowed']],
    ['syslog prefixes and duplicates', ['Nov 24 12:00:01 h1 sshd[99]: Authentication refused: bad ownership or modes for file /root/.ssh/authorized_keys', 'Nov 24 12:00:01 h1 sshd[99]: Authentication refused: bad ownership or modes for file /root/.ssh/authorized_keys'], ['bad-ownership-or-modes']],
    ['config error', ['Accepted publickey for root', '/etc/ssh/sshd_config line 130: Bad configuration option: Foo'], ['config-error']],
    ['pubkey disabled', ['Server listening on :: port 22.', 'userauth_pubkey: publickey authentication disabled'], ['pubkey-disabled']],
    // Nothing in a file tells sshd's restart from a forged one: what came before it still counts.
    ['sshd -E: a restart ends nothing', [refused, 'Server listening on 0.0.0.0 port 22.'], ['bad-ownership-or-modes']],
    ['sshd -E: a login as the user "Server listening on x"', [refused, 'Invalid user Server listening on x from 198.18.0.1 port 5555'], ['bad-ownership-or-modes']],
    ['traditional: the login as "Server listening on ..."', [`Dec  8 04:16:30 h1 sshd[812]: ${refused}`, 'Dec  8 04:16:31 h1 sshd[900]: Invalid user Server listening on 0.0.0.0 port 22. from 198.18.0.1 port 5555'], ['bad-ownership-or-modes']],
    ['traditional: logger -t sshd, its own PID', [`Dec  8 04:16:30 h1 sshd[812]: ${refused}`, 'Dec  8 04:16:40 h1 sshd[4242]: Server listening on 0.0.0.0 port 22.'], ['bad-ownership-or-modes']],
    ['RFC 3339: logger -t sshd --id with the listener\'s PID', [`2026-12-08T04:16:30.123456+00:00 h1 sshd[812]: ${refused}`, '2026-12-08T04:16:40.654321+00:00 h1 sshd[500]: Server listening on 0.0.0.0 port 22.'], ['bad-ownership-or-modes']],
    ['RFC 3339: sshd-session and sshd-auth are sshd\'s', ['2026-12-08T04:16:30+00:00 h1 sshd-session[812]: error: Could not load host key: /etc/ssh/k', `2026-12-08T04:16:31Z h1 sshd-auth[813]: ${refused}`], ['host-key-unloadable', 'bad-ownership-or-modes']],
    ['another tag, or sshd without a PID, is not sshd', [`Dec  8 04:16:30 h1 logger[77]: ${refused}`, 'Dec  8 04:16:31 h1 cron[5]: error: Bind to port 22 on 0.0.0.0 failed: Address already in use.', `2026-12-08T04:16:32+00:00 h1 sshd: ${refused}`, `Dec 18 04:16:33 h1 x sshd[9]: ${refused}`], []],
  ];
  for (const [name, lines, causes] of cases) {
    it(name, () => assert.deepEqual(scanLogFile(lines).map((f) => f.cause), causes));
    // The host sends only the lines with a keyword (grep -F): the findings must not change.
    it(`${name}: the same on the lines the host keeps`, () => assert.deepEqual(scanLogFile(lines.filter(kept)), scanLogFile(lines)));
  }
});

describe('sshd log findings in the journal', () => {
  const LISTENER = '51';
  /** A record as journalctl -o json --output-fields=MESSAGE,_PID,_COMM prints it. */
  const record = (comm: string, pid: string, message: string) => JSON.stringify({ __CURSOR: 's=1;i=2', __REALTIME_TIMESTAMP: '1796703891595514', _PID: pid, _COMM: comm, MESSAGE: message });
  const refused = record('sshd', '67', 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh');
  const listening = (comm: string, pid: string, address = '0.0.0.0') => record(comm, pid, `Server listening on ${address} port 22.`);
  /** Name, records, the causes found, and the listener's PIDs when not [LISTENER]. */
  const cases: [string, string[], string[], string[]?][] = [
    ['the listener restarted, then a user logged a restart with logger', [refused, listening('sshd', LISTENER, '::'), record('sshd', '70', 'error: Bind to port 2222 on 0.0.0.0 failed: Address already in use.'), listening('logger', '79')], ['port-in-use']],
    ['the listener re-executed on SIGHUP', [refused, record('sshd', LISTENER, 'Received SIGHUP; restarting.'), record('sshd', LISTENER, 'fatal: Cannot bind any address.')], ['no-listen-address']],
    ['logger -t sshd: the journal names logger', [refused, listening('logger', '79')], ['bad-ownership-or-modes']],
    ['a process named sshd that is not the listener', [refused, listening('sshd', '4242')], ['bad-ownership-or-modes']],
    ['a login as the user "Server listening on ..."', [refused, record('sshd', '69', 'Invalid user Server listening on 0.0.0.0 port 22. from 198.18.0.1 port 5555')], ['bad-ownership-or-modes']],
    ['the listener\'s message, but not exactly', [refused, record('sshd', LISTENER, 'Server listening on 0.0.0.0 port 22. and more'), record('sshd', LISTENER, 'Server listening on x port 22.')], ['bad-ownership-or-modes']],
    ['a finding logged by another process is not sshd\'s; sshd-session\'s is', [record('logger', '79', 'error: Could not load host key: /etc/ssh/k'), record('sshd-session', '80', 'error: Could not load host key: /etc/ssh/ssh_host_rsa_key')], ['host-key-unloadable']],
    ['no listener known: nothing ends the window', [refused, listening('sshd', LISTENER)], ['bad-ownership-or-modes'], []],
    ['a record cut short (at 2000 bytes) is not read', [refused.slice(0, -2), record('sshd', '67', 'userauth_pubkey: publickey authentication disabled')], ['pubkey-disabled']],
  ];
  for (const [name, records, causes, listeners = [LISTENER]] of cases) {
    it(name, () => assert.deepEqual(scanJournal(records, listeners).map((f) => f.cause), causes));
    it(`${name}: the same on the records the host keeps`, () => assert.deepEqual(scanJournal(records.filter(kept), listeners), scanJournal(records, listeners)));
  }
  it('a finding shows the message', () => assert.deepEqual(scanJournal([refused], [LISTENER]), [{ cause: 'bad-ownership-or-modes', line: 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh' }]));
});
