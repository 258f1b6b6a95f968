// What authorized_key reads of a user's files as the user is bounded, every AuthorizedKeysFile alike: run by this machine's sh.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { userAccount } from '../../src/modules/account-facts.js';
import { modules } from '../../src/modules/registry.js';
import { FILE_READ_LIMIT } from '../../src/modules/safe-fs.js';
import { judgedConnection } from '../../src/modules/sshd-effective.js';
import { sshdEffective } from '../../src/modules/sshd-facts.js';
import { CommandTransport } from '../../src/transport/command.js';
import { shq } from '../../src/util/shell.js';

const sh = CommandTransport.local(false, 30_000);
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP operator';
// Under /run: root's and 0755, so that nothing on the way to the files is refused.
const work = mkdtempSync('/run/fleetfix-bounded-');
chmodSync(work, 0o755);
after(() => rmSync(work, { recursive: true, force: true }));

/** The file sshd's second AuthorizedKeysFile names: `filler` bytes of other keys' lines, then the operator's key. */
function second(name: string, filler: number): string {
  const path = join(work, name);
  writeFileSync(path, `${'#'.repeat(filler - 1)}\n${KEY}\n`);
  return path;
}

/** Where authorized_key finds the key, for sshd -T saying AuthorizedKeysFile `files` (the account's facts real). */
async function whereFound(files: string[]): Promise<string | undefined> {
  const module = modules.get('authorized_key')!;
  const params = module.params.parse({ user: 'root', key: KEY }) as { user: string };
  const keys = module.facts!(params).keys!;
  const script = [
    `${userAccount('root').variable}=$(${userAccount('root').script}\n)`,
    `${sshdEffective(judgedConnection(params)).variable}=${shq(`effective=authorizedkeysfile ${files.join(' ')}`)}`,
    keys.script,
  ].join('\n');
  const r = await sh.exec(script);
  assert.equal(r.code, 0, r.stderr);
  return /^file=(.*)$/m.exec(r.stdout)?.[1];
}

describe('the second AuthorizedKeysFile is searched for the key no further than the first is read', () => {
  const first = join(work, 'authorized_keys');
  writeFileSync(first, '');
  const cases: [string, number, 'second' | 'first'][] = [
    ['the key within the read limit: the file that holds it', 1000, 'second'],
    ['the key past the read limit: not searched for there', FILE_READ_LIMIT + 4096, 'first'],
  ];
  for (const [name, filler, want] of cases) {
    it(name, async () => {
      const path = second(`authorized_keys2-${filler}`, filler);
      assert.equal(await whereFound([first, path]), want === 'first' ? first : path);
    });
  }
});
