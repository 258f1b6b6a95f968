// Inventory resolution: layers merge as documented, paths and secret files are relative to the inventory; inputs that
// could mean another host, user, port or file are refused where they are written.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, ConfigErrors } from '../../src/config/errors.js';
import { loadCheckedInventory, loadInventory } from '../../src/config/inventory.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import { prepareJobs } from '../../src/engine/prepare.js';
import { modules } from '../../src/modules/registry.js';
import { redact } from '../../src/config/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetfix-inv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('merges defaults, then groups, then the host; resolves files against the inventory; masks secrets', () => {
  writeFileSync(join(dir, 'key'), 'not parsed at load time');
  writeFileSync(join(dir, 'pw.txt'), 's3cret-value\n');
  writeFileSync(
    join(dir, 'inv.yml'),
    [
      'defaults:',
      '  user: root',
      '  identity: key',
      '  known_hosts: kh',
      '  vars: { a: 1, b: 1 }',
      '  console: { user: admin, password: { file: pw.txt } }',
      'groups:',
      '  web:',
      '    hosts: [w1]',
      '    port: 2222',
      '    vars: { b: 2 }',
      'hosts:',
      '  w1: { address: 192.0.2.1, vars: { c: 3 }, console: { tcp: "127.0.0.1:7001" } }',
      '  d1: { fallback: [ { port: 2200 }, { user: backup } ] }',
    ].join('\n'),
  );
  const inv = loadInventory(join(dir, 'inv.yml'));
  const [w1, d1] = inv.hosts;
  assert.deepEqual([w1!.ssh.port, w1!.vars, w1!.groups], [2222, { a: 1, b: 2, c: 3 }, ['web']]);
  assert.deepEqual([d1!.address, d1!.ssh.port, d1!.vars, d1!.console], ['d1', 22, { a: 1, b: 1 }, undefined]);
  assert.equal(w1!.ssh.identities[0], join(dir, 'key'));
  assert.equal(w1!.knownHosts, join(dir, 'kh'));
  assert.deepEqual([w1!.console?.tcp, w1!.console?.user, w1!.console?.password], [{ host: '127.0.0.1', port: 7001 }, 'admin', 's3cret-value']);
  assert.deepEqual(d1!.fallbacks.map((f) => [f.label, f.port, f.user]), [['fallback 1 (port 2200)', 2200, 'root'], ['fallback 2 (user backup)', 22, 'backup']]);
  assert.equal(redact('password is s3cret-value here'), 'password is *** here');
});

it("a problem inside an inventory variable points at where the host got it", () => {
  writeFileSync(join(dir, 'vars.yml'), ['defaults:', '  vars: { dir: "/srv/{{ nope }}" }', 'hosts:', '  h1: { address: 192.0.2.1 }'].join('\n'));
  writeFileSync(join(dir, 'pb.yml'), ['name: p', 'checks:', '  - id: f', '    file: { path: "{{ dir }}" }'].join('\n'));
  const inv = loadInventory(join(dir, 'vars.yml'));
  assert.throws(() => prepareJobs(inv.hosts, [loadPlaybook(join(dir, 'pb.yml'), [...modules.keys()])], {}), (err: Error) =>
    err.message.startsWith(`${join(dir, 'vars.yml')}:2:16: vars.dir: undefined variable "nope"`),
  );
});

// Each input that could reach a socket, ssh's argv or a console as something else, in each inventory format
// (test/fixtures/config/inventory-inputs.json): refused where it is written, or accepted with the addresses it gives.
const inputs = JSON.parse(readFileSync(new URL('../fixtures/config/inventory-inputs.json', import.meta.url), 'utf8')) as { cases: { name: string; file: string; text: string; error?: string; addresses?: string[] }[] };

describe('inventory inputs mean one thing, or are refused with file:line:column', () => {
  process.env.FLEETFIX_TEST_TWO_LINES = 'first\nsecond';
  for (const c of inputs.cases) {
    it(c.name, async () => {
      const path = join(dir, c.file);
      writeFileSync(path, c.text, { mode: 0o755 });
      chmodSync(path, c.file.endsWith('.sh') ? 0o755 : 0o644);
      const loaded = loadCheckedInventory(path);
      if (c.addresses) return assert.deepEqual((await loaded).hosts.map((h) => h.address), c.addresses);
      await assert.rejects(loaded, (err: Error) => {
        assert.ok(err instanceof ConfigError || err instanceof ConfigErrors, String(err));
        const message = err.message.replaceAll(`${dir}/`, '');
        assert.ok(message.includes(c.error!), `expected\n  ${c.error}\nin\n  ${message}`);
        assert.ok(!message.includes('second'), 'no secret in the message');
        return true;
      });
    });
  }
});
