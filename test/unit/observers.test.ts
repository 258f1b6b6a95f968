// The check-only parsers: listening sockets (ss and /proc/net/tcp) and the sshd log lines that name a cause (files, journal), as tables.
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

describe('sshd log lines that name a cause, in a file', () => {
  /** The host's clock the fact read: 2026-12-08T05:00:00Z, UTC. */
  const clock = { now: 1796706000, offsetMinutes: 0 };
  const refused = 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh';
  /** Name, lines, and each event's cause with its time (epoch seconds; '-': none). */
  const cases: [string, string[], [string, number | '-'][]][] = [
    ['nothing of note', ['Server listening on 0.0.0.0 port 22.', 'Accepted publickey for root from 198.18.1.1 port 4000 ssh2: ED25519 SHA256:x'], []],
    ['sshd -E: untimed', ['Server listening on :: port 22.', `${refused}\r`], [['bad-ownership-or-modes', '-']]],
    ['port in use', ['error: Bind to port 22 on 0.0.0.0 failed: Address already in use.', 'fatal: Cannot bind any address.'], [['port-in-use', '-'], ['no-listen-address', '-']]],
    ['MaxStartups', ['drop connection #10 from [198.18.1.1]:41000 on [198.18.1.11]:22 past MaxStartups'], [['maxstartups', '-']]],
    ['host key', ['error: Could not load host key: /etc/ssh/ssh_host_rsa_key'], [['host-key-unloadable', '-']]],
    ['not allowed', ['User deploy from 198.18.1.1 not allowed because not listed in AllowUsers'], [['user-not-allowed', '-']]],
    ['config error', ['Accepted publickey for root', '/etc/ssh/sshd_config line 130: Bad configuration option: Foo'], [['config-error', '-']]],
    ['pubkey disabled', ['userauth_pubkey: publickey authentication disabled'], [['pubkey-disabled', '-']]],
    ['traditional time: the host\'s local time this year', [`Dec  8 04:16:30 h1 sshd[812]: ${refused}`], [['bad-ownership-or-modes', 1796703390]]],
    ['RFC 3339 time: its own zone', [`2026-12-08T05:16:30.5+01:00 h1 sshd[812]: ${refused}`], [['bad-ownership-or-modes', 1796703390.5]]],
    ['a time that is none: the line counts, its time unknown', [`Feb 30 04:16:30 h1 sshd[812]: ${refused}`], [['bad-ownership-or-modes', '-']]],
    ['sshd -E: a restart and a login as the user "Server listening on x" are lines like any other', [refused, 'Server listening on 0.0.0.0 port 22.', 'Invalid user Server listening on x from 198.18.0.1 port 5555'], [['bad-ownership-or-modes', '-']]],
    ['logger -t sshd --id with the listener\'s PID: a line of its own, at its own time', [`Dec  8 04:16:30 h1 sshd[812]: ${refused}`, 'Dec  8 04:16:40 h1 sshd[500]: Server listening on 0.0.0.0 port 22.'], [['bad-ownership-or-modes', 1796703390]]],
    ['sshd-session and sshd-auth are sshd\'s', ['2026-12-08T04:16:30+00:00 h1 sshd-session[812]: error: Could not load host key: /etc/ssh/k', `2026-12-08T04:16:31Z h1 sshd-auth[813]: ${refused}`], [['host-key-unloadable', 1796703390], ['bad-ownership-or-modes', 1796703391]]],
    ['another tag, or sshd without a PID, is not sshd', [`Dec  8 04:16:30 h1 logger[77]: ${refused}`, 'Dec  8 04:16:31 h1 cron[5]: error: Bind to port 22 on 0.0.0.0 failed: Address already in use.', `2026-12-08T04:16:32+00:00 h1 sshd: ${refused}`, `Dec 18 04:16:33 h1 x sshd[9]: ${refused}`], []],
  ];
  const summary = (lines: string[]) => scanLogFile(lines, clock).map((e) => [e.cause, e.time?.at ?? '-']);
  for (const [name, lines, events] of cases) {
    it(name, () => assert.deepEqual(summary(lines), events));
    // The host sends only the lines with a keyword (grep -F): the events must not change.
    it(`${name}: the same on the lines the host keeps`, () => assert.deepEqual(scanLogFile(lines.filter(kept), clock), scanLogFile(lines, clock)));
  }
  it('an event shows the line and names the refused path', () =>
    assert.deepEqual(scanLogFile([`Dec  8 04:16:30 h1 sshd[812]: ${refused} \r`], clock), [{ cause: 'bad-ownership-or-modes', line: `Dec  8 04:16:30 h1 sshd[812]: ${refused}`, time: { at: 1796703390, within: 1 }, path: '/home/deploy/.ssh' }]));
  it('without the host\'s clock a traditional time is unknown', () => assert.deepEqual(scanLogFile([`Dec  8 04:16:30 h1 sshd[812]: ${refused}`], undefined).map((e) => e.time), [undefined]));
});

describe('sshd log records that name a cause, in the journal', () => {
  /** A record as journalctl -o json --output-fields=MESSAGE,_COMM prints it (the journal adds its own fields). */
  const record = (comm: string, message: string, micros = '1796703390500000') => JSON.stringify({ __CURSOR: 's=1;i=2', __REALTIME_TIMESTAMP: micros, _PID: '67', _COMM: comm, MESSAGE: message });
  const refused = record('sshd', 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh');
  /** Name, records, and each event's cause with its time ('-': none). */
  const cases: [string, string[], [string, number | '-'][]][] = [
    ['the journal\'s time', [refused], [['bad-ownership-or-modes', 1796703390.5]]],
    ['logger -t sshd: the journal names logger', [record('logger', 'Authentication refused: bad ownership or modes for directory /home/eve')], []],
    ['a copy of logger named sshd: a record of its own, at the journal\'s time', [refused, record('sshd', 'Server listening on 0.0.0.0 port 22.', '1796703999000000')], [['bad-ownership-or-modes', 1796703390.5]]],
    ['a login as the user "Server listening on ..."', [refused, record('sshd', 'Invalid user Server listening on 0.0.0.0 port 22. from 198.18.0.1 port 5555')], [['bad-ownership-or-modes', 1796703390.5]]],
    ['a finding logged by another process is not sshd\'s; sshd-session\'s is', [record('logger', 'error: Could not load host key: /etc/ssh/k'), record('sshd-session', 'error: Could not load host key: /etc/ssh/ssh_host_rsa_key')], [['host-key-unloadable', 1796703390.5]]],
    ['a record without the journal\'s time: unknown', [record('sshd', 'fatal: Cannot bind any address.', 'soon')], [['no-listen-address', '-']]],
    ['a record cut short (at 2000 bytes) is not read', [refused.slice(0, -2), record('sshd', 'userauth_pubkey: publickey authentication disabled')], [['pubkey-disabled', 1796703390.5]]],
  ];
  for (const [name, records, events] of cases) {
    it(name, () => assert.deepEqual(scanJournal(records).map((e) => [e.cause, e.time?.at ?? '-']), events));
    it(`${name}: the same on the records the host keeps`, () => assert.deepEqual(scanJournal(records.filter(kept)), scanJournal(records)));
  }
  it('an event shows the message', () => assert.deepEqual(scanJournal([refused]), [{ cause: 'bad-ownership-or-modes', line: 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh', time: { at: 1796703390.5, within: 1e-6 }, path: '/home/deploy/.ssh' }]));
});
