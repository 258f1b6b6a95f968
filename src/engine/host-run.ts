// One host's run: connect, gather every check in one round trip, plan; on apply, fix, run handlers, re-check, verify.
import { redact } from '../config/secrets.js';
import type { Change, CheckPlan } from '../modules/types.js';
import { hostStatusFromChecks, type CheckResult, type HostResult } from '../report/model.js';
import { TransportError, type ExecResult, type Transport } from '../transport/types.js';
import { randomBytes } from 'node:crypto';
import { execBatch } from './batch.js';
import { runProbes } from './probes.js';
import { acquireScript, releaseScript, renewScript } from './host-lock.js';
import { armScript, disarmScript, guardedChange } from './safety-net.js';
import { connectSsh, Unreachable, type AccessAttempt, type ConnectFn } from './connect.js';
import { asDiagnosis } from '../diagnose/causes.js';
import type { ProgressSink } from './events.js';
import type { HostJob, PreparedStep } from './prepare.js';

export interface PlannedStep {
  prepared: PreparedStep;
  plan: CheckPlan;
}

/** A host between plan and apply: its connection stays open across the confirmation prompt. */
export interface HostSession {
  job: HostJob;
  /** Aborted when the host runs out of time or the run is interrupted: cancels a connect in flight. */
  abort: AbortController;
  transport?: Transport;
  checks: PlannedStep[];
  result: HostResult;
  /** apply's lease on the host (see host-lock.ts): taken with the facts, given back after the confirmation. */
  lease?: Lease;
  /** The handlers the planned fixes may notify, planned from the facts read while planning: the safety net's restart. */
  handlerPlans?: PlannedStep[];
  /** Set when the run gave up on the host (timeout, interrupt): reported instead of `result`, which work still unwinding may write to. */
  verdict?: HostResult;
  startedAt: number;
}

/** One run's hold on a host: its id, how long each taking or renewal lasts, how long to wait for another run's. */
export interface Lease {
  runId: string;
  seconds: number;
  waitS: number;
}

/** A host's run refused because another run holds its lease. */
class HostBusy extends Error {}

export function newSession(job: HostJob, lease?: Lease): HostSession {
  // Keys in the contract's order; undefined ones are left out of the JSON.
  return { job, lease, abort: new AbortController(), checks: [], startedAt: Date.now(), result: { name: job.host.name, address: job.host.address, status: 'compliant', access: undefined, diagnosis: undefined, attempts: undefined, error: undefined, durationMs: 0, checks: [] } };
}

/** Plan semantics for every command: compliant, drift, unreachable or failed. */
export async function planHost(session: HostSession, progress: ProgressSink, connect: ConnectFn): Promise<HostSession> {
  const { job, result } = session;
  const { host } = job;
  progress.phase(host.name, 'connecting');
  try {
    const { transport, attempts, diagnosis } = await connect(host, session.abort.signal);
    session.transport = transport;
    result.access = transport.access;
    if (attempts.length) result.attempts = reportAttempts(attempts);
    if (diagnosis) result.diagnosis = asDiagnosis(await diagnosis);
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    result.status = 'unreachable';
    result.error = redact(err.message);
    result.attempts = reportAttempts(err.attempts);
    // A connect cancelled by --timeout or Ctrl-C says nothing about the host.
    if (err.diagnosis && !session.abort.signal.aborted) result.diagnosis = asDiagnosis(await err.diagnosis);
    return finish(session);
  }
  progress.phase(host.name, 'checking');
  try {
    // Connected over the primary path, the engine's own login answers a probe that would make the same login again.
    const primary = host.transport === 'ssh' && session.transport!.access === host.ssh.label ? Promise.resolve(undefined) : undefined;
    session.checks = await gatherAndPlan(session.transport!, job.checks, session.lease && acquireScript(session.lease.runId, session.lease.seconds, session.lease.waitS), runProbes(job.checks, host, session.abort.signal, primary));
    const handlers = await preflightAndHandlers(session);
    result.checks = [...session.checks.map(planResult), ...handlers];
  } catch (err) {
    if (!(err instanceof HostBusy)) return fail(session, err);
    session.lease = undefined;
    Object.assign(result, { status: 'failed', error: err.message });
    return finish(session);
  }
  result.status = hostStatusFromChecks('plan', result.checks);
  return finish(session);
}

