// Confirm or roll back: disarm the safety net and give the lease back once the host is proven; where the fresh
// login failed after changes made over that very path, undo them over the session still open.
import type { TransportError } from '../../transport/types.js';
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
 * One round trip: disarm the net (`netRunId`) and give the lease back. If the net fired first, the changes were
 * undone, and the host is failed with that.
 */
export async function confirm(session: HostSession, netRunId?: string): Promise<void> {
  const scripts = [...(netRunId ? [disarmScript(netRunId)] : []), ...(session.lease ? [releaseScript(session.lease.runId)] : [])];
  session.lease = undefined;
  if (scripts.length === 0) return;
  const [answer] = await execBatch(session.transport!, scripts, { stopOnError: false });
  if (!netRunId || answer?.code === 0) return;
  const reason = why(answer);
  session.host.error = session.host.error ? `${session.host.error}; ${reason}` : reason;
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
