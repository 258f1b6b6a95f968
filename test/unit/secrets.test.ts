// Secret masking: a secret is masked where it stands as itself (a console echoing it), never inside a path or a word.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecret, redact, rememberSecret } from '../../src/config/secrets.js';

/** [secret, text, what is shown]. */
const cases: [string, string, string][] = [
  // Paths, user names and words that contain a short or common secret are left as they are.
  ['root', '/root/.ssh: mode 0777 -> 0700', '/root/.ssh: mode 0777 -> 0700'],
  ['root', 'root-ssh [fail]', 'root-ssh [fail]'],
  ['root', 'add key ssh-ed25519 root@web1 to ~root/.ssh/authorized_keys', 'add key ssh-ed25519 root@web1 to ~root/.ssh/authorized_keys'],
  ['root', 'PermitRootLogin yes; rooted, chroot, uproot, root.pub, root_ca, root+1', 'PermitRootLogin yes; rooted, chroot, uproot, root.pub, root_ca, root+1'],
  ['root', 'sshd[42]: Accepted publickey for deploy from 198.18.1.1', 'sshd[42]: Accepted publickey for deploy from 198.18.1.1'],
  // Where it stands alone, as a console echoing the password we typed shows it, it is masked, however short.
  ['root', 'timed out waiting for /\\$ $/; last output: "Password: root\\nLogin incorrect"', 'timed out waiting for /\\$ $/; last output: "Password: ***\\nLogin incorrect"'],
  ['root', 'Password: root\nroot: command not found', 'Password: ***\n***: command not found'],
  ['root', 'last output: "Password: \\nroot\\r\\n$ "', 'last output: "Password: \\n***\\r\\n$ "'],
  ['root', 'the password was root.', 'the password was ***.'],
  ['pw', 'password=pw user=pw2', 'password=*** user=pw2'],
  ['s3cret-value', 'password is s3cret-value here', 'password is *** here'],
  ['s3cret-value', 'ab-s3cret-value', 'ab-s3cret-value'],
  // Characters that mean something in a pattern are matched as themselves.
  ['p@ss.w*rd(1)', 'echo: p@ss.w*rd(1) and pXss.wwrd(1)', 'echo: *** and pXss.wwrd(1)'],
  ['a|b', 'a|b ab', '*** ab'],
  ['', 'nothing to mask', 'nothing to mask'],
];

describe('maskSecret', () => {
  for (const [secret, text, want] of cases) it(`${JSON.stringify(secret)} in ${JSON.stringify(text)}`, () => assert.equal(maskSecret(text, secret), want));
});

it('redact masks every secret resolved so far, each where it stands alone', () => {
  rememberSecret('root');
  rememberSecret('hunter22');
  assert.equal(redact('console of web1: last output: "root hunter22 /root/.ssh hunter22x"'), 'console of web1: last output: "*** *** /root/.ssh hunter22x"');
});