function reportAttempts(attempts: AccessAttempt[]): HostResult['attempts'] {
  return attempts.map((a) => ({ access: a.access, error: redact(a.error.message) }));
}

/** How long the on-host safety net waits for the confirmation before it undoes the changes, by default (--confirm-timeout). */
export const CONFIRM_TIMEOUT_S = 120;

export async function applyHost(session: HostSession, progress: ProgressSink, confirmTimeoutS = CONFIRM_TIMEOUT_S): Promise<HostSession> {
  const { result, transport, job } = session;
  if (!transport || result.status !== 'drift') {
    if (result.status === 'drift') result.status = 'failed';
    return finish(session);
  }
  progress.phase(job.host.name, 'applying');
  try {
    const results = new Map(result.checks.map((c) => [c.id, c]));
    const toFix = session.checks.filter(hasChanges);
    const scripts = toFix.flatMap((c) => c.plan.changes.map((change) => ({ check: c, change })));
    // The facts of the handlers these fixes may notify come back in the same round trip, read after the fixes.
    const mayNotify = notifiedHandlers(session, hasChanges);
    const handlerGathers = gathersOf(mayNotify);
    // Changes that can cut access carry an undo: they go under the on-host safety net, armed in the same round trip,
    // which undoes them and restarts sshd (the handlers they may notify) unless the confirmation below comes in time.
    const runId = scripts.some((s) => s.change.rollback) ? randomBytes(6).toString('hex') : undefined;
    const restart = (session.handlerPlans ?? []).filter((p) => mayNotify.includes(p.prepared)).flatMap((p) => p.plan.changes.map((c) => c.script));
    // First, the lease is renewed (it may have been taken long ago, before a prompt) and the net armed.
    const gate = [...(session.lease ? [renewScript(session.lease.runId, session.lease.seconds)] : []), ...(runId ? [armScript(runId, confirmTimeoutS, restart)] : [])];
    const sent = scripts.map((s, i) => (runId && s.change.rollback ? guardedChange(s.change.script, s.change.rollback, s.change.summary, i) : s.change.script));
    const answers = await execBatch(transport, [...gate, ...sent, ...handlerGathers], { stopOnError: true });
    const refused = answers.slice(0, gate.length).find((a) => a.code !== 0) ?? (answers.length < gate.length ? { code: -1, stdout: '', stderr: '' } : undefined);
    if (refused) {
      notApplied(session, refused);
      await confirm(session, undefined);
      return finish(session);
    }
    const ran = answers.slice(gate.length);
    const applied = scripts.filter((_, i) => ran[i]?.code === 0).map((s) => ({ checkId: s.check.prepared.step.id, change: s.change }));
    let failed = false;
    scripts.forEach((s, i) => {
      const check = results.get(s.check.prepared.step.id)!;
      const outcome = ran[i];
      if (check.status === 'error' || check.status === 'skipped') return;
      if (!outcome) {
        check.status = 'skipped';
        check.message = 'not applied: an earlier fix failed';
      } else if (outcome.code !== 0) {
        failed = true;
        check.status = 'error';
        check.message = `fix failed (exit ${outcome.code}): ${firstLines(outcome.stderr || outcome.stdout) || 'no output'}`;
      } else {
        check.status = 'fixed';
        check.message = check.changes.map((c) => c.summary).join('; ');
      }
    });
    if (!failed) expectAnswers(ran, scripts.length + handlerGathers.length);
    const handlers = await runHandlers(session, failed, progress, failed ? [] : planWith(mayNotify, ran.slice(scripts.length)));
    progress.phase(job.host.name, 'verifying');
    // The re-check and a fresh login go side by side; a probe the re-check would make as that same login takes its outcome.
    const verify = applied.length > 0 && job.host.transport === 'ssh';
    const login = verify ? loginFails(session) : undefined;
    const [, loginFailure] = await Promise.all([recheck(session, login), login]);
    if (verify && loginFailure) await closeTheLoop(session, applied, handlers, loginFailure);
    await confirm(session, runId);
  } catch (err) {
    return fail(session, err);
  }
  result.status = result.error ? 'failed' : hostStatusFromChecks('apply', result.checks);
  return finish(session);
}

