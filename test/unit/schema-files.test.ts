// The committed JSON Schemas (schema/*.json, used by editors) are exactly what `fleetfix schema` prints.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { inventoryJsonSchema, playbookJsonSchema } from '../../src/config/json-schema.js';
import { loadInventory } from '../../src/config/inventory.js';
import { modules } from '../../src/modules/registry.js';

const committed = (name: string) => JSON.parse(readFileSync(new URL(`../../schema/${name}.schema.json`, import.meta.url), 'utf8'));

it('schema/playbook.schema.json is current (regenerate: fleetfix schema playbook > schema/playbook.schema.json)', () => {
  assert.deepEqual(committed('playbook'), playbookJsonSchema(modules));
});

it('schema/inventory.schema.json is current (regenerate: fleetfix schema inventory > schema/inventory.schema.json)', () => {
  assert.deepEqual(committed('inventory'), inventoryJsonSchema());
});

it('inventory/example.yml loads (given the identity file it names)', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'fleetfix-home-'));
  const realHome = process.env.HOME;
  t.after(() => {
    process.env.HOME = realHome;
    rmSync(home, { recursive: true, force: true });
  });
  mkdirSync(join(home, '.ssh'));
  writeFileSync(join(home, '.ssh', 'id_ed25519'), 'placeholder: only its existence is checked at load time\n');
  process.env.HOME = home;
  const inv = loadInventory(new URL('../../inventory/example.yml', import.meta.url).pathname);
  assert.deepEqual(inv.hosts.map((h) => [h.name, h.ssh.user, h.ssh.port, h.vars.ssh_user]), [
    ['web1', 'root', 22, 'deploy'],
    ['web2', 'deploy', 22, 'deploy'],
    ['db1', 'root', 2222, 'root'],
  ]);
});
