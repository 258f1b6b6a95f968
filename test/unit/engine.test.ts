// The engine's phases on a scripted fake host (test/fake/sim-host.ts): plan, apply under the lease and the safety net,
// a lease another run holds, and a net that fired before the confirmation.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { PlainProgress } from '../../src/cli/progress.js';
import { DEFAULT_PLAYBOOK } from '../../src/cli/run-command.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import { prepareJobs } from '../../src/engine/prepare.js';
import { FleetRun, type Unsettled } from '../../src/engine/run.js';
import { modules } from '../../src/modules/registry.js';
import type { Command, HostResult } from '../../src/report/model.js';
import { loadRecorded, SimHost, simJobs, simSpecs, type SimOptions, type SimState } from '../fake/sim-host.js';

const recorded = loadRecorded();
const quiet = new Writable({ write: (_c, _e, done) => done() });

/** Ctrl-C, the moment a host holds the batch its `holdOn` picks: then it answers that batch, unless `silent` (it stops answering). */
interface CtrlC {
  silent?: boolean;
  /** How long the run waits for the hosts to settle (the engine's SETTLE_MS otherwise). */
  settleMs?: number;
}

/** Runs `command` over one simulated host per entry of `states`; returns each host's result, the fake itself, and the run. */
async function runOn(command: Command, states: SimState[], extra: Partial<SimOptions> = {}, ctrlC?: CtrlC, forks = 4): Promise<{ results: HostResult[]; sims: SimHost[]; run: FleetRun; unsettled?: Unsettled }> {
  const { jobs, gathers } = simJobs(prepareJobs(simSpecs(states.length), [loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()])], recorded.vars));
  const sims = states.map((state) => new SimHost({ state, recorded, gathers, ...extra }));
  const run = new FleetRun({ command, forks, hostTimeoutMs: 60_000, settleMs: ctrlC?.settleMs, progress: new PlainProgress(quiet), connect: async (host) => ({ transport: sims[Number(host.name.slice(3))]!, attempts: [] }) });
  let unsettled: Unsettled | undefined;
  if (ctrlC) {
    void Promise.race(sims.map((sim) => sim.held.then(() => sim))).then((sim) => {
      run.interrupt();
      unsettled = run.unsettled();
      if (!ctrlC.silent) sim.resume();
    });
  }
  let results = await run.plan(jobs);
  if (command === 'apply') results = await run.apply();
  await run.close();
  return { results, sims, run, unsettled };
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

  it('Ctrl-C while planning an apply: the round trip in flight ends, nothing is sent after it, and the lease is given back', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { holdOn: (kinds) => kinds.includes('other') && !kinds.includes('arm') }, {});
    const [host] = results as [HostResult];
    const [sim] = sims as [SimHost];
    assert.equal(host.status, 'failed');
    assert.equal(host.error, 'interrupted');
    assert.ok(!sim.received.includes('arm') && !sim.received.includes('guarded'), `no fix sent: ${sim.received.join(' ')}`);
    assert.equal(folded(sim).at(-1), 'release');
    assert.equal(sim.lease, undefined, 'the lease is given back');
    for (const c of fixes(host)) assert.equal(c.status, 'fail', `${c.id}: ${c.message}`);
  });

  it('Ctrl-C while the fixes are in flight: once they are made, the net is fired at once and the lease given back; each fix under it says undone, the others kept', async () => {
    const { results, sims, unsettled } = await runOn('apply', ['broken'], { holdOn: (kinds) => kinds.includes('arm') }, {});
    const [host] = results as [HostResult];
    const [sim] = sims as [SimHost];
    assert.deepEqual(unsettled, { netArmed: ['sim0'], leased: [] }, 'what a second Ctrl-C would have left');
    // The round trip of the fixes answered, nothing more was started: no handler, no verification.
    assert.deepEqual(folded(sim).slice(-7), ['renew', 'arm', 'guarded', 'other', 'gather', 'fire', 'release'], sim.received.join(' '));
    assert.equal(sim.state, 'broken', 'the changes under the net were undone');
    assert.equal(sim.net, undefined, 'no net is left');
    assert.equal(sim.lease, undefined, 'the lease is given back');
    assert.equal(host.status, 'failed');
    assert.match(host.error ?? '', /^interrupted \(Ctrl-C\) before a fresh login verified the host: its safety net was fired at once: 2 changes undone, sshd restarted; \d+ fix(es)? with no undo kept; the lease was given back$/);
    const made = fixes(host);
    const guarded = made.filter((c) => c.id === 'sshd-config' || c.id === 'firewall');
    assert.equal(guarded.length, 2);
    for (const c of guarded) assert.deepEqual([c.status, c.message.split(':')[0]], ['fail', 'undone'], c.id);
    const others = made.filter((c) => !guarded.includes(c));
    assert.ok(others.length > 0);
    for (const c of others) assert.deepEqual([c.status, c.message.split(':')[0]], ['fixed', 'kept (not verified)'], c.id);
  });

  it('Ctrl-C while the handlers run: the net is fired at once when they are done', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { holdOn: (kinds, before) => before.includes('arm') && kinds.every((k) => k === 'other') }, {});
    assert.deepEqual(folded(sims[0]!).slice(-2), ['fire', 'release']);
    assert.equal(sims[0]!.state, 'broken');
    assert.match(results[0]!.error ?? '', /its safety net was fired at once: 2 changes undone/);
  });

  it('Ctrl-C while the host is being verified: the verification ends, the host is confirmed, and each fix says kept (verified)', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { holdOn: (kinds, before) => before.includes('arm') && kinds.every((k) => k === 'gather') }, {});
    const [host] = results as [HostResult];
    const [sim] = sims as [SimHost];
    assert.deepEqual(folded(sim).slice(-3), ['gather', 'disarm', 'release']);
    assert.equal(sim.state, 'healthy');
    assert.equal(sim.net, undefined);
    assert.equal(sim.lease, undefined);
    assert.equal(host.status, 'fixed', host.error);
    const made = fixes(host);
    assert.ok(made.length >= 3);
    for (const c of made) assert.deepEqual([c.status, c.message.split(':')[0]], ['fixed', 'kept (verified)'], c.id);
  });

  it('Ctrl-C while the confirmation is in flight: it is not cut short; the host is fixed, each fix kept (verified)', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { holdOn: (kinds) => kinds.includes('disarm') }, {});
    assert.deepEqual([sims[0]!.net, sims[0]!.lease, sims[0]!.closed], [undefined, undefined, true]);
    assert.equal(results[0]!.status, 'fixed', results[0]!.error);
    for (const c of fixes(results[0]!)) assert.match(c.message, /^kept \(verified\): /, c.id);
  });

  it("Ctrl-C, and the net fired on its own before the host was settled: its fixes say undone, and the host's error says so", async () => {
    const { results, sims } = await runOn('apply', ['broken'], { holdOn: (kinds) => kinds.includes('arm'), netFiresBeforeConfirm: true }, {});
    assert.equal(sims[0]!.state, 'broken');
    assert.equal(sims[0]!.lease, undefined);
    assert.match(results[0]!.error ?? '', /the safety net fired before fleetfix confirmed: the changes were undone/);
    for (const c of fixes(results[0]!).filter((x) => x.id === 'sshd-config' || x.id === 'firewall')) assert.match(c.message, /^undone: /, c.id);
  });

  it('Ctrl-C, and the host stops answering: after the settling time it is left to its net and lease, each fix in flight unknown', async () => {
    const { results, sims } = await runOn('apply', ['broken'], { holdOn: (kinds) => kinds.includes('arm') }, { silent: true, settleMs: 50 });
    const [host] = results as [HostResult];
    const [sim] = sims as [SimHost];
    assert.equal(host.status, 'failed');
    assert.match(host.error ?? '', /^interrupted \(Ctrl-C\), and the host did not answer within 0.05 s: it is left to this run's safety net, if armed, and lease/);
    assert.ok(sim.closed, 'its connection is dropped');
    const inFlight = fixes(host);
    assert.ok(inFlight.length >= 2, `several fixes: ${JSON.stringify(inFlight)}`);
    for (const c of inFlight) assert.deepEqual([c.status, c.message.split(':')[0]], ['error', 'unknown'], c.id);
  });

  it('Ctrl-C with hosts still waiting their turn to apply: theirs are not applied, and their leases are given back', async () => {
    // One host at a time: the first holds its fixes in flight when Ctrl-C comes; the second never starts.
    const { results, sims } = await runOn('apply', ['broken', 'broken'], { holdOn: (kinds) => kinds.includes('arm') }, {}, 1);
    const [first, second] = results as [HostResult, HostResult];
    assert.match(first.error ?? '', /its safety net was fired at once/);
    assert.equal(second.error, 'interrupted before it started');
    assert.ok(!sims[1]!.received.includes('arm'), 'nothing was sent to the second host');
    assert.equal(sims[1]!.lease, undefined, "the second host's lease, taken while planning, is given back");
    const waiting = fixes(second);
    assert.ok(waiting.length >= 2);
    for (const c of waiting) assert.deepEqual([c.status, c.message.split(':')[0]], ['fail', 'not applied'], c.id);
  });

  it('an apply that does not come (declined at the prompt): closing the run gives every lease back', async () => {
    const { jobs, gathers } = simJobs(prepareJobs(simSpecs(2), [loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()])], recorded.vars));
    const sims = [0, 1].map(() => new SimHost({ state: 'broken', recorded, gathers }));
    const run = new FleetRun({ command: 'apply', forks: 2, hostTimeoutMs: 60_000, progress: new PlainProgress(quiet), connect: async (host) => ({ transport: sims[Number(host.name.slice(3))]!, attempts: [] }) });
    await run.plan(jobs);
    assert.ok(sims.every((sim) => sim.lease !== undefined), 'each drifted host is held for the apply');
    await run.close();
    for (const sim of sims) assert.deepEqual([sim.lease, sim.closed, folded(sim).at(-1)], [undefined, true, 'release']);
  });
});