/** The lease could not be renewed or the safety net armed (another run's is on the host): nothing was applied. */
function notApplied(session: HostSession, answer: ExecResult): void {
  const why = firstLines(answer.stderr || answer.stdout || 'no answer') || `exit ${answer.code}`;
  session.result.error = `nothing applied: ${why}`;
  for (const c of session.result.checks) if (c.status === 'fail' && c.changes.length) Object.assign(c, { status: 'error', message: `not applied: ${why}` });
  session.result.status = 'failed';
}

/**
 * Confirm, in one round trip: disarm the safety net (`netRunId`) and give the lease back. If the net fired first,
 * the changes were undone, and the host is failed with that.
 */
async function confirm(session: HostSession, netRunId: string | undefined): Promise<void> {
  const scripts = [...(netRunId ? [disarmScript(netRunId)] : []), ...(session.lease ? [releaseScript(session.lease.runId)] : [])];
  session.lease = undefined;
  if (scripts.length === 0) return;
  const [answer] = await execBatch(session.transport!, scripts, { stopOnError: false });
  if (!netRunId || answer?.code === 0) return;
  const why = firstLines(answer?.stderr || answer?.stdout || 'no answer') || `exit ${answer?.code}`;
  session.result.error = session.result.error ? `${session.result.error}; ${why}` : why;
}

/** Give the lease back where nothing will be applied (the host is compliant, or failed while planning). */
export async function releaseLease(session: HostSession): Promise<void> {
  if (session.lease && session.transport) await confirm(session, undefined).catch(() => {});
}

/** Gather every step's facts in one round trip and plan; `first` (taking the lease) goes ahead and must succeed. */
async function gatherAndPlan(transport: Transport, steps: PreparedStep[], first?: string, probed?: Promise<Map<PreparedStep, ExecResult>>): Promise<PlannedStep[]> {
  const sent = [...(first ? [first] : []), ...gathersOf(steps)];
  const answers = expectAnswers(await execBatch(transport, sent, { stopOnError: false }), sent.length);
  if (first && answers[0]!.code !== 0) throw new HostBusy(firstLines(answers[0]!.stderr) || `taking the lease failed (exit ${answers[0]!.code})`);
  return planWith(steps, answers.slice(first ? 1 : 0), await probed);
}

/** The gather scripts of the steps not skipped, in order: planWith takes their facts back. */
function gathersOf(steps: PreparedStep[]): string[] {
  return steps.filter((s) => !s.skip && !s.module.probe).map((s) => s.module.gather(s.params));
}

/** A batch's results, when every script it sent answered; a batch cut short is a transport failure. */
function expectAnswers(results: ExecResult[], sent: number): ExecResult[] {
  if (results.length !== sent) throw new TransportError('protocol', `the host answered ${results.length} of ${sent} scripts`);
  return results;
}

/** Plan each step from its facts, given in order for the steps not skipped. */
function planWith(steps: PreparedStep[], facts: ExecResult[], probed?: Map<PreparedStep, ExecResult>): PlannedStep[] {
  let next = 0;
  return steps.map((prepared) => ({ prepared, plan: prepared.skip ? { ok: true, message: prepared.skip, changes: [] } : safePlan(prepared, probed?.get(prepared) ?? facts[next++]!) }));
}

/**
 * One more round trip, where there are changes: ask the host whether it would accept each of them (e.g. sshd -t on
 * the new configuration; a refusal is an error), and plan the handlers they would notify.
 */
async function preflightAndHandlers(session: HostSession): Promise<CheckResult[]> {
  const probes = session.checks.flatMap((p) => p.plan.changes.filter((c) => c.preflight).map((c) => ({ p, script: c.preflight! })));
  const notified = notifiedHandlers(session, hasChanges);
  const handlerGathers = gathersOf(notified);
  if (probes.length + handlerGathers.length === 0) return [];
  const outcomes = expectAnswers(await execBatch(session.transport!, [...probes.map((x) => x.script), ...handlerGathers], { stopOnError: false }), probes.length + handlerGathers.length);
  probes.forEach(({ p }, i) => {
    const o = outcomes[i]!;
    if (o.code === 0) return;
    const why = firstLines(o.stderr || o.stdout || 'no answer');
    p.plan = { ...p.plan, error: `${p.plan.message}: the host would refuse this change: ${why}` };
  });
  // A refused change notifies nothing.
  const stillNotified = new Set(notifiedHandlers(session, hasChanges));
  session.handlerPlans = planWith(notified, outcomes.slice(probes.length));
  return session.handlerPlans.filter((p) => stillNotified.has(p.prepared)).map((p) => {
    const r = planResult(p);
    if (r.status === 'pass') {
      r.status = 'fail';
      r.message = 'would run';
    }
    r.message = `${r.message} (notified by ${notifiers(session, p.prepared.step.id).join(', ')})`;
    return r;
  });
}

