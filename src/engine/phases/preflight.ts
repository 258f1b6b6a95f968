// Preflight: one more round trip where there are fixes: would the host accept each change (sshd -t on the new
// configuration; a refusal is an error on that check), and the plans of the handlers the fixes would notify.
import { execBatch } from '../batch.js';
import { plannedState, type HostSession } from '../session.js';
import { expectAnswers, factRound } from './gather.js';
import { notifiedBy, notifiers } from './notify.js';
import { hasFix, planSteps } from './plan.js';
import { firstLines } from './text.js';

export async function preflight(session: HostSession): Promise<void> {
  const probes = session.checks.flatMap((c) => c.plan.changes.filter((ch) => ch.preflight).map((ch) => ({ c, script: ch.preflight! })));
  const notified = notifiedBy(session, (c) => hasFix(c.plan));
  const handlerFacts = factRound(notified);
  if (probes.length + handlerFacts.scripts.length === 0) return;
  const sent = [...probes.map((x) => x.script), ...handlerFacts.scripts];
  const answers = expectAnswers(await execBatch(session.transport!, sent, { stopOnError: false }), sent.length);
  probes.forEach(({ c }, i) => {
    const answer = answers[i]!;
    if (answer.code === 0) return;
    const error = `${c.plan.message}: the host would refuse this change: ${firstLines(answer.stderr || answer.stdout || 'no answer')}`;
    Object.assign(c, plannedState(c.prepared, { ...c.plan, error }));
  });
  // A refused change notifies nothing.
  const still = new Set(notifiedBy(session, (c) => hasFix(c.plan)));
  const plans = planSteps(notified, handlerFacts.facts(answers.slice(probes.length)));
  session.handlers = notified.flatMap((prepared, i) => {
    if (!still.has(prepared)) return [];
    const state = plannedState(prepared, plans[i]!);
    if (state.status === 'pass') Object.assign(state, { status: 'fail', message: 'would run' });
    state.message = `${state.message} (notified by ${notifiers(session, prepared).join(', ')})`;
    return [state];
  });
}
