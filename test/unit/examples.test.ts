// examples/: each way of splitting a fleet asks for as many shards as it runs, and every host lands in one of them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const docs = (path: string) => parseAllDocuments(readFileSync(new URL(`../../examples/${path}`, import.meta.url), 'utf8')).map((d) => d.toJS() as Record<string, any>);

/** Per example: how many runs it starts, the --shard expression of its audit, and how each run's I comes to be. */
const cases: { path: string; runs: (d: Record<string, any>[]) => number; script: (d: Record<string, any>[]) => string; shard: RegExp }[] = [
  {
    path: 'kubernetes/audit-indexed-job.yml',
    runs: ([job]) => (job!.spec.completionMode === 'Indexed' && job!.spec.parallelism === job!.spec.completions ? job!.spec.completions : -1),
    script: ([job]) => job!.spec.template.spec.containers[0].args[0],
    shard: /shard=\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\n.*--shard "\$shard\/(\d+)"/,
  },
  {
    path: 'ci/github-actions.yml',
    runs: ([wf]) => (JSON.stringify(wf!.jobs.shard.strategy.matrix.shard) === JSON.stringify([1, 2, 3, 4]) ? 4 : -1),
    script: ([wf]) => wf!.jobs.shard.steps.map((s: { run?: string }) => s.run ?? '').join('\n'),
    shard: /--shard \$\{\{ matrix\.shard \}\}\/(\d+)/,
  },
  {
    path: 'ci/gitlab-ci.yml',
    runs: ([ci]) => ci!.audit.parallel,
    script: ([ci]) => ci!.audit.script.join('\n'),
    shard: /--shard "\$CI_NODE_INDEX\/\$CI_NODE_TOTAL"/,
  },
];

describe('examples', () => {
  for (const c of cases) {
    it(`${c.path}: one --shard per run, then report merge`, () => {
      const d = docs(c.path);
      const m = c.shard.exec(c.script(d));
      assert.ok(m, `no --shard in ${c.path}`);
      assert.equal(c.runs(d), m[1] === undefined ? c.runs(d) : Number(m[1]));
      assert.ok(c.runs(d) > 1);
      assert.match(readFileSync(new URL(`../../examples/${c.path}`, import.meta.url), 'utf8'), /fleetfix report merge [^\n]*shard-\*\.json/);
    });
  }
});
