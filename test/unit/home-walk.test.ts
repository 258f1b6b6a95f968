// The walk to a user's home, run by this machine's sh on a real tree: a home that another user could replace is refused.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOME_WALK_FN } from '../../src/modules/account-facts.js';
import { CommandTransport } from '../../src/transport/command.js';
import { shq } from '../../src/util/shell.js';

const sh = CommandTransport.local(false, 10_000);
/** nobody: a user other than root, as the attacker. */
const NOBODY = 65534;
// Under /run: root's, 0755, as every directory above a home must be.
const root = mkdtempSync('/run/fleetfix-walk-');

/** The tree: [path under root, what it is, owner uid, mode]. A link's "mode" is its target. */
const TREE: [string, 'dir' | 'file' | 'link', number, number | string][] = [
  ['home', 'dir', 0, 0o755],
  ['home/deploy', 'dir', NOBODY, 0o755],
  ['home/deploy/app', 'link', NOBODY, '/root'],
  ['home/deploy/real', 'dir', 0, 0o755],
  ['home/open', 'dir', NOBODY, 0o777],
  ['home/grp', 'dir', 0, 0o775],
  ['home/grp/u', 'dir', 0, 0o700],
  ['srv', 'dir', 0, 0o755],
  ['srv/homes', 'dir', 0, 0o755],
  ['srv/homes/app2', 'dir', NOBODY, 0o700],
  ['home/app2', 'link', 0, '../srv/homes/app2'],
  ['home/via-user', 'link', 0, 'deploy/real'],
  ['home/abs', 'link', 0, '@/srv/homes/app2'],
  ['home/later', 'link', 0, '../srv/homes/later'],
  ['home/loop', 'link', 0, 'loop'],
  ['home/file', 'file', 0, 0o644],
];

before(() => {
  chmodSync(root, 0o755);
  for (const [path, kind, uid, mode] of TREE) {
    const full = join(root, path);
    if (kind === 'dir') mkdirSync(full);
    if (kind === 'file') writeFileSync(full, '');
    if (kind === 'link') symlinkSync(String(mode).replace(/^@/, root), full);
    if (kind !== 'link') chmodSync(full, mode as number);
    if (kind === 'link') lchownSync(full, uid, uid);
    else chownSync(full, uid, uid);
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

async function walk(path: string): Promise<string> {
  const r = await sh.exec(`${HOME_WALK_FN}\nff_home_walk ${shq(path)}`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.replace(/\n$/, '').replaceAll(root, 'R');
}

const CASES: [string, string, string][] = [
  ['directories only root can write: "." and ".." resolved', 'R/srv/./homes/../homes/app2', 'R/srv/homes/app2'],
  ['a home whose own owner and mode are left to the home checks', 'R/home/open', 'R/home/open'],
  ['a home owned by another user, reached through root-only directories', 'R/srv/homes/app2', 'R/srv/homes/app2'],
  ['a link the admin made, relative, in a root-only directory, to root-only directories', 'R/home/app2', 'R/srv/homes/app2'],
  ['an absolute link the admin made', 'R/home/abs', 'R/srv/homes/app2'],
  ['repeated slashes and a trailing one', 'R//home///app2/', 'R/srv/homes/app2'],
  ['a missing home behind a link: the real path so far, then the rest', 'R/home/later', 'R/srv/homes/later'],
  ['a missing directory on the way', 'R/srv/none/x', 'R/srv/none/x'],
  ['a link another user made in their own directory (the reported attack)', 'R/home/deploy/app', '!is reached through R/home/deploy (owner nobody, mode 0755), which a user other than root can write or replace'],
  ['a real directory inside another user\'s directory: they could replace it', 'R/home/deploy/real', '!is reached through R/home/deploy (owner nobody, mode 0755), which a user other than root can write or replace'],
  ["an admin's link whose target passes through a user's directory", 'R/home/via-user', '!is reached through R/home/deploy (owner nobody, mode 0755), which a user other than root can write or replace'],
  ['a group-writable directory of root on the way', 'R/home/grp/u', '!is reached through R/home/grp (owner root, mode 0775), which a user other than root can write or replace'],
  ['a world-writable directory on the way', 'R/home/open/x', '!is reached through R/home/open (owner nobody, mode 0777), which a user other than root can write or replace'],
  ['a link loop', 'R/home/loop', '!is reached through more than 40 symbolic links'],
  ['a file on the way', 'R/home/file/x', '!leads to R/home/file, which is not a directory'],
  ['/ itself', '/', '/'],
];

describe('ff_home_walk: the real path of a home, only where no user but root can redirect it', () => {
  for (const [name, path, want] of CASES) {
    it(name, async () => assert.equal(await walk(path.replace(/^R/, root)), want));
  }
});
