// log_scan's window, as tables on recorded times: a line's own time, sshd's start, a refused path's change, and the judgement.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { scanJournal, scanLogFile } from '../../src/facts/auth-log.js';
import { MAX_PATHS, pathStates, refusedPath, refusedPathsChanged } from '../../src/facts/log-paths.js';
import { hostClock, journalTime, showTime, syslogTime, type HostClock } from '../../src/facts/log-time.js';
import { judge } from '../../src/facts/log-window.js';
import { sshdStart, type Reference } from '../../src/facts/sshd-start.js';

/** 2026-12-08T05:00:00Z, and the same instant on a host one hour east. */
const UTC: HostClock = { now: 1796706000, offsetMinutes: 0 };
const CET: HostClock = { now: 1796706000, offsetMinutes: 60 };
/** 2027-01-01T00:00:30Z: a minute into the new year. */
const NEW_YEAR: HostClock = { now: 1798761630, offsetMinutes: 0 };
/** 2028-03-01T12:00:00Z, a leap year's. */
const LEAP: HostClock = { now: 1835524800, offsetMinutes: 0 };

describe('a log line\'s own time', () => {
  const cases: [string, string, HostClock | undefined, number | undefined, number?][] = [
    ['traditional: the host\'s local time, this year', 'Dec  8 04:16:30', UTC, 1796703390],
    ['traditional: read with the host\'s offset', 'Dec  8 05:16:30', CET, 1796703390],
    ['traditional: a day of two digits', 'Nov 24 12:00:01', UTC, 1795521601],
    ['traditional: later today than the clock by less than a day (a clock set back): still this year', 'Dec  8 23:00:00', UTC, 1796770800],
    ['year wrap: December\'s line read in January is last year\'s', 'Dec 31 23:59:59', NEW_YEAR, 1798761599],
    ['year wrap: January\'s line is this year\'s', 'Jan  1 00:00:10', NEW_YEAR, 1798761610],
    ['Feb 29 in a leap year', 'Feb 29 10:00:00', LEAP, 1835431200],
    ['Feb 29 when neither this year nor the last has one', 'Feb 29 10:00:00', NEW_YEAR, undefined],
    ['traditional without the host\'s clock: unknown', 'Dec  8 04:16:30', undefined, undefined],
    ['a time that is none', 'Dec  8 25:16:30', UTC, undefined],
    ['RFC 3339, UTC', '2026-12-08T04:16:30Z', undefined, 1796703390],
    ['RFC 3339 with microseconds and an offset (rsyslog)', '2026-12-08T05:16:30.250000+01:00', undefined, 1796703390.25, 1e-6],
    ['RFC 3339, a negative offset with minutes', '2026-12-07T22:46:30-05:30', undefined, 1796703390],
    ['an offset without a colon', '2026-12-08T04:16:30+0000', undefined, 1796703390],
    ['RFC 3339: month 13 is none', '2026-13-08T04:16:30Z', undefined, undefined],
    ['RFC 3339 without a zone is none', '2026-12-08T04:16:30', undefined, undefined],
  ];
  for (const [name, stamp, clock, at, within = 1] of cases) {
    it(name, () => assert.deepEqual(syslogTime(stamp, clock), at === undefined ? undefined : { at, within }));
  }
  it('the journal\'s microseconds', () => assert.deepEqual(journalTime('1796703390500000'), { at: 1796703390.5, within: 1e-6 }));
  it('a journal time that is no number', () => assert.equal(journalTime('-1'), undefined));
  it('the host\'s clock from date +%s and +%z', () => {
    assert.deepEqual(hostClock('1796706000', '+0100'), CET);
    assert.deepEqual(hostClock('1796706000', '-0530'), { now: 1796706000, offsetMinutes: -330 });
    assert.equal(hostClock('', '+0000'), undefined);
    assert.equal(hostClock('1796706000', 'CET'), undefined);
  });
  it('a time shown as the host\'s clock shows it', () => {
    assert.equal(showTime(1796703390.9, UTC), '2026-12-08T04:16:30+00:00');
    assert.equal(showTime(1796703390, CET), '2026-12-08T05:16:30+01:00');
    assert.equal(showTime(1796703390, { now: 0, offsetMinutes: -330 }), '2026-12-07T22:46:30-05:30');
  });
});

describe('when sshd last loaded its configuration', () => {
  const cases: [string, string | undefined, string | undefined, Reference | undefined][] = [
    ['its start, by the kernel', '1796703000.25', undefined, { what: 'sshd started', at: 1796703000.25, from: 1796703000.25 }],
    ['its pidfile written as it started', '1796703000.25', '1796703001', { what: 'sshd started', at: 1796703000.25, from: 1796703000.25 }],
    ['a reload: its pidfile written later, less what it logged while loading', '1796703000.25', '1796703300', { what: 'sshd reloaded', at: 1796703300, from: 1796703290 }],
    ['no listener: unknown', undefined, '1796703300', undefined],
    ['a start that is no number', '17967x', undefined, undefined],
  ];
  for (const [name, started, written, want] of cases) it(name, () => assert.deepEqual(sshdStart(started, written), want));
});

