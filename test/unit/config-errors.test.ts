// Bad input: every error names file:line:column and what was expected (table in test/fixtures/config/cases.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, ConfigErrors } from '../../src/config/errors.js';
import { loadInventory } from '../../src/config/inventory.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import { prepareJobs } from '../../src/engine/prepare.js';
import { localInventory } from '../../src/config/inventory.js';
import { modules } from '../../src/modules/registry.js';

const dir = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const cases = JSON.parse(readFileSync(`${dir}cases.json`, 'utf8')) as { file: string; kind: 'inventory' | 'playbook'; vars?: Record<string, string>; error: string }[];

function load(kind: 'inventory' | 'playbook', path: string, vars: Record<string, string> = {}): void {
  if (kind === 'inventory') loadInventory(path);
  else prepareJobs(localInventory().hosts, [loadPlaybook(path, [...modules.keys()])], vars);
}

describe('config errors point at file:line:column', () => {
  for (const c of cases) {
    it(`${c.file}${c.vars ? ` with --var ${Object.keys(c.vars).join(', ')}` : ''}`, () => {
      let message = '';
      try {
        load(c.kind, `${dir}${c.file}`, c.vars);
      } catch (err) {
        assert.ok(err instanceof ConfigError || err instanceof ConfigErrors, `unexpected ${String(err)}`);
        message = err.message;
      }
      assert.ok(message.includes(c.error.startsWith('--var') ? c.error : `${dir}${c.error}`), `expected\n  ${c.error}\nin\n  ${message.replaceAll(dir, '')}`);
    });
  }
});
