// The engine's phases on a scripted fake host (test/fake/sim-host.ts): plan, apply under the lease and the safety net,
// a lease another run holds, and a net that fired before the confirmation.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { PlainProgress } from '../../src/cli/progress.js';
import { DEFAULT_PLAYBOOK } from '../../src/cli/run-command.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import { prepareJobs } from '../../src/engine/prepare.js';
import { FleetRun } from '../../src/engine/run.js';
import { modules } from '../../src/modules/registry.js';
import type { Command, HostResult } from '../../src/report/model.js';
import { loadRecorded, SimHost, simJobs, simSpecs, type SimOptions, type SimState } from '../fake/sim-host.js';

const recorded = loadRecorded();
const quiet = new Writable({ write: (_c, _e, done) => done() });

/** Runs `command` over one simulated host per entry of `states`; returns each host's result and the fake itself. */
async function runOn(command: Command, states: SimState[], extra: Partial<SimOptions> = {}, interruptOnceHung = false, forks = 4): Promise<{ results: HostResult[]; sims: SimHost[] }> {
  const { jobs, gathers } = simJobs(prepareJobs(simSpecs(states.length), [loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()])], recorded.vars));
  const sims = states.map((state) => new SimHost({ state, recorded, gathers, ...extra }));
  const run = new FleetRun({ command, forks, hostTimeoutMs: 60_000, progress: new PlainProgress(quiet), connect: async (host) => ({ transport: sims[Number(host.name.slice(3))]!, attempts: [] }) });
  // Ctrl-C, the moment the host holds the batch it will not answer.
  if (interruptOnceHung) void Promise.race(sims.map((s) => s.hung)).then(() => run.interrupt());
  let results = await run.plan(jobs);
  if (command === 'apply') results = await run.apply();
  await run.close();
  return { results, sims };
}

/** The checks of a result with a fix, by status and message. */
const fixes = (r: HostResult) => r.checks.filter((c) => c.kind === 'check' && c.changes.length > 0).map((c) => ({ id: c.id, status: c.status, message: c.message }));

/** The kinds of script a fake host received, each run of one kind (gathers, guarded changes, others) folded into one entry. */
const folded = (sim: SimHost) => sim.received.filter((k, i, all) => k !== all[i - 1]);

