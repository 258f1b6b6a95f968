// Plan: each step's module decides from its facts, and from what the fixes planned before it leave, what must change;
// a step that only the fixes after it would unblock is planned again against those, and made after them.
import type { CheckPlan, Facts, PlannedPath, PlannedState } from '../../modules/types.js';
import type { PreparedStep } from '../prepare.js';

/**
 * The plan of each step, in order: a skipped step's says why, one whose module failed says how. Steps are planned in
 * order, each against what the fixes before it leave (PlannedState). Then, in rounds while any changes, a step whose
 * plan is an error (a refusal) is planned again against what every other fix leaves: where that gives it a fix, it
 * is taken (`deferred`: made after the others). At most one round per step.
 */
export function planSteps(steps: PreparedStep[], facts: Map<PreparedStep, Facts>): CheckPlan[] {
  const planned = new Map<string, PlannedPath>();
  const plans = steps.map((prepared) => {
    const plan = planOne(prepared, facts, planned);
    leave(planned, plan);
    return plan;
  });
  for (let round = 1; round <= steps.length; round++) {
    let unblocked = false;
    steps.forEach((prepared, i) => {
      if (hasFix(plans[i]!) || !plans[i]!.error) return;
      const again = planOne(prepared, facts, planned);
      if (!hasFix(again)) return;
      plans[i] = { ...again, message: `${again.message} (made after the fixes of the checks after it, which it needs)`, deferred: round };
      leave(planned, again);
      unblocked = true;
    });
    if (!unblocked) break;
  }
  return plans;
}

function planOne(prepared: PreparedStep, facts: Map<PreparedStep, Facts>, planned: PlannedState): CheckPlan {
  return prepared.skip ? { ok: true, message: prepared.skip, changes: [] } : safePlan(prepared, facts.get(prepared) ?? {}, planned);
}

/** Record what a plan's fix leaves, for the plans after it. */
function leave(planned: Map<string, PlannedPath>, plan: CheckPlan): void {
  if (hasFix(plan)) for (const left of plan.leaves ?? []) planned.set(left.path, left);
}

function safePlan(prepared: PreparedStep, facts: Facts, planned: PlannedState): CheckPlan {
  try {
    return prepared.module.plan(prepared.params, facts, planned);
  } catch (err) {
    const error = `module ${prepared.module.name} could not plan: ${(err as Error).message}`;
    return { ok: false, message: error, changes: [], error };
  }
}

/** A plan with a fix to make: not already as wanted, not an error, with changes. */
export function hasFix(plan: CheckPlan): boolean {
  return !plan.ok && !plan.error && plan.changes.length > 0;
}
