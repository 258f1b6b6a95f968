// Apply: the gate, every fix and the facts of the handlers they may notify, in one round trip that stops at the first
// failure; each check's record says whether its fix was made, failed, or never ran.
import type { Change, Facts } from '../../modules/types.js';
import { execBatch } from '../batch.js';
import type { PreparedStep } from '../prepare.js';
import type { CheckState, HostSession } from '../session.js';
import { arm } from './arm.js';
import { expectAnswers, factRound } from './gather.js';
import { notifiedBy } from './notify.js';
import { hasFix } from './plan.js';
import { why } from './text.js';

export interface Applied {
  /** The changes made, in order, with their check: what a rollback undoes. */
  made: { check: CheckState; change: Change }[];
  anyFailed: boolean;
  /** The facts of the handlers the fixes may notify, read right after them (none when a fix failed). */
  handlerFacts: Map<PreparedStep, Facts>;
  /** The gate refused (the lease lapsed, another run's net is armed): nothing was applied, and this says why. */
  refused?: string;
}

export async function applyFixes(session: HostSession, confirmTimeoutS: number): Promise<Applied> {
  // In the playbook's order, but a fix planned against what later fixes leave (deferred) after them.
  const toFix = session.checks.filter((c) => c.status === 'fail' && hasFix(c.plan)).sort((a, b) => (a.plan.deferred ?? 0) - (b.plan.deferred ?? 0));
  const fixes = toFix.flatMap((check) => check.plan.changes.map((change) => ({ check, change })));
  const mayNotify = notifiedBy(session, (c) => hasFix(c.plan));
  const handlerRound = factRound(mayNotify);
  const { gate, sent, netRunId } = arm(session, fixes.map((f) => f.change), mayNotify, confirmTimeoutS);
  // Each change under the net records its undo as the step of its place among the fixes (arm.ts).
  for (const c of toFix) Object.assign(c, { fix: 'sent', netSteps: netRunId === undefined ? undefined : fixes.flatMap((f, step) => (f.check === c && f.change.rollback ? [step] : [])) });
  // The net may be armed from here: only its disarming (the confirmation) ends it.
  session.net = netRunId;
  const answers = await execBatch(session.transport!, [...gate, ...sent, ...handlerRound.scripts], { stopOnError: true });
  const gateFailure = answers.slice(0, gate.length).find((a) => a.code !== 0);
  if (gateFailure || answers.length < gate.length) {
    // The lease was not renewed, or another run's net is armed: this run's net was never armed, and nothing ran.
    session.net = undefined;
    const reason = why(gateFailure);
    for (const c of toFix) Object.assign(c, { fix: undefined, status: 'error', message: `not applied: ${reason}` });
    return { made: [], anyFailed: true, handlerFacts: new Map(), refused: reason };
  }
  const ran = answers.slice(gate.length);
  const made = fixes.filter((_, i) => ran[i]?.code === 0);
  const anyFailed = ran.some((answer) => answer.code !== 0);
  for (const check of toFix) {
    const outcomes = fixes.flatMap((f, i) => (f.check === check ? [ran[i]] : []));
    const bad = outcomes.find((o) => o !== undefined && o.code !== 0);
    if (bad) Object.assign(check, { fix: 'failed', status: 'error', message: `fix failed (exit ${bad.code}): ${why(bad)}` });
    else if (outcomes.every((o) => o?.code === 0)) Object.assign(check, { fix: 'made', status: 'fixed', message: check.changes.map((ch) => ch.summary).join('; ') });
    // Unanswered after a failure, and nothing of it made: the batch stopped before it (it runs fixes in order).
    else if (anyFailed && outcomes.every((o) => o === undefined)) Object.assign(check, { fix: undefined, netSteps: undefined, status: 'skipped', message: 'not applied: an earlier fix failed' });
    // Otherwise the batch was cut short while it ran: it stays `sent`, its outcome unknown.
  }
  if (!anyFailed) expectAnswers(ran, fixes.length + handlerRound.scripts.length);
  return { made, anyFailed, handlerFacts: anyFailed ? new Map() : handlerRound.facts(ran.slice(fixes.length)) };
}