const hasChanges = (c: PlannedStep) => !c.plan.ok && !c.plan.error && c.plan.changes.length > 0;

function safePlan(prepared: PreparedStep, facts: ExecResult): CheckPlan {
  try {
    return prepared.module.plan(prepared.params, facts);
  } catch (err) {
    const error = `module ${prepared.module.name} could not plan: ${(err as Error).message}`;
    return { ok: false, message: error, changes: [], error };
  }
}

function planResult({ prepared, plan }: PlannedStep): CheckResult {
  const { step } = prepared;
  const status = prepared.skip ? 'skipped' : plan.error ? 'error' : plan.ok ? (plan.findings?.length ? 'finding' : 'pass') : 'fail';
  return { id: step.id, title: step.title, kind: step.kind, status, message: plan.error ?? plan.message, changes: plan.changes.map((c) => ({ summary: c.summary, diff: c.diff })), findings: plan.findings?.length ? plan.findings : undefined };
}

function notifiedHandlers(session: HostSession, changed: (c: PlannedStep) => boolean): PreparedStep[] {
  const ids = new Set(session.checks.filter(changed).flatMap((c) => c.prepared.step.notify));
  return session.job.handlers.filter((h) => ids.has(h.step.id));
}

function notifiers(session: HostSession, handlerId: string): string[] {
  return session.checks.filter((c) => c.prepared.step.notify.includes(handlerId)).map((c) => c.prepared.step.id);
}

/**
 * Run the notified handlers once, planned from facts read right after the fixes (`mayRun`: every handler the fixes
 * could notify); returns the ones that ran, so that a rollback can run them again.
 */
async function runHandlers(session: HostSession, anyFailed: boolean, progress: ProgressSink, mayRun: PlannedStep[]): Promise<PreparedStep[]> {
  const { result, transport } = session;
  const fixedIds = new Set(result.checks.filter((c) => c.kind === 'check' && c.status === 'fixed').map((c) => c.id));
  const notified = notifiedHandlers(session, (c) => fixedIds.has(c.prepared.step.id));
  const handlerResults = new Map(result.checks.filter((c) => c.kind === 'handler').map((c) => [c.id, c]));
  for (const r of handlerResults.values()) {
    if (!notified.some((h) => h.step.id === r.id)) {
      r.status = 'skipped';
      r.message = 'not run: no notifying check changed anything';
    }
  }
  if (notified.length === 0) return [];
  if (anyFailed) {
    for (const h of notified) Object.assign(handlerResults.get(h.step.id) ?? {}, { status: 'skipped', message: 'not run: a fix on this host failed' });
    return [];
  }
  progress.phase(session.job.host.name, 'handlers');
  const planned = mayRun.filter((p) => notified.includes(p.prepared));
  const scripts = planned.flatMap((p) => p.plan.changes.map((c) => c.script));
  const ran = await execBatch(transport!, scripts, { stopOnError: true });
  let index = 0;
  for (const p of planned) {
    const r = handlerResults.get(p.prepared.step.id) ?? planResult(p);
    if (!handlerResults.has(r.id)) result.checks.push(r);
    const outcomes = p.plan.changes.map(() => ran[index++]);
    const bad = outcomes.find((o) => !o || o.code !== 0);
    r.changes = p.plan.changes.map((c) => ({ summary: c.summary }));
    if (p.plan.error) Object.assign(r, { status: 'error', message: p.plan.error });
    else if (bad) Object.assign(r, { status: 'error', message: `handler failed: ${firstLines(bad?.stderr ?? 'not run') || `exit ${bad?.code}`}` });
    else Object.assign(r, { status: 'fixed', message: r.changes.map((c) => c.summary).join('; ') || 'ran' });
  }
  return notified;
}

