// Text a host's user controls reaches the operator's terminal escaped: a key comment with ESC, BEL and U+009B, written
// by the user into their own authorized_keys, comes out of plan and audit, text and JSON, with no raw control byte.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet } from '../lab/fleet.js';
import { rawControlBytes } from '../control-bytes.js';
import { fleetfix, hostResult } from './helpers.js';

const BLOB = 'AAAAC3NzaC1lZDI1NTE5AAAAIOKdK2u8KUa7vQ1hT9GM0GJ6F5RMBeBwqZ2mJY0yXkUf';
/** An OSC title change, BEL and a one-byte CSI (U+009B, UTF-8 C2 9B) in the comment; printf octal escapes on the host. */
const COMMENT = 'mallory\x1b]0;pwned\x07\u009b31mRED';
const WRITE_AS_USER = `runuser -u deploy -- sh -c 'printf "ssh-ed25519 ${BLOB} mallory\\033]0;pwned\\007\\302\\23331mRED\\n" > ~/.ssh/authorized_keys'`;

let fleet: Fleet;
let inv: string[];

describe('host text reaches the terminal escaped', { timeout: 300_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: ['t1'] });
    inv = ['-i', fleet.inventoryPath, '--var', 'ssh_user=deploy'];
    await fleet.setUp({ t1: WRITE_AS_USER });
  });
  after(async () => fleet?.destroy());

  it('plan (text) shows the comment escaped; audit and plan JSON carry it as \\uXXXX and parse back to it', async () => {
    const text = await fleetfix(['plan', ...inv]);
    assert.equal(text.code, 2, text.stderr);
    assert.ok(text.stdout.includes(` ssh-ed25519 ${BLOB} mallory\\x1b]0;pwned\\x07\\u009b31mRED`), text.stdout);
    assert.equal(rawControlBytes(text.stdout + text.stderr), 0);
    for (const command of ['audit', 'plan']) {
      const json = await fleetfix([command, ...inv, '--output', 'json']);
      assert.equal(json.code, 2, json.stderr);
      assert.equal(rawControlBytes(json.stdout + json.stderr), 0);
      const diff = hostResult(json, 't1').checks.find((c) => c.id === 'authorized-key')!.changes[0]!.diff!;
      assert.ok(diff.includes(` ssh-ed25519 ${BLOB} ${COMMENT}\n`), diff);
    }
  });
});
