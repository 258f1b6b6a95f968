// {{ var }} substitution: native types for whole placeholders, text otherwise, and every undefined name reported.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplates, type TemplateProblem } from '../../src/config/template.js';

const vars = { user: 'deploy', port: 2222, nested: { dir: '/srv' }, empty: '' };
const cases: { name: string; input: unknown; output: unknown; problems?: string[] }[] = [
  { name: 'plain text', input: 'no placeholders', output: 'no placeholders' },
  { name: 'interpolation', input: '~{{ user }}/.ssh', output: '~deploy/.ssh' },
  { name: 'whole placeholder keeps the type', input: '{{ port }}', output: 2222 },
  { name: 'whitespace is optional', input: '{{port}}', output: 2222 },
  { name: 'dotted names', input: '{{ nested.dir }}/x', output: '/srv/x' },
  { name: 'empty value', input: 'k={{ empty }}', output: 'k=' },
  { name: 'nested structures', input: { a: ['{{ user }}', 1, true], b: { c: '{{ port }}' } }, output: { a: ['deploy', 1, true], b: { c: 2222 } } },
  { name: 'undefined variable', input: { p: '{{ nope }}' }, output: { p: '{{ nope }}' }, problems: ['p: undefined variable "nope"'] },
  { name: 'undefined inside text', input: ['x{{ a }}y{{ user }}'], output: ['x{{ a }}ydeploy'], problems: ['0: undefined variable "a"'] },
  { name: 'malformed placeholder', input: '{{ user', output: '{{ user', problems: ['(root): malformed placeholder'] },
];

describe('renderTemplates', () => {
  for (const c of cases) {
    it(c.name, () => {
      const problems: TemplateProblem[] = [];
      assert.deepEqual(renderTemplates(c.input, vars, [], problems), c.output);
      const got = problems.map((p) => `${p.path.join('.') || '(root)'}: ${p.message}`);
      assert.equal(got.length, (c.problems ?? []).length, got.join('\n'));
      (c.problems ?? []).forEach((want, i) => assert.ok(got[i]!.startsWith(want), `${got[i]} does not start with ${want}`));
    });
  }
});
