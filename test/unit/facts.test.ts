// Named facts: one per name and arguments, a fact after those it reads, and one round trip that hands each check its own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PLAYBOOK } from '../../src/cli/run-command.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import { simSpecs } from '../fake/sim-host.js';
import { execBatch } from '../../src/engine/batch.js';
import { factRound } from '../../src/engine/phases/gather.js';
import { prepareJobs } from '../../src/engine/prepare.js';
import { defineFact, gatherOrder } from '../../src/facts/fact.js';
import { modules } from '../../src/modules/registry.js';
import { CommandTransport } from '../../src/transport/command.js';

const word = defineFact<{ text: string; times?: number }>({ name: 'test.word', script: ({ text }) => `echo ${text}` });
const shout = defineFact<string>({ name: 'test.shout', after: (text) => [word({ text })], script: (text) => `printf '%s\\n' "$${word({ text }).variable}" | tr a-z A-Z` });

describe('facts', () => {
  it('one key for equal arguments, whatever their order or unset fields', () => {
    assert.equal(word({ text: 'a', times: undefined }).key, word({ text: 'a' }).key);
    assert.equal(defineFact<{ a: number; b: number }>({ name: 'x', script: () => '' })({ a: 1, b: 2 }).key, defineFact<{ b: number; a: number }>({ name: 'x', script: () => '' })({ b: 2, a: 1 }).key);
    assert.notEqual(word({ text: 'a' }).key, word({ text: 'b' }).key);
    assert.match(word({ text: 'a' }).variable, /^ff_fact_[0-9a-f]{16}$/);
  });

  it('gather order: each fact once, after the facts it reads', () => {
    const order = gatherOrder([shout('a'), word({ text: 'b' }), word({ text: 'a' }), shout('a')]);
    assert.deepEqual(order.map((u) => u.key), [word({ text: 'a' }).key, shout('a').key, word({ text: 'b' }).key]);
  });

  it("the bundled playbook reads sshd's effective configuration once per host: one sshd -T -C for every check that reads it", () => {
    const [job] = prepareJobs(simSpecs(1), [loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()])], { authorized_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP operator' });
    const round = factRound([...job!.checks, ...job!.handlers]);
    // sshd -T for a user's connection (-C): the costly part of a gather (a service's facts run a plain one only under socket activation).
    const sshdT = round.uses.filter((u) => u.script.includes('ff_sshd -T ${ff_spec:+-C'));
    assert.deepEqual(sshdT.map((u) => u.key), ['sshd.effective {"lport":22,"user":"root"}']);
    const readers = [...job!.checks].filter((s) => s.module.facts && Object.values(s.module.facts(s.params)).some((u) => u.key === sshdT[0]!.key || u.after.some((a) => a.key === sshdT[0]!.key)));
    assert.deepEqual(readers.map((s) => s.step.id), ['sshd-config', 'host-keys', 'sshd-user', 'nologin', 'pam-account', 'authorized-key']);
    // The service's state is one fact for the check and the handler.
    assert.equal(round.uses.filter((u) => u.key.startsWith('service.state')).length, 1);
  });

  it('on a real sh, one round trip: a fact read by another is kept on the host, and each check gets its facts by name', async () => {
    const steps = [word({ text: 'hello' }), shout('hello')].map((u, i) => ({ step: { id: `s${i}` }, module: { name: 'test', facts: () => ({ mine: u }) }, params: undefined }));
    const round = factRound(steps as never);
    assert.equal(round.scripts.length, 2);
    const answers = await execBatch(CommandTransport.local(false, 10_000), round.scripts, { stopOnError: false });
    const facts = round.facts(answers);
    assert.deepEqual(steps.map((s) => facts.get(s as never)?.mine?.stdout), ['hello\n', 'HELLO\n']);
  });

  it("a kept fact's script may hold case patterns and its own subshells (sh parses it inside the command substitution)", async () => {
    const tricky = defineFact<undefined>({ name: 'test.tricky', script: () => `case x in x) echo one ;; esac\n( echo two )\necho "$(( 1 + 2 ))"` });
    const reader = defineFact<undefined>({ name: 'test.reader', after: () => [tricky(undefined)], script: () => `printf '%s\\n' "$${tricky(undefined).variable}" | wc -l` });
    const round = factRound([{ step: { id: 'r' }, module: { name: 'test', facts: () => ({ r: reader(undefined) }) }, params: undefined }] as never);
    const answers = await execBatch(CommandTransport.local(false, 10_000), round.scripts, { stopOnError: false });
    assert.deepEqual(answers.map((a) => [a.code, a.stdout.trim()]), [[0, 'one\ntwo\n3'], [0, '3']]);
  });
});
