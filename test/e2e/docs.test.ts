// The repository documents itself: links resolve inside it, every option of every command is in the contract, each help has examples.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { fleetfix } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMMANDS = [['audit'], ['plan'], ['apply'], ['validate'], ['diagnose'], ['status'], ['schema'], ['report', 'merge']];

describe('documentation', () => {
  for (const doc of ['README.md', 'SECURITY.md', 'docs/contract.md']) {
    it(`${doc} links only to files in the repository, and they exist`, () => {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      const targets = [...text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((m) => m[1]!).filter((t) => !/^https?:/.test(t));
      for (const t of targets) {
        const path = join(ROOT, dirname(doc), t);
        assert.ok(!relative(ROOT, path).startsWith('..'), `${doc} links outside the repository: ${t}`);
        assert.ok(existsSync(path), `${doc} links to a missing file: ${t}`);
      }
      assert.doesNotMatch(text, /shared\/product/);
    });
  }

  const contract = readFileSync(join(ROOT, 'docs/contract.md'), 'utf8');
  for (const cmd of COMMANDS) {
    it(`fleetfix ${cmd.join(' ')} --help: every option is in docs/contract.md, and examples`, async () => {
      const help = await fleetfix([...cmd, '--help']);
      assert.equal(help.code, 0, help.stderr);
      const options = [...help.stdout.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!).filter((o) => o !== '--help');
      for (const o of options) assert.ok(contract.includes(o), `${o} of ${cmd.join(' ')} is not in docs/contract.md`);
      assert.match(help.stdout, /\nExamples:\n(  fleetfix .*\n)+/);
    });
  }

  it('fleetfix --help has examples and names the contract; --version is package.json\'s', async () => {
    const help = await fleetfix(['--help']);
    assert.match(help.stdout, /\nExamples:\n(  fleetfix .*\n){3,}/);
    assert.match(help.stdout, /docs\/contract\.md/);
    const version = await fleetfix(['--version']);
    assert.equal(version.stdout, `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    assert.equal(version.code, 0);
  });
});