/** After the fixes and handlers, every check again: fixes must hold; observations get their new reading. */
async function recheck(session: HostSession, login?: Promise<TransportError | undefined>): Promise<void> {
  const again = await gatherAndPlan(session.transport!, session.job.checks, undefined, runProbes(session.job.checks, session.job.host, session.abort.signal, login));
  const results = new Map(session.result.checks.map((c) => [c.id, c]));
  for (const { prepared, plan } of again) {
    const r = results.get(prepared.step.id)!;
    if (r.status === 'error' || r.status === 'skipped') continue;
    r.findings = plan.findings?.length ? plan.findings : undefined;
    if (plan.ok) {
      if (r.status === 'fail') Object.assign(r, { status: 'pass', message: plan.message });
      if (r.status === 'pass' || r.status === 'finding') r.status = r.findings ? 'finding' : 'pass';
    } else if (plan.changes.length > 0 || plan.error || prepared.module.probe) {
      Object.assign(r, { status: 'error', message: `still not as wanted after apply: ${plan.error ?? plan.message}` });
    } else {
      Object.assign(r, { status: 'fail', message: plan.message });
    }
  }
}

/**
 * Only a fresh SSH login over the primary path, with the operator's key, proves the host is reachable: until then it
 * is not fixed. Called when that login failed (`failure`). When the changes were made over that very path (SSH worked before), the
 * changes locked the host out: each is undone over the session still open, the handlers run again, and the
 * host is reported failed with what happened. No fix may leave a host less reachable than it was.
 */
async function closeTheLoop(session: HostSession, applied: { checkId: string; change: Change }[], handlers: PreparedStep[], failure: TransportError): Promise<void> {
  const { result } = session;
  if (session.transport!.access !== 'ssh') {
    result.error = `fixed over ${session.transport!.access}, but a new SSH login still fails: ${failure.message}`;
    return;
  }
  const undo = applied.filter((a) => a.change.rollback).reverse();
  const undone = await execBatch(session.transport!, undo.map((a) => a.change.rollback!), { stopOnError: false });
  const byId = new Map(result.checks.map((c) => [c.id, c]));
  undo.forEach((a, i) => {
    const check = byId.get(a.checkId)!;
    Object.assign(check, { status: 'error', message: `rolled back (${undone[i]?.code === 0 ? 'restored' : `restore failed: ${firstLines(undone[i]?.stderr || undone[i]?.stdout || 'no answer')}`}): after ${a.change.summary}, a new SSH login failed` });
  });
  if (handlers.length) {
    const replanned = await gatherAndPlan(session.transport!, handlers);
    await execBatch(session.transport!, replanned.flatMap((p) => p.plan.changes.map((c) => c.script)), { stopOnError: true });
  }
  const still = await loginFails(session);
  result.error = `a new SSH login failed after the changes (${failure.message}); ${undo.length} change${undo.length === 1 ? '' : 's'} rolled back over the open session${handlers.length ? ' and handlers run again' : ''}: ${still ? `SSH STILL FAILS: ${still.message}` : 'SSH works again'}`;
}

/** Waits before each new login attempt while the port refuses: a restarted sshd may not be listening yet. */
const REFUSED_RETRY_MS = [100, 200, 400, 800];

async function loginFails(session: HostSession): Promise<TransportError | undefined> {
  const { host } = session.job;
  for (let attempt = 0; ; attempt++) {
    try {
      const fresh = await connectSsh(host, host.ssh, session.abort.signal);
      const probe = await fresh.exec('exit 0');
      await fresh.close();
      return probe.code === 0 ? undefined : new TransportError('protocol', `the verification command exited ${probe.code}`);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      const wait = REFUSED_RETRY_MS[attempt];
      if (err.kind !== 'connect-refused' || wait === undefined || session.abort.signal.aborted) return err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function fail(session: HostSession, err: unknown): HostSession {
  if (!(err instanceof TransportError)) throw err;
  session.result.status = 'failed';
  session.result.error = redact(err.message);
  return finish(session);
}

export function finish(session: HostSession): HostSession {
  session.result.durationMs = Date.now() - session.startedAt;
  return session;
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join(' | ');
}
