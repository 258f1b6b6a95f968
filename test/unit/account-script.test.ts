// sshd_user's account lines, run by this machine's sh on real files: which shadow passwords count as locked (sshd's
// "!" prefix on Linux: "!!" too, "*" not), which shells sshd can run, and whether the home exists.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRecords } from '../../src/facts/records.js';
import { accountScript } from '../../src/modules/sshd-user-account.js';
import { CommandTransport } from '../../src/transport/command.js';
import { shq } from '../../src/util/shell.js';

const sh = CommandTransport.local(false, 10_000);
const root = mkdtempSync('/tmp/fleetfix-account-');

before(() => {
  mkdirSync(join(root, 'home'));
  writeFileSync(join(root, 'shell'), '#!/bin/sh\n');
  chmodSync(join(root, 'shell'), 0o755);
  writeFileSync(join(root, 'no-exec'), '#!/bin/sh\n');
  chmodSync(join(root, 'no-exec'), 0o644);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** The records accountScript prints for a passwd entry (shell, home under the tree) and a shadow password field. */
async function account(shell: string, home: string, password: string): Promise<Map<string, string[]>> {
  const fake = `getent() { [ "$1" = shadow ] && printf '%s\\n' ${shq(`deploy:${password}:19000:0:99999:7:::`)}; }`;
  const r = await sh.exec(`${fake}\nset -- deploy x 1000 1000 '' ${shq(home.replace(/^R/, root))} ${shq(shell.replace(/^R/, root))}\n${accountScript('deploy')}`);
  assert.equal(r.code, 0, r.stderr);
  return parseRecords(r.stdout);
}

const LOCKED: [string, boolean][] = [
  ['!$6$salt$hash', true],
  ['!!', true],
  ['!', true],
  ['!*', true],
  ['*', false],
  ['*LK*', false],
  ['', false],
  ['$6$salt$hash', false],
];

describe('accountScript: locked as sshd judges it on Linux (LOCKED_PASSWD_PREFIX "!")', () => {
  for (const [password, locked] of LOCKED) {
    it(`${JSON.stringify(password)} ${locked ? 'is' : 'is not'} locked`, async () => {
      assert.equal((await account('R/shell', 'R/home', password)).has('locked'), locked);
    });
  }
});

const SHELLS: [string, string, boolean][] = [
  ['an executable file', 'R/shell', true],
  ['an empty field (sshd runs /bin/sh)', '', true],
  ['a file without an execute bit', 'R/no-exec', false],
  ['a directory', 'R/home', false],
  ['a path that does not exist', 'R/nosuch', false],
];

describe('accountScript: the login shell sshd can run (allowed_user: stat, a regular file, an execute bit)', () => {
  for (const [name, shell, ok] of SHELLS) {
    it(name, async () => assert.equal((await account(shell, 'R/home', '*')).has('shell_ok'), ok));
  }
});

describe('accountScript: the home', () => {
  it('a directory that exists', async () => assert.ok(!(await account('R/shell', 'R/home', '*')).has('home_missing')));
  it('a home that does not exist', async () => assert.ok((await account('R/shell', 'R/nosuch', '*')).has('home_missing')));
  it('a home that is a file', async () => assert.ok((await account('R/shell', 'R/shell', '*')).has('home_missing')));
});
