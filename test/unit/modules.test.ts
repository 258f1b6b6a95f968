// Every module's planner against a table of facts (test/fixtures/modules/<module>.json): pure, no host needed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { modules } from '../../src/modules/registry.js';
import type { PlannedPath } from '../../src/modules/types.js';

interface Case {
  name: string;
  params: unknown;
  /** The facts by the names the module gives them; a string where the module reads one fact. */
  facts: string | Record<string, string>;
  /** What the fixes planned before this check leave (PlannedState), by path; none when absent. */
  planned?: PlannedPath[];
  expect: { ok: boolean; changes: string[]; error?: string; message?: string; scripts?: string[]; diffs?: string[]; findings?: string[]; leaves?: PlannedPath[] };
}

const dir = new URL('../fixtures/modules/', import.meta.url);
/** `content=base64:TEXT` in a fixture stands for the base64 of TEXT (the rest of the facts), to keep fixtures readable. */
function facts(text: string): string {
  const at = text.indexOf('content=base64:');
  if (at < 0) return text;
  return `${text.slice(0, at)}content=${Buffer.from(text.slice(at + 'content=base64:'.length)).toString('base64')}\n`;
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const name = file.replace(/\.json$/, '');
  const module = modules.get(name);
  describe(`module ${name}`, () => {
    it('is registered', () => assert.ok(module, `no module named ${name}`));
    for (const c of JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Case[]) {
      it(c.name, () => {
        const params = module!.params.parse(c.params);
        const names = module!.probe ? ['probe'] : Object.keys(module!.facts!(params));
        const given = typeof c.facts === 'string' ? { [names.length === 1 ? names[0]! : '(one string for several facts)']: c.facts } : c.facts;
        assert.deepEqual(Object.keys(given).sort(), [...names].sort(), 'the fixture names every fact the module reads, and no other');
        const planned = new Map((c.planned ?? []).map((p) => [p.path, p]));
        const plan = module!.plan(params, Object.fromEntries(Object.entries(given).map(([name, text]) => [name, { code: 0, stdout: facts(text), stderr: '' }])), planned);
        assert.equal(plan.ok, c.expect.ok, plan.message);
        assert.deepEqual(plan.changes.map((ch) => ch.summary), c.expect.changes);
        assert.equal(plan.error, c.expect.error);
        if (c.expect.message !== undefined) assert.equal(plan.message, c.expect.message);
        const scripts = plan.changes.map((ch) => ch.script).join('\n');
        for (const s of c.expect.scripts ?? []) assert.ok(scripts.includes(s), `script lacks ${JSON.stringify(s)}:\n${scripts}`);
        const diffs = plan.changes.map((ch) => ch.diff ?? '').join('\n');
        for (const d of c.expect.diffs ?? []) assert.ok(diffs.includes(d), `diff lacks ${JSON.stringify(d)}:\n${diffs}`);
        if (c.expect.findings) assert.deepEqual(plan.findings ?? [], c.expect.findings);
        if (c.expect.leaves) assert.deepEqual(plan.leaves ?? [], c.expect.leaves);
      });
    }
  });
}
