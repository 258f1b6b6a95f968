// Faults come together: pairs and triples of the corpus's faults (test/lab/corpus.ts) on one host each. Every host
// comes out of audit as drift (never failed), plan changes nothing, apply fixes it over SSH or its console, deploy
// logs in with the real ssh client, and a second apply changes nothing. A seeded sample by default; every pair and
// more triples with FLEETFIX_COMBINATIONS=all, or those with one fault with FLEETFIX_COMBINATIONS=<its id>.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CORPUS, faultScript, pairs, sampledTriples, shuffled, type CorpusFault } from '../lab/corpus.js';
import { createFleet, type Fleet } from '../lab/fleet.js';
import { fleetfix, hostDigest, hostResult, type CliRun } from './helpers.js';

const SEED = 20261208;
/** all: every pair and 60 triples; a fault's id: those of them with that fault; unset: a seeded sample. */
const CHOICE = process.env.FLEETFIX_COMBINATIONS;
/** Hosts in one lab fleet: the lab's hosts share this machine's two cores with the controller. */
const BATCH = 12;
const EVERY = () => [...pairs(), ...sampledTriples(60, SEED)];
const COMBINATIONS = CHOICE === 'all' ? EVERY() : CHOICE ? EVERY().filter((c) => c.some((f) => f.id === CHOICE)) : [...shuffled(pairs(), SEED).slice(0, 30), ...sampledTriples(6, SEED)];

const fleets: Fleet[] = [];
after(async () => {
  await Promise.all(fleets.map((f) => f.destroy()));
});

/** What went wrong on one host at one step, with its faults and the checks that said so. */
function problem(run: CliRun, name: string, faults: CorpusFault[], what: string): string {
  const host = hostResult(run, name);
  const checks = host.checks.filter((c) => !['pass', 'skipped'].includes(c.status)).map((c) => `    ${c.id} [${c.status}] ${c.message}`);
  return `${faults.map((f) => f.id).join(' + ')}: ${what} (${host.status}${host.error ? `: ${host.error}` : ''})\n${checks.join('\n')}`;
}

describe(`faults in combination: ${COMBINATIONS.length} hosts, from ${CORPUS.length} corpus faults`, { timeout: 3_600_000 }, () => {
  for (let start = 0; start < COMBINATIONS.length; start += BATCH) {
    const batch = COMBINATIONS.slice(start, start + BATCH);
    it(`combinations ${start + 1}-${start + batch.length}: audit drift, plan changes nothing, apply fixes, deploy logs in, apply again changes nothing`, async () => {
      const names = batch.map((_, i) => `c${start + i + 1}`);
      const fleet = await createFleet({ hosts: names });
      fleets.push(fleet);
      try {
        await check(fleet, names, batch);
      } finally {
        fleets.splice(fleets.indexOf(fleet), 1);
        await fleet.destroy();
      }
    });
  }

  it("a playbook that names the file before its directory: the file's fix is planned after the directory's and made after it", async () => {
    const fleet = await createFleet({ hosts: ['reversed'] });
    fleets.push(fleet);
    try {
      await fleet.setUp({ reversed: 'chmod -R 777 /home/deploy/.ssh' });
      const work = mkdtempSync(join(tmpdir(), 'fleetfix-order-'));
      const playbook = join(work, 'reversed.yml');
      writeFileSync(playbook, `name: reversed\nchecks:\n  - id: keys-file\n    file: { path: "~deploy/.ssh/authorized_keys", type: file, owner: deploy, mode: "0600" }\n  - id: ssh-dir\n    file: { path: "~deploy/.ssh", type: directory, owner: deploy, mode: "0700" }\n`);
      const apply = await fleetfix(['apply', '-i', fleet.inventoryPath, playbook, '--yes', '--output', 'json']);
      rmSync(work, { recursive: true, force: true });
      assert.equal(apply.code, 0, apply.stdout + apply.stderr);
      const keys = hostResult(apply, 'reversed').checks.find((c) => c.id === 'keys-file')!;
      assert.equal(keys.status, 'fixed', keys.message);
      const modes = await fleet.hosts[0]!.sh('stat -c %a /home/deploy/.ssh /home/deploy/.ssh/authorized_keys');
      assert.equal(modes.stdout, '700\n600\n');
      const login = await fleet.sshLogin(fleet.hosts[0]!, 'echo in', { user: 'deploy' });
      assert.equal(login.stdout.trim(), 'in', login.stderr);
    } finally {
      fleets.splice(fleets.indexOf(fleet), 1);
      await fleet.destroy();
    }
  });
});

/** One fleet of combinations, one a host, through audit, plan, apply, a login as deploy and apply again. */
async function check(fleet: Fleet, names: string[], batch: CorpusFault[][]): Promise<void> {
  await fleet.setUp(Object.fromEntries(names.map((n, i) => [n, faultScript(batch[i]!)])));
  // This machine as the hosts see it (over a console there is no session to tell), and leave to move nologin aside.
  const args = ['-i', fleet.inventoryPath, '--var', 'ssh_user=deploy', '--var', `authorized_key=${fleet.operatorPublicKey}`, '--var', `ssh_from=198.18.${fleet.slot}.1`, '--var', 'ssh_remove_nologin=true', '--output', 'json'];
  const problems: string[] = [];
  const each = (run: CliRun, what: string, ok: (status: string) => boolean) =>
    names.forEach((n, i) => {
      if (!ok(hostResult(run, n).status)) problems.push(problem(run, n, batch[i]!, what));
    });

  for (const [i, h] of fleet.hosts.entries()) {
    const login = await fleet.sshLogin(h, 'echo in', { user: 'deploy' });
    if (login.stdout.trim() === 'in') problems.push(`${batch[i]!.map((f) => f.id).join(' + ')}: deploy got in before any fix`);
  }
  const audit = await fleetfix(['audit', ...args]);
  each(audit, 'audit is not drift', (s) => s === 'drift');
  const before = await Promise.all(fleet.hosts.map(hostDigest));
  const plan = await fleetfix(['plan', ...args]);
  each(plan, 'plan is not drift', (s) => s === 'drift');
  const afterPlan = await Promise.all(fleet.hosts.map(hostDigest));
  names.forEach((n, i) => {
    if (afterPlan[i] !== before[i]) problems.push(`${batch[i]!.map((f) => f.id).join(' + ')}: plan changed the host`);
  });
  const apply = await fleetfix(['apply', ...args, '--yes']);
  each(apply, 'apply did not fix it', (s) => s === 'fixed');
  for (const [i, h] of fleet.hosts.entries()) {
    const login = await fleet.sshLogin(h, 'echo in', { user: 'deploy' });
    if (login.stdout.trim() !== 'in') problems.push(`${batch[i]!.map((f) => f.id).join(' + ')}: deploy cannot log in after apply: ${login.stderr.trim()}`);
  }
  const again = await fleetfix(['apply', ...args, '--yes']);
  each(again, 'a second apply is not compliant', (s) => s === 'compliant');
  if (again.json?.summary.changes !== 0) problems.push(`a second apply made ${again.json?.summary.changes} changes`);
  assert.deepEqual(problems, [], problems.join('\n'));
}
