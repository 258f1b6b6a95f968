// fleetfix status's report: what a host answered is read back bounded, whatever it sent, and every format shows its
// net, lease and log with each control character escaped (text, JSON, JUnit, HTML).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_LOG_LINES, MAX_UNDO, parsePending } from '../../src/engine/pending.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJson } from '../../src/report/json.js';
import { renderJunit } from '../../src/report/junit.js';
import { hostStatusFromChecks, runResult, type HostResult } from '../../src/report/model.js';
import { pendingChecks } from '../../src/report/pending.js';
import { renderStatus } from '../../src/report/status-text.js';
import { makeStyle } from '../../src/report/style.js';
import { rawControlBytes } from '../control-bytes.js';

/** What one line of a host's file can hold: ESC, BEL, U+009B (CSI), a tag, but no newline. */
const HOSTILE = 'x\x1b[2Jy\x07\u009b31m<script>alert(1)</script>';

function answer(records: [string, string][]): string {
  return records.map(([k, v]) => `${k}=${v}\n`).join('');
}

function hostOf(stdout: string): HostResult {
  const pending = parsePending(stdout);
  const checks = pendingChecks(pending);
  return { name: 'h1', address: '198.18.1.11', status: hostStatusFromChecks('status', checks), access: 'ssh', durationMs: 5, checks, pending };
}

describe('parsePending', () => {
  it('reads the net, the lease and the log, times on the host clock', () => {
    const p = parsePending(answer([['now', '1800000000'], ['net', '17'], ['net.fires', '1800000090'], ['net.undo', 'sshd_config: b'], ['net.undo', 'sshd_config: a'], ['lease', '17'], ['lease.until', '1800000600'], ['lease.owner', 'gone'], ['log', 'one'], ['log', 'two']]));
    assert.deepEqual(p, {
      now: '2027-01-15T08:00:00.000Z',
      net: { run: '17', firesAt: '2027-01-15T08:01:30.000Z', firing: false, undo: ['sshd_config: b', 'sshd_config: a'] },
      lease: { run: '17', until: '2027-01-15T08:10:00.000Z', owner: 'gone' },
      log: ['one', 'two'],
    });
  });

  it('bounds whatever a host sends: each value, the undos and the log lines; a time or an owner it does not know is unknown', () => {
    const long = 'z'.repeat(10_000);
    const p = parsePending(answer([['now', 'soon'], ['net', long], ['net.fires', '-5'], ...Array.from({ length: 80 }, (_, i): [string, string] => ['net.undo', `u${i}`]), ['lease', 'r'], ['lease.owner', 'maybe'], ...Array.from({ length: 40 }, (_, i): [string, string] => ['log', `l${i}`])]));
    assert.equal(p.now, 'unknown');
    assert.equal(p.net!.run.length, 500);
    assert.equal(p.net!.firesAt, undefined);
    assert.equal(p.net!.undo.length, MAX_UNDO);
    assert.deepEqual(p.lease, { run: 'r', until: undefined, owner: 'unknown' });
    assert.deepEqual(p.log, Array.from({ length: MAX_LOG_LINES }, (_, i) => `l${i + 20}`));
  });
});

describe('the status checks', () => {
  const now = '1800000000';
  const statuses = (records: [string, string][]) => Object.fromEntries(hostOf(answer([['now', now], ...records])).checks.map((c) => [c.id, c.status]));
  it('nothing held: compliant', () => {
    assert.deepEqual(statuses([]), { 'safety-net': 'pass', lease: 'pass', log: 'pass' });
    assert.equal(hostOf(answer([['now', now]])).status, 'compliant');
  });
  it('a net armed, a lease held by a live run: drift', () => {
    assert.deepEqual(statuses([['net', '1'], ['lease', '1'], ['lease.until', '1800000600'], ['lease.owner', 'connected']]), { 'safety-net': 'fail', lease: 'fail', log: 'pass' });
  });
  it("a gone run's lease, its net fired: only a finding (the next run takes the host); with its net armed: held", () => {
    const gone: [string, string][] = [['lease', '1'], ['lease.until', '1800000600'], ['lease.owner', 'gone']];
    assert.equal(statuses(gone).lease, 'finding');
    assert.equal(statuses([...gone, ['net', '1']]).lease, 'fail');
    assert.equal(statuses([['lease', '1'], ['lease.until', '1799999999'], ['lease.owner', 'connected']]).lease, 'finding', 'lapsed');
  });
});

describe('every format escapes what the host sent', () => {
  const host = hostOf(answer([['now', '1800000000'], ['net', HOSTILE], ['net.fires', '1800000090'], ['net.undo', HOSTILE], ['lease', HOSTILE], ['lease.until', '1800000600'], ['lease.owner', 'connected'], ['log', HOSTILE]]));
  const run = runResult('status', [host]);

  it('text', () => {
    const text = renderStatus(run, makeStyle(false), false);
    assert.equal(rawControlBytes(text), 0, text);
    assert.ok(text.includes('x\\x1b[2Jy\\x07\\u009b31m'), text);
    assert.match(text, /undo: x\\x1b/);
    assert.match(text, /^1 host: 1 drift \(something pending\)$/m);
  });

  it('JSON, which parses back to what the host sent', () => {
    const json = renderJson(run);
    assert.equal(rawControlBytes(json), 0);
    const back = JSON.parse(json) as typeof run;
    assert.equal(back.hosts[0]!.pending!.log[0], HOSTILE);
    assert.equal(back.hosts[0]!.pending!.net!.undo[0], HOSTILE);
  });

  it('JUnit and HTML', () => {
    for (const doc of [renderJunit(run), renderHtml(run)]) {
      assert.equal(rawControlBytes(doc), 0);
      assert.ok(!doc.includes('<script>'), 'a tag from the host stays text');
      assert.ok(doc.includes('\\x1b[2Jy'), 'the escape is visible');
    }
    assert.match(renderJunit(run), /<failure message="armed by run [^"]*" type="pending">/);
  });
});
