// A refusal fleetfix fixed is history, a new one a finding again (issue 21): on a systemd host whose rsyslog writes
// auth.log with its own times, a real refusal by sshd (~deploy/.ssh open to all), apply with the bundled playbook,
// the next audit, and the same fault made again.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult } from './helpers.js';

const REFUSAL = 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh';

let fleet: Fleet;
let h: LabHost;

/** The auth.log lines of sshd refusing deploy's ~/.ssh. */
async function refusals(): Promise<string[]> {
  return (await h.sh(`grep -F ${JSON.stringify(REFUSAL)} /var/log/auth.log || true`)).stdout.split('\n').filter(Boolean);
}

/** Open ~deploy/.ssh to all, try a real login as deploy, and wait (50 x 0.1 s at most) for rsyslog to write sshd's refusal. */
async function refuseDeploy(): Promise<string> {
  await fleet.setUp({ [h.name]: 'chmod 0777 /home/deploy/.ssh' });
  const seen = (await refusals()).length;
  assert.equal((await fleet.sshLogin(h, 'true', { user: 'deploy' })).code, 255, 'sshd let deploy in');
  for (let i = 0; i < 50; i++) {
    const lines = await refusals();
    if (lines.length > seen) return lines.at(-1)!;
    await sleep(100);
  }
  throw new Error(`no new refusal in auth.log:\n${(await h.sh('cat /var/log/auth.log')).stdout}`);
}

/** The sshd-log check of an audit of the host. */
async function logCheck(): Promise<{ message: string; findings: string[] }> {
  const run = await fleetfix(['audit', '-i', fleet.inventoryPath, '--output', 'json']);
  const check = hostResult(run, h.name).checks.find((c) => c.id === 'sshd-log');
  assert.ok(check, `no sshd-log check\n${run.stderr}`);
  return { message: check.message, findings: check.findings ?? [] };
}

describe('a refusal fleetfix fixed is history; a new one is a finding', { timeout: 120_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: ['rsyslog'], kind: 'systemd', rsyslog: ['rsyslog'] });
    h = fleet.hosts[0]!;
  });
  after(async () => {
    await fleet?.destroy();
  });

  it('a refusal in auth.log is a finding, at its time, after sshd started', async () => {
    const line = await refuseDeploy();
    const { message, findings } = await logCheck();
    assert.match(message, /^\/var\/log\/auth\.log: 1 finding in its last 2000 lines since sshd started at \S+$/);
    assert.deepEqual(findings.filter((f) => f.includes(REFUSAL)).map((f) => f.replace(/ \(at \S+, after sshd started at \S+\)$/, '')), [`bad-ownership-or-modes: ${line}`]);
  });

  it('apply fixes ~/.ssh: the next audit has no finding for the refusal, and says there was one before the path changed', async () => {
    // The fix lands in a later second than the refusal (ctime and rsyslog's time compare to the second at worst).
    await sleep(1100);
    const apply = await fleetfix(['apply', '-i', fleet.inventoryPath, '--var', 'ssh_user=deploy', '--var', `authorized_key=${fleet.operatorPublicKey}`, '--yes', '--output', 'json']);
    assert.equal(apply.code, 0, `${apply.stdout.slice(0, 3000)}\n${apply.stderr}`);
    assert.equal((await h.sh('stat -c %a /home/deploy/.ssh')).stdout.trim(), '700');
    const { message, findings } = await logCheck();
    assert.deepEqual(findings, []);
    assert.match(message, /^\/var\/log\/auth\.log: nothing of note in its last 2000 lines since sshd (started|reloaded) at \S+; \d+ refusals? before \/home\/deploy\/\.ssh last changed at \S+$/);
  });

  it('the same fault again: the new refusal is a finding again', async () => {
    const line = await refuseDeploy();
    const { findings } = await logCheck();
    assert.ok(findings.some((f) => f.startsWith(`bad-ownership-or-modes: ${line} (at `)), JSON.stringify(findings));
  });
});
