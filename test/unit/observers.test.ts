// The check-only parsers: listening sockets (ss and /proc/net/tcp) and sshd log findings, as tables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOG_KEYWORDS, scanLog } from '../../src/facts/auth-log.js';
import { parseProcNetTcp, parseSs } from '../../src/facts/listening.js';

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

describe('sshd log findings', () => {
  const cases: [string, string[], string[]][] = [
    ['nothing of note', ['Server listening on 0.0.0.0 port 22.', 'Accepted publickey for root from 198.18.1.1 port 4000 ssh2: ED25519 SHA256:x'], []],
    ['bad modes', ['Server listening on :: port 22.', 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh'], ['bad-ownership-or-modes']],
    ['port in use', ['error: Bind to port 22 on 0.0.0.0 failed: Address already in use.', 'fatal: Cannot bind any address.'], ['port-in-use', 'no-listen-address']],
    ['MaxStartups', ['Server listening on :: port 22.', 'drop connection #10 from [198.18.1.1]:41000 on [198.18.1.11]:22 past MaxStartups'], ['maxstartups']],
    ['host key', ['error: Could not load host key: /etc/ssh/ssh_host_rsa_key'], ['host-key-unloadable']],
    ['not allowed', ['Server listening on :: port 22.', 'User deploy from 198.18.1.1 not allowed because not listed in AllowUsers'], ['user-not-allowed']],
    ['syslog prefixes and duplicates', ['Nov 24 12:00:01 h1 sshd[99]: Authentication refused: bad ownership or modes for file /root/.ssh/authorized_keys', 'Nov 24 12:00:01 h1 sshd[99]: Authentication refused: bad ownership or modes for file /root/.ssh/authorized_keys'], ['bad-ownership-or-modes']],
    ['only since the last start', ['Authentication refused: bad ownership or modes for directory /root/.ssh', 'Server listening on 0.0.0.0 port 22.'], []],
    ['config error', ['Accepted publickey for root', '/etc/ssh/sshd_config line 130: Bad configuration option: Foo'], ['config-error']],
    ['pubkey disabled', ['Server listening on :: port 22.', 'userauth_pubkey: publickey authentication disabled'], ['pubkey-disabled']],
  ];
  for (const [name, lines, causes] of cases) {
    it(name, () => assert.deepEqual(scanLog(lines).map((f) => f.cause), causes));
    // The host sends only the lines with a keyword (grep -F): the findings must not change.
    it(`${name}: the same on the lines the host keeps`, () => assert.deepEqual(scanLog(lines.filter((l) => LOG_KEYWORDS.some((k) => l.includes(k)))), scanLog(lines)));
  }
});