describe('the paths refusals name', () => {
  it('the rest of the message, trailing blanks left out', () => {
    assert.equal(refusedPath('Authentication refused: bad ownership or modes for directory /home/a b \r'), '/home/a b');
    assert.equal(refusedPath('Authentication refused: bad ownership or modes for file relative/x'), undefined);
  });
  it('changed records: ctime (to the nanosecond or the second), octal mode, path', () => {
    assert.deepEqual([...pathStates(['1796703400.123456789 700 /home/deploy/.ssh', '1796703400 /x', 'x 700 /y', '1 7777 /home/a b'])], [
      ['/home/deploy/.ssh', { changed: 1796703400.123456789, mode: 0o700 }],
      ['/home/a b', { changed: 1, mode: 0o7777 }],
    ]);
  });

  const work = mkdtempSync('/tmp/fleetfix-log-paths-');
  after(() => rmSync(work, { recursive: true, force: true }));
  const refusal = (path: string) => `Dec  8 04:16:30 h1 sshd[1]: Authentication refused: bad ownership or modes for directory ${path}`;
  const onHost = (lines: string[]) => {
    const r = spawnSync('sh', ['-c', refusedPathsChanged(2000)], { input: `${lines.join('\n')}\n`, encoding: 'utf8', cwd: work });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  it('the host stats the paths, latest first, each once, without following a link', () => {
    const dir = join(work, 'a dir');
    mkdirSync(dir, { mode: 0o700 });
    spawnSync('ln', ['-s', '/', join(work, 'link')]);
    const ctime = (p: string) => spawnSync('stat', ['-c', '%.9Z', p], { encoding: 'utf8' }).stdout.trim();
    assert.match(ctime(dir), /^\d+\.\d{9}$/);
    assert.equal(onHost([refusal(dir), `${refusal(join(work, 'link'))}\r`, refusal(dir), refusal('/no/such/path'), 'Authentication refused: bad ownership or modes for file not/absolute']), `changed=${ctime(dir)} 700 ${dir}\nchanged=${ctime(join(work, 'link'))} 777 ${join(work, 'link')}\n`);
  });
  it(`at most ${MAX_PATHS} paths: forged lines naming more leave the earlier ones unknown, never a later one`, () => {
    for (let i = 0; i <= MAX_PATHS; i++) mkdirSync(join(work, `d${i}`));
    const out = onHost(Array.from({ length: MAX_PATHS + 1 }, (_, i) => refusal(join(work, `d${i}`))));
    assert.deepEqual(out.trim().split('\n').map((l) => l.split(' ')[2]), Array.from({ length: MAX_PATHS }, (_, i) => join(work, `d${MAX_PATHS - i}`)));
  });
  it('a path is an argument to stat, never shell text', () => {
    const evil = `${work}/$(touch ${work}/pwned)\`touch ${work}/pwned\`'";touch ${work}/pwned`;
    assert.equal(onHost([refusal(evil), refusal(`-c${work}`)]), '');
    assert.equal(spawnSync('test', ['-e', join(work, 'pwned')]).status, 1);
  });
});

describe('which lines are findings', () => {
  const SSH_DIR = '/home/deploy/.ssh';
  const refused = (time: string, tag = 'sshd[812]') => `${time} h1 ${tag}: Authentication refused: bad ownership or modes for directory ${SSH_DIR}`;
  const STARTED: Reference = { what: 'sshd started', at: 1796703000, from: 1796703000 };
  /** ~deploy/.ssh as fleetfix left it at 04:16:40 (mode 0700), or as still open to others. */
  const FIXED = new Map([[SSH_DIR, { changed: 1796703400, mode: 0o700 }]]);
  const OPEN = new Map([[SSH_DIR, { changed: 1796703400, mode: 0o777 }]]);
  /** Name, lines, sshd's start, the paths' states; each finding's time and what it is judged against, and the history. */
  const cases: [string, string[], Reference | undefined, typeof FIXED, [number | '-', string?][], [string, number][]][] = [
    ['a refusal before the path changed is history', [refused('Dec  8 04:16:30')], STARTED, FIXED, [], [[`${SSH_DIR} last changed`, 1]]],
    ['a refusal after the path changed is a finding', [refused('Dec  8 04:16:50')], STARTED, FIXED, [[1796703410, `${SSH_DIR} last changed`]], []],
    ['a refusal in the second the path changed is a finding (which came first is unknown)', [refused('Dec  8 04:16:40')], STARTED, FIXED, [[1796703400, `${SSH_DIR} last changed`]], []],
    ['RFC 3339: a refusal a microsecond before the change is history', [refused('2026-12-08T04:16:39.999998+00:00')], STARTED, FIXED, [], [[`${SSH_DIR} last changed`, 1]]],
    ['a whole-second time in the second of a change to the nanosecond: which came first is unknown, a finding', [refused('Dec  8 04:16:40')], STARTED, new Map([[SSH_DIR, { changed: 1796703400.5, mode: 0o700 }]]), [[1796703400, `${SSH_DIR} last changed`]], []],
    ['to the nanosecond: a refusal in the second of the change, before it, is history', [refused('2026-12-08T04:16:40.200000+00:00')], STARTED, new Map([[SSH_DIR, { changed: 1796703400.5, mode: 0o700 }]]), [], [[`${SSH_DIR} last changed`, 1]]],
    ['a path still writable by others: its change fixed nothing', [refused('Dec  8 04:16:30')], STARTED, OPEN, [[1796703390, 'sshd started']], []],
    ['a path the host did not stat: judged by sshd\'s start', [refused('Dec  8 04:16:30')], STARTED, new Map(), [[1796703390, 'sshd started']], []],
    ['a refusal before sshd started is history', [refused('Dec  8 04:09:59')], STARTED, new Map(), [], [['sshd started', 1]]],
    ['what sshd decides at start: before it, history; after it, a finding', ['Dec  8 04:09:00 h1 sshd[7]: error: Bind to port 2222 on 0.0.0.0 failed: Address already in use.', 'Dec  8 04:10:00 h1 sshd[8]: error: Could not load host key: /etc/ssh/ssh_host_rsa_key'], STARTED, new Map(), [[1796703000, 'sshd started']], [['sshd started', 1]]],
    ['a reload: what it logged while loading counts', ['Dec  8 04:14:55 h1 sshd[8]: error: Could not load host key: /etc/ssh/ssh_host_rsa_key'], sshdStart('1796703000', '1796703300'), new Map(), [[1796703295, 'sshd reloaded']], []],
    ['no listener known: every timed line counts', [refused('Dec  8 04:09:59'), 'Nov  1 00:00:00 h1 sshd[7]: fatal: Cannot bind any address.'], undefined, new Map(), [[1796702999], [1793491200]], []],
    ['untimed (sshd -E): a finding, its time unknown', [`Authentication refused: bad ownership or modes for directory ${SSH_DIR}`], STARTED, FIXED, [['-', `${SSH_DIR} last changed`]], []],
    ['a forged line with an old time drops only itself', [refused('Dec  8 04:16:30', 'sshd[4242]'), refused('Dec  8 04:16:50'), 'Dec  8 03:00:00 h1 sshd[51]: Server listening on 0.0.0.0 port 22.'], STARTED, FIXED, [[1796703410, `${SSH_DIR} last changed`]], [[`${SSH_DIR} last changed`, 1]]],
    ['a forged line with a new time adds only itself', [refused('Dec  8 04:16:50'), 'Dec  8 04:59:00 h1 sshd[51]: Server listening on 0.0.0.0 port 22.', 'Dec  8 04:59:01 h1 sshd[4242]: fatal: Cannot bind any address.'], STARTED, FIXED, [[1796703410, `${SSH_DIR} last changed`], [1796705941, 'sshd started']], []],
    ['a line repeated: one finding', [refused('2026-12-08T04:16:50Z'), refused('2026-12-08T04:16:50Z'), 'error: Could not load host key: /k', refused('2026-12-08T04:16:50Z')], STARTED, FIXED, [[1796703410, `${SSH_DIR} last changed`], ['-', 'sshd started']], []],
  ];
  for (const [name, lines, sshd, paths, findings, history] of cases) {
    it(name, () => {
      const got = judge(scanLogFile(lines, UTC), sshd, paths);
      assert.deepEqual(got.findings.map((f) => [f.event.time?.at ?? '-', ...(f.after ? [f.after.what] : [])]), findings);
      assert.deepEqual(got.history.map((h) => [h.before.what, h.count]), history);
    });
  }
  it('the journal: the same by its own times; a record repeated counts once, at its latest', () => {
    const record = (micros: string) => JSON.stringify({ __REALTIME_TIMESTAMP: micros, _COMM: 'sshd', MESSAGE: `Authentication refused: bad ownership or modes for directory ${SSH_DIR}` });
    const got = judge(scanJournal([record('1796703390000000'), record('1796703405000000'), record('1796703410000000')]), STARTED, FIXED);
    assert.deepEqual(got.findings.map((f) => f.event.time?.at), [1796703410]);
    assert.deepEqual(got.history, [{ before: { what: `${SSH_DIR} last changed`, at: 1796703400, from: 1796703400 }, count: 1, refusals: true }]);
  });
});
