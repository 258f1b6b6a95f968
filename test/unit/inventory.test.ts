// Inventory resolution: layers merge as documented, paths and secret files are relative to the inventory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { loadInventory } from '../../src/config/inventory.js';
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
