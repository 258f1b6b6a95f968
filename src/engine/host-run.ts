// One host's run, phase by phase: connect, gather, plan and preflight (every command); then, on apply, arm and apply,
// handlers, verify, and confirm or roll back, or (told to stop before a fresh login proved the host) settle. Each phase
// is a unit of its own (phases/); this file only sequences them.
import { redact } from '../config/secrets.js';
import { hostStatusFromChecks } from '../report/model.js';
import { TransportError } from '../transport/types.js';
import type { ConnectFn } from './connect.js';
import type { ProgressSink } from './events.js';
import { acquireScript } from './host-lock.js';
import { applyFixes } from './phases/apply.js';
import { confirm, giveBackLease, rollBack } from './phases/confirm.js';
import { connectPhase } from './phases/connect.js';
import { gatherFacts } from './phases/gather.js';
import { runHandlers } from './phases/handlers.js';
import { planSteps } from './phases/plan.js';
import { preflight } from './phases/preflight.js';
import { settle } from './phases/settle.js';
import { firstLines } from './phases/text.js';
import { recheck, recheckOverFreshLogin } from './phases/verify.js';
import { runProbes } from './probes.js';
import { finish, hostResult, plannedState, type HostSession } from './session.js';

/** How long the on-host safety net waits for the confirmation before it undoes the changes, by default (--confirm-timeout). */
export const CONFIRM_TIMEOUT_S = 120;

/** Plan semantics for every command: compliant, drift, unreachable or failed. */
export async function planHost(session: HostSession, progress: ProgressSink, connect: ConnectFn): Promise<void> {
  const { job, lease } = session;
  progress.phase(job.host.name, 'connecting');
  const connected = await connectPhase(session, connect);
  // Told to stop (Ctrl-C) meanwhile: nothing is asked of the host, not even its lease.
  if (!connected || session.stop.aborted) return finish(session);
  progress.phase(job.host.name, 'checking');
  try {
    const transport = session.transport!;
    // Connected as the primary login, the engine's own login answers a probe that would make the same login again.
    const ownLogin = transport.capabilities.primaryLogin ? Promise.resolve(undefined) : undefined;
    const first = lease && acquireScript(lease.runId, lease.seconds, lease.waitS);
    const gathered = await gatherFacts(transport, job.checks, { first, probed: runProbes(job.checks, job.host, session.abort.signal, ownLogin) });
    if (gathered.first && gathered.first.code !== 0) {
      // Another run holds the host: nothing is planned, and its lease is not ours to give back.
      session.lease = undefined;
      Object.assign(session.host, { status: 'failed', error: firstLines(gathered.first.stderr) || `taking the lease failed (exit ${gathered.first.code})` });
      return finish(session);
    }
    const plans = planSteps(job.checks, gathered.facts);
    session.checks = job.checks.map((step, i) => plannedState(step, plans[i]!));
    // Told to stop: nothing more is asked; the run gives the lease back.
    if (!session.stop.aborted) await preflight(session);
  } catch (err) {
    return fail(session, err);
  }
  session.host.status = hostStatusFromChecks('plan', hostResult(session).checks);
  finish(session);
}

export async function applyHost(session: HostSession, progress: ProgressSink, confirmTimeoutS = CONFIRM_TIMEOUT_S): Promise<void> {
  const { job, host } = session;
  if (!session.transport || host.status !== 'drift') {
    if (host.status === 'drift') host.status = 'failed';
    return finish(session);
  }
  progress.phase(job.host.name, 'applying');
  try {
    const applied = await applyFixes(session, confirmTimeoutS);
    if (applied.refused) {
      Object.assign(host, { status: 'failed', error: `nothing applied: ${applied.refused}` });
      await confirm(session);
      return finish(session);
    }
    // Told to stop (Ctrl-C), the host starts nothing new: what it did is settled, unless a fresh login proved it.
    if (session.stop.aborted) return await settleHost(session, progress);
    if (applied.made.length) progress.phase(job.host.name, 'handlers');
    const handlers = await runHandlers(session, applied.anyFailed, applied.handlerFacts);
    if (session.stop.aborted) return await settleHost(session, progress);
    progress.phase(job.host.name, 'verifying');
    // Where changes were made over SSH, the re-check runs over a fresh login, which it proves; where that login
    // fails, over the session still open (a probe that is that login takes its failure), and the changes are undone.
    const verifies = applied.made.length > 0 && job.host.transport === 'ssh';
    const failure = verifies ? await recheckOverFreshLogin(session) : undefined;
    if (failure && session.stop.aborted) return await settleHost(session, progress);
    if (!verifies || failure) await recheck(session, session.transport!, failure && Promise.resolve(failure));
    session.verified = !failure;
    if (failure) await rollBack(session, applied, handlers, failure);
    await confirm(session);
  } catch (err) {
    return fail(session, err);
  }
  // Judged as reported: a fix in flight or not confirmed is an error there, whatever its record's own status.
  host.status = host.error ? 'failed' : hostStatusFromChecks('apply', hostResult(session).checks);
  finish(session);
}

async function settleHost(session: HostSession, progress: ProgressSink): Promise<void> {
  progress.phase(session.job.host.name, 'settling');
  await settle(session);
  finish(session);
}

/** Give the lease back when the host's run is over, whatever happened (a net still armed stays armed). */
export async function releaseLease(session: HostSession): Promise<void> {
  if (session.lease && session.transport) await giveBackLease(session).catch(() => {});
}

/** A lost host fails with why; anything else is a bug, and goes up. */
function fail(session: HostSession, err: unknown): void {
  if (!(err instanceof TransportError)) throw err;
  Object.assign(session.host, { status: 'failed', error: redact(err.message) });
  finish(session);
}
