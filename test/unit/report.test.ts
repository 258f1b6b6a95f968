// The result model: host status from checks, summary counts and exit codes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodeFor, hostStatusFromChecks, summarize, type CheckResult, type CheckStatus, type Command, type HostResult, type HostStatus } from '../../src/report/model.js';

const check = (status: CheckStatus, changes = 0): CheckResult => ({ id: status, title: status, kind: 'check', status, message: '', changes: Array.from({ length: changes }, () => ({ summary: 'x' })) });

const statusCases: [Command, CheckStatus[], HostStatus][] = [
  ['audit', ['pass', 'pass'], 'compliant'],
  ['audit', ['pass', 'fail'], 'drift'],
  ['plan', ['fail', 'error'], 'failed'],
  ['plan', ['skipped', 'pass'], 'compliant'],
  ['apply', ['pass', 'fixed'], 'fixed'],
  ['apply', ['fixed', 'fail'], 'fixed'],
  ['apply', ['fixed', 'error'], 'failed'],
  ['apply', ['pass', 'skipped'], 'compliant'],
];

describe('hostStatusFromChecks', () => {
  for (const [command, statuses, want] of statusCases) it(`${command} ${statuses.join('+')} -> ${want}`, () => assert.equal(hostStatusFromChecks(command, statuses.map((s) => check(s))), want));
});

describe('summary and exit codes', () => {
  const host = (status: HostStatus, checks: CheckResult[] = []): HostResult => ({ name: status, address: 'a', status, durationMs: 0, checks });
  const hosts = () => [host('drift', [check('fail', 2), check('pass')]), host('fixed', [check('fixed', 3), check('error', 5)]), host('failed', [check('fail', 1), check('error')])];
  it('counts, before apply, the changes pending on failing checks', () => {
    assert.deepEqual(summarize('plan', hosts()), { hosts: 3, compliant: 0, drift: 1, fixed: 1, unreachable: 0, failed: 1, changes: 3, findings: 0 });
  });
  it('counts, on apply, only the changes made (on fixed checks), not those a failed host never made', () => {
    assert.deepEqual(summarize('apply', hosts()), { hosts: 3, compliant: 0, drift: 1, fixed: 1, unreachable: 0, failed: 1, changes: 3, findings: 0 });
    assert.equal(summarize('apply', [host('failed', [check('fail', 1), check('error')])]).changes, 0, 'nothing was made');
  });
  it('counts findings on checks of any status, and a check with findings leaves a host compliant', () => {
    const seen = { ...check('finding'), findings: ['a log line', 'a nologin shell'] };
    const failing = { ...check('fail', 1), findings: ['another'] };
    assert.equal(summarize('audit', [host('compliant', [seen]), host('drift', [failing])]).findings, 3);
    assert.equal(hostStatusFromChecks('audit', [seen, check('pass')]), 'compliant');
  });
  const exits: [HostStatus[], number][] = [
    [['compliant', 'fixed'], 0],
    [['compliant', 'drift'], 2],
    [['drift', 'unreachable'], 3],
    [['failed'], 3],
  ];
  for (const [statuses, code] of exits) it(`${statuses.join('+')} -> exit ${code}`, () => assert.equal(exitCodeFor(summarize('apply', statuses.map((s) => host(s)))), code));
});
