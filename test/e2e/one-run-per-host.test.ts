// One apply per host at a time: two applies at once on the same hosts take turns and lose no line; a host another
// run holds is reported busy after a bounded wait; the lease of a run that died lapses and is broken.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, run as runCommand, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult } from './helpers.js';

const ROUNDS = 20;
const OTHER = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC alice';
const LOCK = '/run/fleetfix-lock';

let fleet: Fleet;
let work: string;
let keys: [string, string];
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;

async function newKey(name: string): Promise<string> {
  const r = await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(work, name)]);
  assert.equal(r.code, 0, r.stderr);
  return (await runCommand('cat', [join(work, `${name}.pub`)])).stdout.trim();
}

const KEY_PLAYBOOK = `name: key
checks:
  - id: key
    title: the key is in deploy's authorized_keys
    authorized_key: { user: deploy, key: "{{ key }}" }
`;

describe('one run per host', { timeout: 600_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-lease-'));
    writeFileSync(join(work, 'key.yml'), KEY_PLAYBOOK);
    fleet = await createFleet({ hosts: ['c1', 'c2'] });
    keys = [await newKey('first'), await newKey('second')];
  });
  after(async () => {
    await fleet?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it(`two applies at once on the same hosts take turns: each host is fixed or reported busy, no line is lost (${ROUNDS} rounds)`, async () => {
    const apply = (key: string) => fleetfix(['apply', '-i', fleet.inventoryPath, join(work, 'key.yml'), '--var', `key=${key}`, '--yes', '--output', 'json']);
    for (let round = 0; round < ROUNDS; round++) {
      await fleet.setUp(Object.fromEntries(fleet.hosts.map((h) => [h.name, `printf '%s\\n' '${OTHER}' > /home/deploy/.ssh/authorized_keys`])));
      const runs = await Promise.all(keys.map(apply));
      for (const h of fleet.hosts) {
        const results = runs.map((r) => hostResult(r, h.name));
        // Each run fixed the host, or found the other's lease and said so; never a write refused half-way.
        for (const r of results) if (r.status !== 'fixed') assert.match(r.error ?? '', /^busy: another fleetfix run \(\d+\) is changing this host/, `round ${round}, ${h.name}: ${JSON.stringify(r)}`);
        assert.ok(results.some((r) => r.status === 'fixed'), `round ${round}, ${h.name}: neither run fixed it`);
        const lines = (await h.sh('cat /home/deploy/.ssh/authorized_keys')).stdout.split('\n').filter(Boolean);
        const added = keys.filter((_, i) => results[i]!.status === 'fixed');
        assert.deepEqual(lines.sort(), [OTHER, ...added].sort(), `round ${round}, ${h.name}: a line was lost or doubled`);
        assert.equal((await h.sh(`[ -e ${LOCK} ] && echo held || echo free`)).stdout.trim(), 'free', `round ${round}, ${h.name}: the lease was left behind`);
      }
    }
  });

  it("a host a younger run holds is waited for, a bounded time, then reported busy; nothing is changed there", async () => {
    const busy = host('c1');
    // A run id from the future: a younger run, so this one waits (half its --timeout) before it gives up.
    await busy.sh(`mkdir -m 0700 ${LOCK} && echo "99999999999999999 $(( $(date +%s) + 3600 ))" > ${LOCK}/owner && printf '%s\\n' '${OTHER}' > /home/deploy/.ssh/authorized_keys`);
    try {
      const key = await newKey('third');
      const r = await fleetfix(['apply', '-i', fleet.inventoryPath, join(work, 'key.yml'), '--var', `key=${key}`, '--yes', '--timeout', '6', '--output', 'json']);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(hostResult(r, 'c1').error ?? '', /busy: another fleetfix run \(99999999999999999\) is changing this host/);
      assert.equal(hostResult(r, 'c2').status, 'fixed', 'the other host goes on');
      assert.equal((await busy.sh('cat /home/deploy/.ssh/authorized_keys')).stdout, `${OTHER}\n`);
      assert.match((await busy.sh(`cat ${LOCK}/owner`)).stdout, /^99999999999999999 /, 'the other run keeps its lease');
    } finally {
      await busy.sh(`rm -rf ${LOCK}`);
    }
  });

  it('the lease of a run that died lapses, and the next run breaks it and goes on', async () => {
    const stale = host('c2');
    await stale.sh(`mkdir -m 0700 ${LOCK} && echo "1 $(( $(date +%s) - 1 ))" > ${LOCK}/owner && printf '%s\\n' '${OTHER}' > /home/deploy/.ssh/authorized_keys`);
    const key = await newKey('fourth');
    const r = await fleetfix(['apply', '-i', fleet.inventoryPath, '--limit', 'c2', join(work, 'key.yml'), '--var', `key=${key}`, '--yes', '--output', 'json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await stale.sh('cat /home/deploy/.ssh/authorized_keys')).stdout, `${OTHER}\n${key}\n`);
    assert.equal((await stale.sh(`[ -e ${LOCK} ] && echo held || echo free`)).stdout.trim(), 'free');
  });
});
