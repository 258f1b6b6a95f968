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
  /** The net's run id, when one was armed. */
  netRunId?: string;
  /** The facts of the handlers the fixes may notify, read right after them (none when a fix failed). */
  handlerFacts: Map<PreparedStep, Facts>;
  /** The gate refused (the lease lapsed, another run's net is armed): nothing was applied, and this says why. */
  refused?: string;
}

export async function applyFixes(session: HostSession, confirmTimeoutS: number): Promise<Applied> {
  const toFix = session.checks.filter((c) => c.status === 'fail' && hasFix(c.plan));
  const fixes = toFix.flatMap((check) => check.plan.changes.map((change) => ({ check, change })));
  const mayNotify = notifiedBy(session, (c) => hasFix(c.plan));
  const handlerRound = factRound(mayNotify);
  const { gate, sent, netRunId } = arm(session, fixes.map((f) => f.change), mayNotify, confirmTimeoutS);
  for (const c of toFix) c.fix = 'sent';
  const answers = await execBatch(session.transport!, [...gate, ...sent, ...handlerRound.scripts], { stopOnError: true });
  const gateFailure = answers.slice(0, gate.length).find((a) => a.code !== 0);
  if (gateFailure || answers.length < gate.length) {
    const reason = why(gateFailure);
    for (const c of toFix) Object.assign(c, { fix: undefined, status: 'error', message: `not applied: ${reason}` });
    return { made: [], anyFailed: true, netRunId: undefined, handlerFacts: new Map(), refused: reason };
  }
  const ran = answers.slice(gate.length);
  const made: Applied['made'] = [];
  let anyFailed = false;
  fixes.forEach((f, i) => {
    const answer = ran[i];
    const check = f.check;
    if (answer?.code === 0) made.push(f);
    if (check.fix !== 'sent') return;
    if (!answer) Object.assign(check, { fix: undefined, status: 'skipped', message: 'not applied: an earlier fix failed' });
    else if (answer.code !== 0) {
      anyFailed = true;
      Object.assign(check, { fix: 'failed', status: 'error', message: `fix failed (exit ${answer.code}): ${why(answer)}` });
    }
  });
  for (const c of toFix) if (c.fix === 'sent') Object.assign(c, { fix: 'made', status: 'fixed', message: c.changes.map((ch) => ch.summary).join('; ') });
  if (!anyFailed) expectAnswers(ran, fixes.length + handlerRound.scripts.length);
  return { made, anyFailed, netRunId, handlerFacts: anyFailed ? new Map() : handlerRound.facts(ran.slice(fixes.length)) };
}
