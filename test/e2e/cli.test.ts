// The command line without a fleet: validate, schema, bad input (exit 1, file:line:col), and the local inventory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { fleetfix, hostResult } from './helpers.js';
import { DEFAULT_PLAYBOOK } from '../../src/cli/run-command.js';

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

  it("validate warns of --limit's removed range subscript, as Ansible does, and goes on", async () => {
    const run = await fleetfix(['validate', '-i', inventory, '--limit', 'web[0-1]']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ok: 2 hosts/m);
    assert.equal(run.stderr, 'fleetfix: warning: --limit "web[0-1]": use [x:y] inclusive subscripts instead of [x-y], which has been removed; it is read as "web[0:1]", hosts 0 to 1 of "web" (counted from 0), not as a glob\n');
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
    assert.deepEqual(Object.keys(playbook.properties.checks.items.properties).sort(), ['authorized_key', 'file', 'firewall', 'host_keys', 'id', 'ip_ban', 'listening', 'log_scan', 'nologin', 'notify', 'pam_account', 'service', 'ssh_login', 'sshd_config', 'sshd_user', 'tcp_wrappers', 'title', 'when']);
    assert.equal(playbook.properties.checks.items.additionalProperties, false);
    const inv = JSON.parse((await fleetfix(['schema', 'inventory'])).stdout);
    assert.ok(inv.properties.hosts);
    assert.equal((await fleetfix(['schema', 'nonsense'])).code, 1);
  });
});

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP';

/** Where the bundled playbook holds the value of `key` in the check `id`, as an error names it: FILE:LINE:COLUMN: checks[N]. */
function inBundledPlaybook(id: string, key: string): string {
  const text = readFileSync(DEFAULT_PLAYBOOK, 'utf8');
  const checks = (parse(text) as { checks: { id: string }[] }).checks;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.includes(`id: ${id}`));
  const line = lines.findIndex((l, i) => i > start && new RegExp(`\\b${key}: `).test(l));
  const column = new RegExp(`\\b${key}: `).exec(lines[line]!)!.index + key.length + 3;
  return `${DEFAULT_PLAYBOOK}:${line + 1}:${column}: checks[${checks.findIndex((c) => c.id === id)}]`;
}

