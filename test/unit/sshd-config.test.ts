// The sshd_config module's judgement and edit over a table of configs (Include, Match, duplicates), checked with the real sshd -T.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { flatten, parseEffective, readOrder, type ConfigFile } from '../../src/facts/sshd-config.js';
import { editsFor, unsatisfied } from '../../src/modules/sshd-config.js';
import { SSHD_CONFIG } from '../../src/modules/sshd-facts.js';
import { connectionSpec, type Connection } from '../../src/facts/sshd-match.js';

interface Case {
  name: string;
  files: Record<string, string>;
  wanted: Record<string, string | number | boolean>;
  changed: Record<string, string>;
  /** Judged for this connection (sshd -T -C), Match blocks included. */
  conn?: Connection;
}
const cases = JSON.parse(readFileSync(new URL('../fixtures/sshd-config/cases.json', import.meta.url), 'utf8')) as Case[];

/** The effective configuration by the real sshd, fed the flattened files on stdin. */
function sshdT(files: ConfigFile[], conn?: Connection): Map<string, string[]> {
  // Through cat: node's stdin is a socket, which /dev/stdin cannot reopen; a shell pipe can. sshd insists on
  // /run/sshd, given here in a private mount namespace so that the test leaves nothing behind.
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs /run && mkdir /run/sshd && cat | /usr/sbin/sshd -T -f /dev/stdin${conn ? ` -C '${connectionSpec(conn)}'` : ''}`], { input: flatten(files, SSHD_CONFIG), encoding: 'utf8' });
  assert.equal(r.status, 0, `sshd -T failed: ${r.stderr}`);
  return parseEffective(r.stdout);
}

describe('sshd_config editor, checked by sshd -T', () => {
  for (const c of cases) {
    it(c.name, () => {
      const files: ConfigFile[] = Object.entries(c.files).map(([path, text]) => ({ path, text }));
      const before = sshdT(files, c.conn);
      // The module's own judgement and edit, as its plan makes them from sshd -T's answer.
      const edited = editsFor(files, unsatisfied(c.wanted, before), c.conn);
      assert.deepEqual(Object.fromEntries(edited), c.changed);
      const after = sshdT(files.map((f) => ({ path: f.path, text: edited.get(f.path) ?? f.text })), c.conn);
      assert.deepEqual(unsatisfied(c.wanted, after).map(([k]) => `${k}: sshd -T says ${after.get(k.toLowerCase())}`), []);
    });
  }
});

describe('read order', () => {
  it('expands Include in place and marks Match scope', () => {
    const files = [
      { path: SSHD_CONFIG, text: 'Port 1\nInclude sshd_config.d/*.conf\nMatch User x\nPort 3\n' },
      { path: '/etc/ssh/sshd_config.d/a.conf', text: 'Port 2\n' },
    ];
    assert.deepEqual(readOrder(files, SSHD_CONFIG).map((d) => [d.args[0], d.inMatch]), [['1', false], ['2', false], ['3', true]]);
  });
});
