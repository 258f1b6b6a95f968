// Fixes that depend on each other are planned in a safe order (test/fixtures/plan-order/cases.json): each check
// against what the fixes before it leave, and one that only a later fix unblocks after it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Step } from '../../src/config/playbook.js';
import { planSteps } from '../../src/engine/phases/plan.js';
import type { PreparedStep } from '../../src/engine/prepare.js';
import { modules } from '../../src/modules/registry.js';
import type { Facts } from '../../src/modules/types.js';

interface Case {
  name: string;
  steps: { id: string; module: string; params: unknown; facts: Record<string, string> }[];
  expect: { changes: string[]; error?: string; deferred?: number }[];
}

const cases = JSON.parse(readFileSync(new URL('../fixtures/plan-order/cases.json', import.meta.url), 'utf8')) as Case[];

describe('planSteps: fixes that depend on each other, in a safe order', () => {
  for (const c of cases) {
    it(c.name, () => {
      const facts = new Map<PreparedStep, Facts>();
      const steps = c.steps.map((s): PreparedStep => {
        const module = modules.get(s.module)!;
        const prepared = { step: { id: s.id } as Step, module, params: module.params.parse(s.params) };
        facts.set(prepared, Object.fromEntries(Object.entries(s.facts).map(([name, stdout]) => [name, { code: 0, stdout, stderr: '' }])));
        return prepared;
      });
      const plans = planSteps(steps, facts);
      assert.deepEqual(
        plans.map((p) => ({ changes: p.changes.map((ch) => ch.summary), ...(p.error ? { error: p.error } : {}), ...(p.deferred ? { deferred: p.deferred } : {}) })),
        c.expect,
      );
    });
  }
});
