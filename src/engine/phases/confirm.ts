// Confirm or roll back: disarm the safety net and give the lease back once the host is proven; where the fresh
// login failed after changes made over that very path, undo them over the session still open.
import type { ExecResult, TransportError } from '../../transport/types.js';
import { execBatch } from '../batch.js';
import { releaseScript } from '../host-lock.js';
import type { PreparedStep } from '../prepare.js';
import { disarmScript } from '../safety-net.js';
import type { HostSession } from '../session.js';
import type { Applied } from './apply.js';
import { gatherFacts } from './gather.js';
import { planSteps } from './plan.js';
import { why } from './text.js';
import { loginFails } from './verify.js';

/**
 * One round trip, once the host is proven (or nothing was applied): disarm this run's net, if armed, and give the
 * lease back. If the net fired first, the changes were undone, and the host is failed with that; the net stays on
 * record, and the checks it undid say so.
 */
export async function confirm(session: HostSession): Promise<void> {
  const net = session.net;
  const [answer] = await endHold(session, net ? [disarmScript(net)] : []);
  if (!net) return;
  if (answer?.code === 0) {
    session.net = undefined;
    return;
  }
  const reason = why(answer);
  session.host.error = session.host.error ? `${session.host.error}; ${reason}` : reason;
}

/** Give the lease back, and nothing else: a net armed stays armed, since nothing proved the host reachable. */
export async function giveBackLease(session: HostSession): Promise<void> {
  await endHold(session, []);
}

/** Run `first`, then give the lease back (if held), in one round trip; the lease is the run's until that round trip ends. */
export async function endHold(session: HostSession, first: string[]): Promise<ExecResult[]> {
  const scripts = [...first, ...(session.lease ? [releaseScript(session.lease.runId)] : [])];
  const answers = scripts.length ? await execBatch(session.transport!, scripts, { stopOnError: false }) : [];
  session.lease = undefined;
  return answers;
}

/**
 * The fresh login failed (`failure`) after the changes. Made over the primary path (SSH worked before), the changes
 * locked the host out: each is undone over the session still open, newest first, the handlers run again, and the
 * host is failed with what happened. Made over another path, SSH was already broken: the host is failed, as it is.
 */
export async function rollBack(session: HostSession, applied: Applied, handlers: PreparedStep[], failure: TransportError): Promise<void> {
  const transport = session.transport!;
  if (!transport.capabilities.primaryLogin) {
    session.host.error = `fixed over ${transport.access}, but a new SSH login still fails: ${failure.message}`;
    return;
  }
  const undo = applied.made.filter((m) => m.change.rollback).reverse();
  const undone = await execBatch(transport, undo.map((m) => m.change.rollback!), { stopOnError: false });
  undo.forEach((m, i) => {
    const outcome = undone[i]?.code === 0 ? 'restored' : `restore failed: ${why(undone[i])}`;
    Object.assign(m.check, { status: 'error', message: `rolled back (${outcome}): after ${m.change.summary}, a new SSH login failed` });
  });
  if (handlers.length) {
    const { facts } = await gatherFacts(transport, handlers);
    const plans = planSteps(handlers, facts);
    await execBatch(transport, plans.flatMap((p) => p.changes.map((c) => c.script)), { stopOnError: true });
  }
  const still = await loginFails(session);
  const n = undo.length;
  session.host.error = `a new SSH login failed after the changes (${failure.message}); ${n} change${n === 1 ? '' : 's'} rolled back over the open session${handlers.length ? ' and handlers run again' : ''}: ${still ? `SSH STILL FAILS: ${still.message}` : 'SSH works again'}`;
}
