// Which handlers checks notify, and by which checks: decided from the check records, never from the report's text.
import type { PreparedStep } from '../prepare.js';
import type { CheckState, HostSession } from '../session.js';

/** The handlers that the checks `which` picks notify, in the playbook's order. */
export function notifiedBy(session: HostSession, which: (c: CheckState) => boolean): PreparedStep[] {
  const ids = new Set(session.checks.filter(which).flatMap((c) => c.prepared.step.notify));
  return session.job.handlers.filter((h) => ids.has(h.step.id));
}

/** The ids of the checks that notify `handler`. */
export function notifiers(session: HostSession, handler: PreparedStep): string[] {
  return session.checks.filter((c) => c.prepared.step.notify.includes(handler.step.id)).map((c) => c.prepared.step.id);
}