describe('hostile input: exit 1, the place and what was expected, no stack trace, nothing run', () => {
  const fifo = join(work, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // The inventory rows use loopback addresses only: had a check let one through, plan and apply would touch nothing else.
  const inv = (name: string, text: string) => ['-i', file(name, text)];
  const cases: { name: string; args: () => string[]; error: () => string; apply?: boolean }[] = [
    {
      name: 'a second key smuggled into --var authorized_key',
      args: () => ['--var', `authorized_key=${KEY} operator\n${KEY} intruder`],
      error: () => `${inBundledPlaybook('authorized-key', 'key')}.authorized_key.key: expected one OpenSSH public key line`,
    },
    { name: 'options smuggled into --var authorized_key', args: () => ['--var', `authorized_key=command="/bin/sh" ${KEY}`], error: () => 'it starts with options (command="/bin/sh"); give them in "options:" and the key alone in "key:" (from --var authorized_key)' },
    { name: 'a key whose data names another type', args: () => ['--var', `authorized_key=ssh-rsa ${KEY.split(' ')[1]}`], error: () => 'the key data names ssh-ed25519, but the line says ssh-rsa (from --var authorized_key)' },
    { name: 'an sshd_config value with a newline, through --var', args: () => ['--var', 'ssh_port=22\nPermitRootLogin yes'], error: () => `${inBundledPlaybook('sshd-config', 'Port')}.sshd_config.Port: expected a value on one line without control characters; found a newline (U+000A) at character 3 (from --var ssh_port)` },
    { name: 'a user name with a newline, through --var', args: () => ['--var', 'ssh_user=root\nx'], error: () => 'found a newline (U+000A) at character 5; a value is one line without control characters (from --var ssh_user)' },
    {
      name: 'an sshd_config value with a newline, in the playbook',
      args: () => [file('sshd-nl.yml', 'name: s\nchecks:\n  - id: s\n    sshd_config: { PubkeyAuthentication: "yes\\nPort 2200" }\n')],
      error: () => `${join(work, 'sshd-nl.yml')}:4:42: checks[0].sshd_config.PubkeyAuthentication: expected a value on one line`,
    },
    { name: 'a loop inside vars', args: () => [file('loop.yml', 'name: l\nvars: { a: "{{ b }}", b: "{{ a }}" }\nchecks:\n  - id: f\n    file: { path: "/tmp/{{ a }}" }\n')], error: () => `${join(work, 'loop.yml')}:2:12: vars.a: variables refer to each other in a loop: a -> b -> a` },
    { name: 'an alias to no anchor', args: () => [file('alias.yml', 'name: a\nvars: { a: *nope }\nchecks:\n  - id: l\n    listening: {}\n')], error: () => `${join(work, 'alias.yml')}:2:12: unknown alias *nope` },
    { name: 'a NUL in a value', args: () => [file('nul.yml', 'name: n\nchecks:\n  - id: f\n    file: { path: "/tmp/a\\0b" }\n')], error: () => `${join(work, 'nul.yml')}:4:19: a NUL character in a value` },
    {
      name: "a path whose {{ }} renders to a '..' component (the parent of a home)",
      args: () => [file('dotdot.yml', 'name: d\nchecks:\n  - id: f\n    file: { path: "/home/{{ who }}/..", type: directory, owner: "{{ who }}" }\n'), '--var', 'who=deploy'],
      error: () => `${join(work, 'dotdot.yml')}:4:19: checks[0].file.path: expected an absolute path or one starting with ~ or ~user; got "/home/deploy/..": a ".." component`,
    },
    { name: 'a FIFO as the inventory', args: () => ['-i', fifo], error: () => `cannot read ${fifo}: expected a regular file, found a FIFO` },
    {
      name: 'an address with a fullwidth digit (NFKC would make it another host)',
      args: () => inv('fullwidth.yml', 'hosts:\n  web1: { address: "127.0.0.1\uff11" }\n'),
      error: () => `${join(work, 'fullwidth.yml')}:2:20: hosts.web1.address: expected an IP address or DNS name; found "\uff11" (U+FF11) at character 10, which Unicode normalisation (NFKC) turns into "1": "127.0.0.1\uff11" would then be "127.0.0.11", another host`,
      apply: true,
    },
    {
      name: 'a host name that is not ASCII and no address',
      args: () => inv('snowman.yml', 'hosts:\n  "h\u00f4st-\u2603": {}\n'),
      error: () => `${join(work, 'snowman.yml')}:2:3: host "h\u00f4st-\u2603" has no "address:", so fleetfix connects to its name: found "\u00f4" (U+00F4) at character 2; an address is ASCII`,
      apply: true,
    },
    {
      name: 'an address in octal',
      args: () => inv('octal.yml', 'hosts:\n  web1: { address: 0177.0.0.1 }\n'),
      error: () => `${join(work, 'octal.yml')}:2:20: hosts.web1.address: expected an IP address or DNS name; "0177.0.0.1" is not an IPv4 address in canonical form: the system's resolver (inet_aton, used by ssh and by fleetfix's connect) reads it as 127.0.0.1`,
      apply: true,
    },
    {
      name: 'two host names that look alike',
      args: () => inv('twins.yml', 'hosts:\n  web1: { address: 127.0.0.1 }\n  w\u0435b1: { address: 127.0.0.2 }\n'),
      error: () => `${join(work, 'twins.yml')}:3:3: host "w\u0435b1" looks like host "web1" (${join(work, 'twins.yml')}:2:3): Unicode lists their characters as confusable`,
      apply: true,
    },
    {
      name: "--limit with Ansible's removed range subscript",
      args: () => ['--limit', 'h[1-2]'],
      error: () => 'fleetfix: --limit: no host or group matches "h[1-2]" (patterns: names, globs (* ? [abc] [!a-c]), ~regex, group[0] or group[0:2], joined by "," or ":", with &TERM to intersect and !TERM to exclude); "h[1-2]": use [x:y] inclusive subscripts instead of [x-y], which has been removed',
    },
    { name: 'a 50 MB playbook', args: () => [file('big.yml', `name: big\n# ${'x'.repeat(50 * 1024 * 1024)}\n`)], error: () => `cannot read ${join(work, 'big.yml')}: it is 52428813 bytes; expected at most 1048576 (1 MiB)` },
  ];
  for (const c of cases) {
    for (const command of ['validate', 'plan', ...(c.apply ? ['apply'] : [])]) {
      it(`${command}: ${c.name}`, async () => {
        const args = c.args();
        const run = await fleetfix([command, ...(args.includes('-i') ? [] : ['-i', inventory]), ...args, ...(command === 'apply' ? ['--yes'] : [])]);
        assert.equal(run.code, 1, run.stderr);
        assert.ok(run.stderr.includes(c.error()), `expected\n  ${c.error()}\nin\n  ${run.stderr}`);
        assert.doesNotMatch(run.stderr, /internal error|\n\s+at /);
        assert.equal(run.stdout, '');
      });
    }
  }
});

describe('the local inventory (no -i)', () => {
  it('audits this machine locally, without SSH', async () => {
    const run = await fleetfix(['audit', '--output', 'json', '--var', 'ssh_user=root']);
    assert.ok(run.code === 0 || run.code === 2, `exit ${run.code}: ${run.stderr}`);
    const local = hostResult(run, 'localhost');
    assert.equal(local.access, 'local');
    assert.equal(local.checks.length, 16);
    assert.equal(local.checks.find((c) => c.id === 'authorized-key')!.status, 'skipped', 'no key given: the key check is skipped');
  });
});
