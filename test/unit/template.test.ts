// {{ var }} substitution: native types for whole placeholders, text otherwise, and every undefined name reported.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RENDERED, MAX_VAR_DEPTH, renderTemplates, VarScope, type TemplateProblem } from '../../src/config/template.js';

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

/** a0 -> a1 -> ... -> a{n}: a chain of variables each naming the next. */
const chain = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, `{{ a${i + 1} }}`]).concat([[`a${n}`, 'end']]));
/** Each variable repeats the one before ten times: the last would be 10^n characters long. */
const laughs = (n: number) => Object.fromEntries(Array.from({ length: n + 1 }, (_, i) => [`l${i}`, i === 0 ? 'xxxxxxxxxx' : `{{ l${i - 1} }}`.repeat(10)]));

const scoped: { name: string; vars: Record<string, unknown>; input: unknown; output: unknown; problems?: string[] }[] = [
  { name: 'a variable using a variable', vars: { a: '{{ b }}/x', b: '{{ c }}', c: 'srv' }, input: '/{{ a }}', output: '/srv/x' },
  { name: 'nested references resolve at any depth within the bound', vars: chain(MAX_VAR_DEPTH - 1), input: '{{ a0 }}', output: 'end' },
  { name: 'a nested value keeps its type', vars: { port: '{{ p }}', p: 2222 }, input: '{{ port }}', output: 2222 },
  { name: 'a structure holding placeholders', vars: { d: { dir: '{{ u }}' }, u: '/srv' }, input: '{{ d.dir }}/x', output: '/srv/x' },
  { name: 'undefined inside vars', vars: { a: '{{ nope }}' }, input: '/tmp/{{ a }}', output: '/tmp/{{ a }}', problems: ['a (root): undefined variable "nope"'] },
  { name: 'a loop', vars: { a: '{{ b }}', b: '{{ a }}' }, input: '/tmp/{{ a }}', output: '/tmp/{{ a }}', problems: ['a (root): variables refer to each other in a loop: a -> b -> a'] },
  { name: 'a variable naming itself', vars: { a: 'x{{ a }}' }, input: '{{ a }}', output: '{{ a }}', problems: ['a (root): variables refer to each other in a loop: a -> a'] },
  { name: 'a loop reached through a structure', vars: { a: { k: ['{{ a }}'] } }, input: '{{ a }}', output: '{{ a }}', problems: ['a (root): variables refer to each other in a loop: a -> a'] },
  { name: 'nesting past the bound', vars: chain(MAX_VAR_DEPTH + 5), input: '{{ a0 }}', output: '{{ a0 }}', problems: [`a${MAX_VAR_DEPTH} (root): variables nest more than ${MAX_VAR_DEPTH} deep: a0 -> a1`] },
  { name: 'a billion laughs', vars: laughs(9), input: '{{ l9 }}', output: '{{ l9 }}', problems: ['l6 (root): "{{ l5 }}{{ l5 }}'] },
  { name: 'a problem in a variable nobody uses is nobody\'s problem', vars: { a: '{{ nope }}', b: 'ok' }, input: '{{ b }}', output: 'ok' },
  { name: 'facts are taken literally', vars: { host_name: '{{ x }}' }, input: '{{ host_name }}', output: '{{ x }}' },
];

describe('VarScope: variables that use variables', () => {
  for (const c of scoped) {
    it(c.name, () => {
      const scope = new VarScope(c.vars, new Set(['host_name']));
      const problems: TemplateProblem[] = [];
      assert.deepEqual(renderTemplates(c.input, scope, [], problems), c.output);
      assert.equal(problems.some((p) => !p.dependent), false, 'a problem inside a variable is the variable\'s, not the step\'s');
      assert.equal(problems.length > 0, (c.problems ?? []).length > 0, 'the step knows it could not be rendered');
      const got = scope.problems.map((p) => `${p.variable} ${p.path.join('.') || '(root)'}: ${p.message}`);
      assert.equal(got.length, Math.min(1, (c.problems ?? []).length), got.join('\n'));
      (c.problems ?? []).slice(0, 1).forEach((want, i) => assert.ok(got[i]!.startsWith(want), `${got[i]} does not start with ${want}`));
    });
  }
  it(`no rendered string is longer than ${MAX_RENDERED} characters`, () => {
    const scope = new VarScope(laughs(9));
    renderTemplates('{{ l9 }}', scope, [], []);
    assert.match(scope.problems[0]!.message, new RegExp(`renders to more than ${MAX_RENDERED} characters`));
  });
});
