// One host's run as state: one record per check and handler, and the host's own; the report is rendered from them.
import type { CheckPlan } from '../modules/types.js';
import type { CheckResult, CheckStatus, Diagnosis, HostResult, HostStatus } from '../report/model.js';
import type { Transport } from '../transport/types.js';
import type { HostJob, PreparedStep } from './prepare.js';

/**
 * Where a check's (or a handler's) fix stands on the host, on apply: while `sent`, its outcome is unknown; `undone`
 * and `undo-failed`: made, then the safety net was fired at once (the run was stopped before a fresh login proved the
 * host) and its undo ran or failed.
 */
export type FixState = 'sent' | 'made' | 'failed' | 'undone' | 'undo-failed';

/** One check or handler on one host, from its plan to the confirmation. */
export interface CheckState {
  prepared: PreparedStep;
  /** The latest plan: from the facts, then (checks) from the re-check after apply. */
  plan: CheckPlan;
  status: CheckStatus;
  message: string;
  findings?: string[];
  /** Planned, or (once applied) made. */
  changes: { summary: string; diff?: string }[];
  fix?: FixState;
  /** The steps (undo files, safety-net.ts) of its changes that carry an undo the safety net runs unless the confirmation disarms it first. */
  netSteps?: number[];
}

/** One run's hold on a host: its id, how long each taking or renewal lasts, how long to wait for another run's. */
export interface Lease {
  runId: string;
  seconds: number;
  waitS: number;
}

/** A host between plan and apply: its connection stays open across the confirmation prompt. */
export interface HostSession {
  job: HostJob;
  /** Aborted when the host runs out of time, or the run gives up on it: cancels a connect in flight. */
  abort: AbortController;
  /** The run's: aborted when it is told to stop (Ctrl-C). The host then starts nothing new, and settles what it holds. */
  stop: AbortSignal;
  transport?: Transport;
  /** The host's own state, as reported. */
  host: { status: HostStatus; access?: string; diagnosis?: Diagnosis; attempts?: { access: string; error: string }[]; error?: string; durationMs: number };
  checks: CheckState[];
  /** The handlers the fixes notify, planned from the facts read while planning (the safety net's restart). */
  handlers: CheckState[];
  /** apply's lease on the host (see host-lock.ts): taken with the facts, given back after the confirmation. */
  lease?: Lease;
  /** The run id of this run's safety net on the host (the lease's), from its arming until the confirmation disarms it or it is fired. */
  net?: string;
  /** The fresh login (or, where the host is not reached by SSH, the re-check) after the fixes worked. */
  verified?: boolean;
  /** The run's apply phase has begun (FleetRun.apply): from here, a stop leaves each fix applied, not applied, or unknown. */
  applying?: boolean;
  /** The report, rendered at the end of the host's last phase. */
  report?: HostResult;
  /** Set when the run gave up on the host (timeout, interrupt): reported instead, as work still unwinding may change the state. */
  verdict?: HostResult;
  startedAt: number;
}

export function newSession(job: HostJob, stop: AbortSignal, lease?: Lease): HostSession {
  return { job, lease, stop, abort: new AbortController(), host: { status: 'compliant', durationMs: 0 }, checks: [], handlers: [], startedAt: Date.now() };
}

/** The end of a phase of the host's run: the report is rendered, with the duration so far. */
export function finish(session: HostSession): void {
  session.host.durationMs = Date.now() - session.startedAt;
  session.report = hostResult(session);
}

/** A check's state as its plan says, before anything is applied. */
export function plannedState(prepared: PreparedStep, plan: CheckPlan): CheckState {
  const status = prepared.skip ? 'skipped' : plan.error ? 'error' : plan.ok ? (plan.findings?.length ? 'finding' : 'pass') : 'fail';
  return { prepared, plan, status, message: plan.error ?? plan.message, changes: plan.changes.map((c) => ({ summary: c.summary, diff: c.diff })), findings: plan.findings?.length ? plan.findings : undefined };
}

/**
 * The report of a host. `stopped` (the run gave up on it): a fix not sent was not applied. Whether stopped or lost,
 * a fix still in flight is unknown, and one made under a net still armed is being undone by it. On a host the run was
 * told to stop on while it applied, each fix made says whether it was undone or kept, and whether a fresh login
 * verified it.
 */
export function hostResult(session: HostSession, stopped?: string): HostResult {
  const { job, host } = session;
  const view: CheckView = { notSent: stopped !== undefined && session.applying === true, netArmed: session.net !== undefined, kept: session.applying === true && session.stop.aborted ? (session.verified ? 'verified' : 'not verified') : undefined };
  const checks = [...session.checks, ...session.handlers].map((c) => checkResult(c, view));
  // Keys in the contract's order; undefined ones are left out of the JSON.
  return { name: job.host.name, address: job.host.address, status: stopped ? 'failed' : host.status, access: host.access, diagnosis: host.diagnosis, attempts: host.attempts, error: stopped ?? host.error, durationMs: stopped ? Date.now() - session.startedAt : host.durationMs, checks };
}

interface CheckView {
  /** The run gave up on the host during apply: a fix never sent was not applied. */
  notSent: boolean;
  /** This run's net is still armed on the host: what it guards is undone when its time runs out. */
  netArmed: boolean;
  /** The run was stopped while the host applied: a check's fix made and standing is kept, verified by a fresh login or not. */
  kept?: 'verified' | 'not verified';
}

function checkResult(c: CheckState, view: CheckView): CheckResult {
  // The changes are shared with the record, which replaces its lists and never changes them in place.
  const base = { id: c.prepared.step.id, title: c.prepared.step.title, kind: c.prepared.step.kind, changes: c.changes, findings: c.findings };
  const made = c.changes.map((ch) => ch.summary).join('; ');
  if (c.fix === 'sent') return { ...base, status: 'error', message: `unknown: the run ended while this fix was in flight; the host may or may not have changed (${made})` };
  if (c.fix === 'undone') return { ...base, status: 'fail', message: `undone: made (${made}), then undone at once by the safety net: the run was interrupted before a fresh login verified the host` };
  if (c.fix === 'undo-failed') return { ...base, status: 'error', message: `undo failed: made (${made}), but the safety net's undo of it failed when the run was interrupted (see /var/log/fleetfix.log on the host)` };
  if (view.netArmed && c.netSteps?.length && c.status === 'fixed') return { ...base, status: 'error', message: `not confirmed: made (${made}), but no fresh login confirmed it, so the safety net on the host undoes it when its time runs out (it may have already)` };
  if (view.notSent && c.status === 'fail' && c.changes.length > 0 && c.fix === undefined) return { ...base, status: 'fail', message: `not applied: ${c.message}` };
  if (view.kept && c.prepared.step.kind === 'check' && c.fix === 'made' && c.status === 'fixed') return { ...base, status: 'fixed', message: `kept (${view.kept}): ${c.message}` };
  return { ...base, status: c.status, message: c.message };
}
