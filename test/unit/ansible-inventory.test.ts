// Ansible inventories (INI, YAML, dynamic scripts) into fleetfix hosts, and what each refuses; fixtures as data:
// test/fixtures/ansible/*.ini|yml|sh with the hosts they must give in expected.json (groups and variables checked
// against ansible-core's own `ansible-inventory --list`), and broken or hostile inventories in errors.json.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runInventoryScript } from '../../src/config/ansible-inventory.js';
import { expandHostRange, literalValue, shlexSplit } from '../../src/config/ansible-text.js';
import { loadInventory } from '../../src/config/inventory.js';
import { project } from './ansible-project.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/ansible/', import.meta.url)).replace(/\/$/, '');
const tmp = mkdtempSync(join(tmpdir(), 'fleetfix-ansible-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// Default identities and known_hosts come from the home directory: an empty one makes them the same everywhere.
process.env.HOME = join(tmp, 'home');
process.env.WEB3_PW = 'web3-secret';
// Ansible takes a relative key file as ssh -i does: relative to the current directory.
process.chdir(FIXTURES);

const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, unknown>;

describe('Ansible inventories give the hosts Ansible would, with fleetfix settings', () => {
  for (const [file, want] of Object.entries(expected)) {
    it(file, () => assert.deepEqual(project(loadInventory(join(FIXTURES, file)), FIXTURES), want));
  }
  it('fleetfix\'s own YAML is still read as fleetfix\'s', () => {
    const file = join(tmp, 'fleetfix.yml');
    writeFileSync(file, 'groups:\n  web: { hosts: [web1], port: 2200 }\nhosts:\n  web1: { address: 192.0.2.10 }\n  db1: { address: 192.0.2.20, user: dba }\n');
    const inv = loadInventory(file);
    assert.deepEqual(inv.hosts.map((h) => [h.name, h.address, h.ssh.port, h.groups, h.sshConfig?.open]), [
      ['web1', '192.0.2.10', 2200, ['web'], ['user', 'identity', 'knownHosts', 'hostKeyPolicy', 'jump']],
      ['db1', '192.0.2.20', 22, [], ['port', 'identity', 'knownHosts', 'hostKeyPolicy', 'jump']],
    ]);
  });
  it('a YAML file with the executable bit but no #! is read, not run', () => {
    const file = join(tmp, 'inv.yml');
    writeFileSync(file, 'all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.9\n');
    chmodSync(file, 0o755);
    assert.deepEqual(loadInventory(file).hosts.map((h) => h.address), ['192.0.2.9']);
  });
  it('an INI file without extension is recognized from its first line', () => {
    const file = join(tmp, 'hosts');
    writeFileSync(file, '# comment\nh1 ansible_host=192.0.2.7\n[web]\nh2\n');
    assert.deepEqual(loadInventory(file).hosts.map((h) => [h.name, h.address, h.groups]), [['h1', '192.0.2.7', []], ['h2', 'h2', ['web']]]);
  });
});

const errors = JSON.parse(readFileSync(join(FIXTURES, 'errors.json'), 'utf8')) as { cases: { name: string; file: string; text: string; error: string; secret?: string }[] };

describe('broken and hostile inventories are refused with where and why', () => {
  for (const c of errors.cases) {
    it(c.name, () => {
      const path = join(tmp, c.file);
      writeFileSync(path, c.text);
      assert.throws(() => loadInventory(path), (err: Error) => {
        const msg = err.message.replaceAll(`${tmp}/`, '');
        assert.ok(msg.includes(c.error), `got: ${msg}`);
        if (c.secret) assert.ok(!msg.includes(c.secret), `the secret is in: ${msg}`);
        assert.equal(err.name.startsWith('ConfigError'), true, `${err.name}: ${err.stack}`);
        return true;
      });
    });
  }
});

describe('dynamic inventories that fail say so', () => {
  const script = (name: string, body: string) => {
    const file = join(tmp, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const cases: [string, string, RegExp, { timeoutMs?: number; maxBytes?: number }?][] = [
    ['exits non-zero', 'echo "cannot reach the CMDB" >&2; exit 3', /inventory script \S+ --list: exited with 3: cannot reach the CMDB$/],
    ['prints no JSON', 'echo "[web]"; echo "h1"', /inventory script \S+ --list: its output is not JSON: /],
    ['prints a list', 'echo "[1, 2]"', /--list: expected a JSON object of groups, got a list/],
    ['prints too much', 'head -c 3000 /dev/zero | tr "\\0" " "; echo "{}"', /--list: printed more than 2048 bytes; stopped it/, { maxBytes: 2048 }],
    ['never ends', 'exec sleep 30', /--list: still running after 0.3 s; stopped it/, { timeoutMs: 300 }],
    ['gives bad host vars', 'case "$1" in --list) echo \'{"web": ["h1"]}\';; --host) echo \'{"ansible_port": "x"}\';; esac', /--host h1\.ansible_port: ansible_port: expected a whole number from 1 to 65535, got "x"/],
    ['names a hostile host', 'echo \'{"web": ["-oProxyCommand=x"]}\'', /group "web": host "-oProxyCommand=x": expected a host name/],
  ];
  for (const [name, body, want, limits] of cases) {
    it(name, () => {
      const file = script(`${name.replace(/\s/g, '-')}.sh`, body);
      const run = () => (limits ? runInventoryScript(file, { timeoutMs: 10_000, maxBytes: 4 << 20, ...limits }) && loadInventory(file) : loadInventory(file));
      assert.throws(limits ? () => runInventoryScript(file, { timeoutMs: 10_000, maxBytes: 4 << 20, ...limits }) : run, (err: Error) => {
        assert.match(err.message, want);
        assert.equal(err.name, 'ConfigError');
        return true;
      });
    });
  }
  it('a script without the executable bit is not run', () => {
    const file = join(tmp, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\ntouch "$0.ran"\necho "{}"\n');
    assert.throws(() => loadInventory(file));
    assert.throws(() => readFileSync(`${file}.ran`), /ENOENT/);
  });
});

describe('the languages inside an inventory', () => {
  // Python's shlex.split(line, comments=True) and ast.literal_eval gave these.
  const words: [string, string[]][] = [
    ['a b#c d', ['a', 'b']],
    ['x=\'a b\' y="c\\"d" z=e\\ f', ['x=a b', 'y=c"d', 'z=e f']],
    ['h ansible_password="{{ lookup(\'env\', \'P\') }}"', ['h', "ansible_password={{ lookup('env', 'P') }}"]],
    ['h v=\'$HOME\' w="$(id)"', ['h', 'v=$HOME', 'w=$(id)']],
    ['h e=""', ['h', 'e=']],
  ];
  for (const [line, want] of words) it(`shlex ${line}`, () => assert.deepEqual(shlexSplit(line).map((w) => w.text), want));
  const values: [string, unknown][] = [['010', '010'], ['0', 0], ['-3', -3], ['1.5', 1.5], ['True', true], ['"x"', 'x'], ["'a\\nb'", 'a\nb'], ['[1, "a"]', [1, 'a']], ['1e3', 1000], ['abc', 'abc'], ['yes', 'yes']];
  for (const [text, want] of values) it(`literal ${text}`, () => assert.deepEqual(literalValue(text), want));
  const ranges: [string, string[]][] = [
    ['www[01:03].example.com', ['www01.example.com', 'www02.example.com', 'www03.example.com']],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c']],
    ['h[1:10:4]', ['h1', 'h5', 'h9']],
    ['r[1:2]c[a:b]', ['r1ca', 'r1cb', 'r2ca', 'r2cb']],
    ['[:1]x', ['0x', '1x']],
  ];
  for (const [pattern, want] of ranges) it(`range ${pattern}`, () => assert.deepEqual(expandHostRange(pattern, 1000), want));
});
