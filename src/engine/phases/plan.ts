// Plan: each step's module decides from its facts what must change; a module that throws is an error on that check.
import type { CheckPlan, Facts } from '../../modules/types.js';
import type { PreparedStep } from '../prepare.js';

/** The plan of each step, in order: a skipped step's says why, one whose module failed says how. */
export function planSteps(steps: PreparedStep[], facts: Map<PreparedStep, Facts>): CheckPlan[] {
  return steps.map((prepared) => (prepared.skip ? { ok: true, message: prepared.skip, changes: [] } : safePlan(prepared, facts.get(prepared) ?? {})));
}

function safePlan(prepared: PreparedStep, facts: Facts): CheckPlan {
  try {
    return prepared.module.plan(prepared.params, facts);
  } catch (err) {
    const error = `module ${prepared.module.name} could not plan: ${(err as Error).message}`;
    return { ok: false, message: error, changes: [], error };
  }
}

/** A plan with a fix to make: not already as wanted, not an error, with changes. */
export function hasFix(plan: CheckPlan): boolean {
  return !plan.ok && !plan.error && plan.changes.length > 0;
}
