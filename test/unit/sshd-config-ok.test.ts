// sshd -t as the sshd_config fixes use it, run for real: a host key sshd cannot load is not the configuration's fault.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SSHD_CONFIG_OK_FN } from '../../src/modules/sshd-facts.js';
import { SSHD_FN } from '../../src/modules/sshd-socket.js';
import { CommandTransport } from '../../src/transport/command.js';
import { shq } from '../../src/util/shell.js';

const sh = CommandTransport.local(false, 30_000);
const work = mkdtempSync('/run/fleetfix-sshd-t-');
after(() => rmSync(work, { recursive: true, force: true }));
const key = join(work, 'host_key');
execFileSync('ssh-keygen', ['-q', '-N', '', '-t', 'ed25519', '-f', key]);

/** [name, the key's mode, configuration lines after HostKey, accepted]. */
const CASES: [string, number, string, boolean][] = [
  ['a valid configuration and a loadable key', 0o600, 'PubkeyAuthentication yes', true],
  ['a valid configuration whose only key is open to all (sshd loads none): the configuration is fine', 0o644, 'PubkeyAuthentication yes', true],
  ['an option sshd rejects, with a loadable key', 0o600, 'PubkeyAuthentication maybe', false],
  ['an option sshd rejects, with an open key: still refused', 0o644, 'PubkeyAuthentication maybe', false],
];

describe('ff_sshd_config_ok: the configuration as sshd -t reads it, host keys aside', () => {
  for (const [name, mode, lines, accepted] of CASES) {
    it(name, async () => {
      chmodSync(key, mode);
      const r = await sh.exec(`${SSHD_FN}\n${SSHD_CONFIG_OK_FN}\nff_sshd_config_ok ${shq(`HostKey ${key}\n${lines}\n`)}`);
      assert.equal(r.code === 0, accepted, r.stderr);
      if (!accepted) assert.match(r.stderr, /unsupported option "maybe"/);
    });
  }
});
