// Arm: what goes ahead of the fixes in their round trip: the lease renewed (it may have been taken long before a
// prompt), and the on-host safety net armed where a change can cut access, with each such change guarded by it.
import type { Change } from '../../modules/types.js';
import { renewScript } from '../host-lock.js';
import { armScript, guardedChange } from '../safety-net.js';
import type { PreparedStep } from '../prepare.js';
import type { HostSession } from '../session.js';

export interface Armed {
  /** Scripts that must all succeed before any fix runs. */
  gate: string[];
  /** Each change's script as sent: under the net when it carries an undo. */
  sent: string[];
  /** The net's run id, when one is armed: the confirmation disarms it. */
  netRunId?: string;
}

/**
 * `changes` are the fixes in order; `restartFor` the handlers they may notify, whose planned scripts the net runs
 * after undoing the changes (sshd restarted on its old configuration).
 */
export function arm(session: HostSession, changes: Change[], restartFor: PreparedStep[], confirmTimeoutS: number): Armed {
  const lease = session.lease;
  if (!lease) throw new Error(`${session.job.host.name}: applying without this run's lease`);
  // The net is the run's, by the lease's id: a later run that finds the lease can tell whether its net has fired.
  const netRunId = changes.some((c) => c.rollback) ? lease.runId : undefined;
  const restart = session.handlers.filter((h) => restartFor.includes(h.prepared)).flatMap((h) => h.plan.changes.map((c) => c.script));
  const gate = [renewScript(lease.runId, lease.seconds), ...(netRunId ? [armScript(netRunId, confirmTimeoutS, restart)] : [])];
  const sent = changes.map((c, i) => (netRunId && c.rollback ? guardedChange(c.script, c.rollback, c.summary, i) : c.script));
  return { gate, sent, netRunId };
}