describe('engine on a simulated host', () => {
  it('plan: a broken host has drift with changes, a healthy one is compliant; no lease is taken and nothing applied', async () => {
    const { results, sims } = await runOn('plan', ['broken', 'healthy']);
    assert.deepEqual(results.map((r) => r.status), ['drift', 'compliant']);
    assert.ok(results[0]!.checks.some((c) => c.status === 'fail' && c.changes.length > 0), 'a failing check with its fix');
    for (const sim of sims) {
      assert.ok(!sim.received.some((k) => k !== 'gather' && k !== 'other'), `no lease or net script: ${sim.received.join(' ')}`);
      assert.ok(sim.closed, 'the connection is closed');
    }
    assert.equal(sims[0]!.state, 'broken');
  });

  it('apply: the lease goes with the facts, the net is armed before the guarded changes, both end with the confirmation', async () => {
    const { results, sims } = await runOn('apply', ['broken', 'healthy']);
    assert.deepEqual(results.map((r) => r.status), ['fixed', 'compliant']);
    const [broken, healthy] = sims as [SimHost, SimHost];
    assert.deepEqual(folded(broken), ['acquire', 'gather', 'other', 'gather', 'renew', 'arm', 'guarded', 'other', 'gather', 'other', 'gather', 'disarm', 'release']);
    assert.equal(broken.state, 'healthy');
    assert.equal(broken.lease, undefined, 'the lease is given back');
    assert.equal(broken.net, undefined, 'no net is left');
    // A compliant host: the lease is taken with the facts and given back at once.
    assert.deepEqual(folded(healthy), ['acquire', 'gather', 'release']);
    assert.equal(healthy.lease, undefined);
  });

  it("apply: another run's lease on the host: failed as busy, nothing applied, its lease left alone", async () => {
    const { results, sims } = await runOn('apply', ['broken'], { leaseHeldBy: '1' });
    assert.equal(results[0]!.status, 'failed');
    assert.match(results[0]!.error ?? '', /busy: another fleetfix run \(1\)/);
    assert.deepEqual(folded(sims[0]!), ['acquire', 'gather']);
    assert.equal(sims[0]!.state, 'broken');
    assert.equal(sims[0]!.lease, '1');
  });

  it('apply: a net that fired before the confirmation fails the host, says the changes were undone, gives the lease back', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { netFiresBeforeConfirm: true });
    assert.equal(results[0]!.status, 'failed');
    assert.match(results[0]!.error ?? '', /the safety net fired before fleetfix confirmed: the changes were undone/);
    for (const c of fixes(results[0]!).filter((x) => x.id === 'sshd-config' || x.id === 'firewall')) assert.match(c.message, /^not confirmed: /, c.id);
    assert.equal(sims[0]!.state, 'broken', 'the changes were undone');
    assert.equal(sims[0]!.lease, undefined);
    assert.equal(sims[0]!.net, undefined);
  });

  it('Ctrl-C while the fixes are in flight: each of their checks is unknown (the host may have changed), none "not applied"', async () => {
    const { results } = await runOn('apply', ['broken'], { hangOn: (kinds) => kinds.includes('arm') }, true);
    const [host] = results as [HostResult];
    assert.equal(host.status, 'failed');
    assert.equal(host.error, 'interrupted');
    const inFlight = fixes(host);
    assert.ok(inFlight.length >= 2, `several fixes: ${JSON.stringify(inFlight)}`);
    for (const c of inFlight) {
      assert.equal(c.status, 'error', c.id);
      assert.match(c.message, /^unknown: the run ended while this fix was in flight/, c.id);
    }
  });

  it('Ctrl-C after the fixes were made (while verifying): the net stays armed, so a fix under it is reported not confirmed, the others fixed', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { hangOn: (kinds, before) => before.includes('arm') && kinds.every((k) => k === 'gather') }, true);
    const [host] = results as [HostResult];
    const [sim] = sims as [SimHost];
    assert.equal(host.status, 'failed');
    assert.equal(host.error, 'interrupted');
    assert.equal(sim.state, 'healthy', 'the fixes ran on the host');
    assert.ok(sim.net, 'nothing proved the host reachable: the net is left armed, to undo what it guards');
    assert.equal(sim.lease, undefined, 'the lease is given back');
    const made = fixes(host);
    const guarded = made.filter((c) => c.id === 'sshd-config' || c.id === 'firewall');
    assert.equal(guarded.length, 2, JSON.stringify(made));
    for (const c of guarded) assert.match(c.message, /^not confirmed: made \(/, c.id);
    for (const c of guarded) assert.equal(c.status, 'error', c.id);
    for (const c of made.filter((x) => !guarded.includes(x))) assert.equal(c.status, 'fixed', `${c.id}: ${c.message}`);
    assert.ok(made.length > guarded.length, 'a fix the net does not guard (a mode) stands');
  });

  it('Ctrl-C while planning an apply: nothing was sent, and each fix is reported as planned, not applied', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { hangOn: (kinds) => kinds.includes('other') && !kinds.includes('arm') }, true);
    const [host] = results as [HostResult];
    assert.equal(host.status, 'failed');
    assert.ok(!sims[0]!.received.includes('arm') && !sims[0]!.received.includes('guarded'), `no fix sent: ${sims[0]!.received.join(' ')}`);
    for (const c of fixes(host)) assert.equal(c.status, 'fail', `${c.id}: ${c.message}`);
  });

  it('Ctrl-C with hosts still waiting their turn to apply: their fixes are reported not applied', async () => {
    // One host at a time: the first holds its fixes in flight when Ctrl-C comes; the second never starts.
    const { results, sims } = await runOn('apply', ['broken', 'broken'], { hangOn: (kinds) => kinds.includes('arm') }, true, 1);
    const [first, second] = results as [HostResult, HostResult];
    for (const c of fixes(first)) assert.match(c.message, /^unknown: /, c.id);
    assert.equal(second.error, 'interrupted before it started');
    assert.ok(!sims[1]!.received.includes('arm'), 'nothing was sent to the second host');
    const waiting = fixes(second);
    assert.ok(waiting.length >= 2);
    for (const c of waiting) {
      assert.equal(c.status, 'fail', c.id);
      assert.match(c.message, /^not applied: /, c.id);
    }
  });
});
