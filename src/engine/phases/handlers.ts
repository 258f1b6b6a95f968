// Handlers: each handler that a made fix notified runs once, planned from the facts read right after the fixes; none
// runs when a fix on the host failed. Returns the ones that ran, so that a rollback can run them again.
import type { Facts } from '../../modules/types.js';
import { execBatch } from '../batch.js';
import type { PreparedStep } from '../prepare.js';
import { plannedState, type HostSession } from '../session.js';
import { notifiedBy } from './notify.js';
import { planSteps } from './plan.js';
import { why } from './text.js';

export async function runHandlers(session: HostSession, anyFailed: boolean, facts: Map<PreparedStep, Facts>): Promise<PreparedStep[]> {
  const notified = notifiedBy(session, (c) => c.fix === 'made');
  for (const h of session.handlers) {
    if (!notified.includes(h.prepared)) Object.assign(h, { status: 'skipped', message: 'not run: no notifying check changed anything' });
  }
  if (notified.length === 0) return [];
  if (anyFailed) {
    for (const h of session.handlers) if (notified.includes(h.prepared)) Object.assign(h, { status: 'skipped', message: 'not run: a fix on this host failed' });
    return [];
  }
  const plans = planSteps(notified, facts);
  const states = notified.map((prepared, i) => {
    const planned = plannedState(prepared, plans[i]!);
    const known = session.handlers.find((h) => h.prepared === prepared);
    if (!known) session.handlers.push(planned);
    // The record keeps what was planned to be shown; the plan is the one made now, from the facts after the fixes.
    return Object.assign(known ?? planned, { plan: planned.plan, changes: planned.plan.changes.map((c) => ({ summary: c.summary })) });
  });
  const runnable = states.filter((h) => !h.plan.error);
  for (const h of runnable) h.fix = 'sent';
  const answers = await execBatch(session.transport!, runnable.flatMap((h) => h.plan.changes.map((c) => c.script)), { stopOnError: true });
  let next = 0;
  for (const h of states) {
    if (h.plan.error) {
      Object.assign(h, { status: 'error', message: h.plan.error });
      continue;
    }
    const outcomes = h.plan.changes.map(() => answers[next++]);
    const failed = outcomes.find((o) => o !== undefined && o.code !== 0);
    if (failed) Object.assign(h, { fix: 'failed', status: 'error', message: `handler failed: ${why(failed)}` });
    else if (outcomes.every((o) => o?.code === 0)) Object.assign(h, { fix: 'made', status: 'fixed', message: h.changes.map((c) => c.summary).join('; ') || 'ran' });
    else if (answers.some((o) => o.code !== 0)) Object.assign(h, { fix: undefined, status: 'error', message: 'handler failed: not run (an earlier handler failed)' });
    // Otherwise the batch was cut short while it ran: it stays `sent`, its outcome unknown.
  }
  return notified;
}
