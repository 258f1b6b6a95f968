// The command line without a fleet: validate, schema, bad input (exit 1, file:line:col), and the local inventory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fleetfix, hostResult } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'fleetfix-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
};
const inventory = file('inventory.yml', 'defaults:\n  user: root\ngroups:\n  web:\n    hosts: [web1, web2]\nhosts:\n  web1: { address: 192.0.2.1 }\n  web2: { address: 192.0.2.2 }\n  db1: { address: 192.0.2.3 }\n');

describe('fleetfix validate and schema', () => {
  it('validate accepts the bundled playbook and an inventory, connecting to nothing', async () => {
    const run = await fleetfix(['validate', '-i', inventory, '--var', 'authorized_key=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP x']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ok: 3 hosts, 1 playbook, \d+ steps$/m);
  });

  it('validate honours --limit', async () => {
    const run = await fleetfix(['validate', '-i', inventory, '--limit', 'web']);
    assert.match(run.stdout, /^ok: 2 hosts/m);
  });

  it('an unquoted mode is refused with file:line:col, a hint and exit 1', async () => {
    const playbook = file('bad.yml', 'name: bad\nchecks:\n  - id: d\n    file: { path: /root/.ssh, mode: 0700 }\n');
    const run = await fleetfix(['validate', '-i', inventory, playbook]);
    assert.equal(run.code, 1);
    assert.ok(run.stderr.includes(`${playbook}:4:37: checks[0].file.mode: expected a quoted octal string like "0700"; YAML read this as the number 700: write "0700" in quotes (for host web1 and 2 more)`), run.stderr);
  });

  it('an undefined variable is reported once for all hosts', async () => {
    const playbook = file('undef.yml', 'name: u\nchecks:\n  - id: d\n    file: { path: "~{{ who }}/.ssh" }\n');
    const run = await fleetfix(['plan', '-i', inventory, playbook]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /undef\.yml:4:19: undefined variable "who" .*\(for host web1 and 2 more\)/);
    assert.equal(run.stderr.match(/undefined variable/g)?.length, 1);
  });

  it('a bad --var, a bad --forks and an unknown --limit are exit 1', async () => {
    for (const args of [['--var', '1x=y'], ['--forks', '0'], ['--limit', 'nosuch'], ['--var', 'k=@/nonexistent/file']]) {
      const run = await fleetfix(['audit', '-i', inventory, ...args]);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^fleetfix: /m);
    }
  });

  it('a missing inventory file is exit 1', async () => {
    const run = await fleetfix(['audit', '-i', join(work, 'nope.yml')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot read .*nope\.yml: ENOENT/);
  });

  it('schema prints draft-07 JSON Schemas for playbook and inventory', async () => {
    const playbook = JSON.parse((await fleetfix(['schema', 'playbook'])).stdout);
    assert.equal(playbook.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.deepEqual(Object.keys(playbook.properties.checks.items.properties).sort(), ['authorized_key', 'file', 'firewall', 'id', 'listening', 'log_scan', 'notify', 'service', 'sshd_config', 'title', 'when']);
    assert.equal(playbook.properties.checks.items.additionalProperties, false);
    const inv = JSON.parse((await fleetfix(['schema', 'inventory'])).stdout);
    assert.ok(inv.properties.hosts);
    assert.equal((await fleetfix(['schema', 'nonsense'])).code, 1);
  });
});

describe('the local inventory (no -i)', () => {
  it('audits this machine locally, without SSH', async () => {
    const run = await fleetfix(['audit', '--output', 'json', '--var', 'ssh_user=root']);
    assert.ok(run.code === 0 || run.code === 2, `exit ${run.code}: ${run.stderr}`);
    const local = hostResult(run, 'localhost');
    assert.equal(local.access, 'local');
    assert.equal(local.checks.length, 9);
    assert.equal(local.checks.find((c) => c.id === 'authorized-key')!.status, 'skipped', 'no key given: the key check is skipped');
  });
});
