// Hostile YAML and hostile files: every refusal is a ConfigError with file:line:column, never a crash or a hang (test/fixtures/config/yaml-cases.json).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, ConfigErrors } from '../../src/config/errors.js';
import { loadInventory, MAX_INVENTORY_BYTES } from '../../src/config/inventory.js';
import { loadPlaybook, MAX_PLAYBOOK_BYTES } from '../../src/config/playbook.js';
import { YamlSource } from '../../src/config/yaml-source.js';
import { modules } from '../../src/modules/registry.js';

const cases = JSON.parse(readFileSync(new URL('../fixtures/config/yaml-cases.json', import.meta.url), 'utf8')) as { name: string; text: string; error?: string }[];

function errorOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ConfigError || err instanceof ConfigErrors, `not an input error: ${(err as Error).stack}`);
    return err.message;
  }
}

describe('YAML that means more than it says is refused where it is', () => {
  for (const c of cases) {
    it(c.name, () => {
      const error = errorOf(() => YamlSource.fromText('x.yml', c.text).value());
      if (c.error === undefined) assert.equal(error, undefined);
      else assert.ok(error?.startsWith(c.error), `expected "${c.error}..." got ${error}`);
    });
  }
});

const dir = mkdtempSync(join(tmpdir(), 'fleetfix-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('only a regular file of bounded size is read', () => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const big = (name: string, bytes: number) => {
    const path = join(dir, name);
    writeFileSync(path, `# ${'x'.repeat(bytes - 3)}\n`);
    return path;
  };
  const files: [string, () => unknown, string][] = [
    ['a FIFO as the inventory (never opened for a blocking read)', () => loadInventory(fifo), `cannot read ${fifo}: expected a regular file, found a FIFO`],
    ['a FIFO as a playbook', () => loadPlaybook(fifo, [...modules.keys()]), `cannot read ${fifo}: expected a regular file, found a FIFO`],
    ['a directory', () => loadInventory(dir), `cannot read ${dir}: expected a regular file, found a directory`],
    ['a device', () => loadInventory('/dev/zero'), 'cannot read /dev/zero: expected a regular file, found a device'],
    ['a playbook one byte over the cap', () => loadPlaybook(big('big.yml', MAX_PLAYBOOK_BYTES + 1), [...modules.keys()]), `it is ${MAX_PLAYBOOK_BYTES + 1} bytes; expected at most ${MAX_PLAYBOOK_BYTES} (1 MiB)`],
    ['an inventory one byte over the cap', () => loadInventory(big('inv.yml', MAX_INVENTORY_BYTES + 1)), `it is ${MAX_INVENTORY_BYTES + 1} bytes; expected at most ${MAX_INVENTORY_BYTES} (4 MiB)`],
    ['a playbook right at the cap is read (and judged on its content)', () => loadPlaybook(big('cap.yml', MAX_PLAYBOOK_BYTES), [...modules.keys()]), 'cap.yml:1:1: expected a mapping'],
  ];
  for (const [name, load, error] of files) {
    it(name, () => {
      const message = errorOf(load);
      assert.ok(message?.includes(error), `expected "${error}" in ${message}`);
    });
  }
});
