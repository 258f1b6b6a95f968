// An unprivileged user on a host attacks fleetfix's root: links swapped in while fleetfix works in their home, a
// redirected ~/.ssh, neutered keys, a foreign-owned home, a huge file. Nothing outside the home may change.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { checkStatuses, fleetfix, hostResult } from './helpers.js';

const ROUNDS = 20;
const HOME = '/home/deploy';

/**
 * The attackers, each a loop run as deploy (bounded by `timeout`) that counts its swaps in ~/swaps:
 * - new-file: whenever authorized_keys or one of fleetfix's temp files is a plain file, swap it for a link to /etc/shadow;
 * - new-dir: whenever ~/.ssh is a plain directory, move it away and link ~/.ssh to /root/.ssh;
 * - temp-file: whenever a temp file of fleetfix's appears in ~/.ssh, swap it for a link to /etc/shadow.
 */
const ATTACKS: Record<string, { reset: string; loop: string }> = {
  'new-file': {
    reset: `rm -rf ${HOME}/.ssh && install -d -m 0700 -o deploy -g deploy ${HOME}/.ssh`,
    loop: `cd ${HOME}/.ssh && while :; do for f in authorized_keys .fleetfix.*; do if [ -f "$f" ] && [ ! -L "$f" ]; then rm -f "$f"; ln -s /etc/shadow "$f" && echo >> ../swaps; fi; done; done`,
  },
  'new-dir': {
    reset: `rm -rf ${HOME}/.ssh ${HOME}/.ssh.*`,
    loop: `cd ${HOME} && while :; do if [ -d .ssh ] && [ ! -L .ssh ]; then mv .ssh ".ssh.$$.$(date +%s%N)" && ln -s /root/.ssh .ssh && echo >> swaps; fi; done`,
  },
  'temp-file': {
    reset: `rm -rf ${HOME}/.ssh && install -d -m 0700 -o deploy -g deploy ${HOME}/.ssh && echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP other' > ${HOME}/.ssh/authorized_keys && chown deploy: ${HOME}/.ssh/authorized_keys`,
    loop: `cd ${HOME}/.ssh && while :; do for f in .fleetfix.*; do if [ -f "$f" ] && [ ! -L "$f" ]; then rm -f "$f"; ln -s /etc/shadow "$f" && echo >> ../swaps; fi; done; done`,
  },
};

/** Owner, mode, links and content of everything a redirected change could reach outside the home. */
const OUTSIDE = `for f in /etc/shadow /etc/passwd /root/.ssh /root/.ssh/* /etc/ssh /etc/ssh/*; do stat -c '%n %F %u %g %a %h %s' "$f"; if [ -f "$f" ]; then sha256sum "$f"; fi; done`;

let fleet: Fleet;
let work: string;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;

async function outside(h: LabHost): Promise<string> {
  const r = await h.sh(OUTSIDE);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Start `loop` as deploy in the background on `h`; returns a function that stops it. */
async function attacker(h: LabHost, loop: string): Promise<() => Promise<void>> {
  const r = await h.sh(`setpriv --reuid=deploy --regid=deploy --init-groups -- timeout 300 sh -c '${loop.replace(/'/g, `'\\''`)}' </dev/null >/dev/null 2>&1 & echo $!`);
  assert.equal(r.code, 0, r.stderr);
  const pid = r.stdout.trim();
  return async () => void (await h.sh(`kill ${pid} 2>/dev/null; true`));
}

function playbook(name: string, checks: string): string {
  const path = join(work, `${name}.yml`);
  writeFileSync(path, `name: ${name}\nchecks:\n${checks}`);
  return path;
}

describe('hostile users on a host cannot turn fleetfix against it', { timeout: 900_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-hostile-'));
    fleet = await createFleet({ hosts: [...Object.keys(ATTACKS), 'link', 'neuter1', 'neuter2', 'foreign', 'huge', 'through', 'adminlink'] });
  });
  after(async () => {
    await fleet?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it(`races between gather and fix: ${ROUNDS} rounds of each, nothing outside the home changes`, async (t) => {
    const names = Object.keys(ATTACKS);
    await fleet.setUp(Object.fromEntries(names.map((n) => [n, `rm -f ${HOME}/swaps`])));
    const before = await Promise.all(names.map((n) => outside(host(n))));
    const args = ['apply', '-i', fleet.inventoryPath, '--limit', names.join(','), '--var', 'ssh_user=deploy', '--var', `authorized_key=${fleet.operatorPublicKey}`, '--yes', '--output', 'json'];
    for (let round = 0; round < ROUNDS; round++) {
      await fleet.setUp(Object.fromEntries(names.map((n) => [n, ATTACKS[n]!.reset])));
      const stops = await Promise.all(names.map((n) => attacker(host(n), ATTACKS[n]!.loop)));
      try {
        const run = await fleetfix(args);
        assert.ok(run.json, `round ${round}: no JSON report\n${run.stderr}`);
        // What fleetfix left behind is swapped before the attacker stops (a bounded wait: 100 x 0.05 s).
        await Promise.all(['new-file', 'new-dir'].map((n) => host(n).sh(`for i in $(seq 100); do [ "$(wc -l < ${HOME}/swaps 2>/dev/null || echo 0)" -gt ${round} ] && break; sleep 0.05; done`)));
      } finally {
        await Promise.all(stops.map((stop) => stop()));
      }
      const now = await Promise.all(names.map((n) => outside(host(n))));
      names.forEach((n, i) => assert.equal(now[i], before[i], `round ${round}, ${n}: something outside ${HOME} changed`));
    }
    // The attackers were at work. What fleetfix leaves behind (authorized_keys, ~/.ssh) stays for the attacker to
    // swap; a temp file lives for a moment, so how often that attacker won its race is only reported.
    for (const n of names) {
      const swaps = await host(n).sh(`wc -l < ${HOME}/swaps 2>/dev/null || echo 0`);
      if (n === 'temp-file') t.diagnostic(`temp-file: ${swaps.stdout.trim()} temp files swapped for a link in ${ROUNDS} rounds`);
      else assert.ok(Number(swaps.stdout.trim()) >= ROUNDS, `${n}: the attacker swapped ${swaps.stdout.trim()} times in ${ROUNDS} rounds`);
    }
  });

  it('a ~/.ssh that links to /root/.ssh is refused by a file check on authorized_keys, root keeps its keys', async () => {
    const h = host('link');
    await fleet.setUp({ link: `rm -rf ${HOME}/.ssh && ln -s /root/.ssh ${HOME}/.ssh` });
    const before = await outside(h);
    const only = playbook('authorized-keys-file', `  - id: authorized-keys-file\n    title: authorized_keys owned by deploy, mode 0600\n    file: { path: "~deploy/.ssh/authorized_keys", type: file, owner: deploy, mode: "0600" }\n`);
    for (const command of [['audit'], ['apply', '--yes']]) {
      const run = await fleetfix([...command, '-i', fleet.inventoryPath, '--limit', 'link', only, '--output', 'json']);
      const check = hostResult(run, 'link').checks[0]!;
      assert.equal(check.status, 'error', `${command}: ${check.message}`);
      assert.match(check.message, /\/home\/deploy\/\.ssh leads through a symbolic link \(to \/root\/\.ssh\)/);
      assert.equal(run.code, 3);
    }
    assert.equal(await outside(h), before);
    const root = await fleet.sshLogin(h);
    assert.equal(root.code, 0, `root locked out: ${root.stderr}`);
  });

  it("a home reached through another user's directory: deploy links app's home to /root, fleetfix gives app nothing of root's", async () => {
    const h = host('through');
    // app's home lies in deploy's directory; deploy swaps it for a link to /root (as deploy, with deploy's rights only).
    await fleet.setUp({ through: `useradd -M -d ${HOME}/app -s /bin/sh app && setpriv --reuid=deploy --regid=deploy --init-groups -- ln -s /root ${HOME}/app` });
    const before = await outside(h);
    const refusal = /the home of app, \/home\/deploy\/app, is reached through \/home\/deploy \(owner deploy, mode 0755\), which a user other than root can write or replace; fleetfix changes nothing in it/;
    for (const key of [[], ['--var', `authorized_key=${fleet.operatorPublicKey}`]]) {
      for (const command of [['audit'], ['plan'], ['apply', '--yes']]) {
        const run = await fleetfix([...command, '-i', fleet.inventoryPath, '--limit', 'through', '--var', 'ssh_user=app', ...key, '--output', 'json']);
        const checks = hostResult(run, 'through').checks;
        for (const id of ['home-dir', 'ssh-dir', 'authorized-keys-file', ...(key.length ? ['authorized-key'] : [])]) {
          const check = checks.find((c) => c.id === id)!;
          assert.equal(check.status, 'error', `${command[0]} ${id}: ${check.message}`);
          assert.match(check.message, refusal, `${command[0]} ${id}`);
        }
        assert.ok(!checks.some((c) => c.status === 'fixed'), `${command[0]}: ${JSON.stringify(checks.map((c) => [c.id, c.status]))}`);
        assert.equal(run.code, 3, `${command[0]}: ${run.stderr}`);
      }
    }
    assert.equal(await outside(h), before, 'nothing of root changed');
    const root = await fleet.sshLogin(h);
    assert.equal(root.code, 0, `root locked out: ${root.stderr}`);
  });

  it('a link the admin made to a home, from and through directories only root can write, stays usable: app2 is fixed and logs in', async () => {
    await fleet.setUp({ adminlink: 'mkdir -p /srv/homes/app2 && useradd -M -d /home/app2 -s /bin/sh app2 && chown app2: /srv/homes/app2 && ln -s /srv/homes/app2 /home/app2' });
    const vars = ['-i', fleet.inventoryPath, '--limit', 'adminlink', '--var', 'ssh_user=app2', '--var', `authorized_key=${fleet.operatorPublicKey}`, '--output', 'json'];
    const apply = await fleetfix(['apply', ...vars, '--yes']);
    assert.equal(apply.code, 0, apply.stdout);
    const made = await host('adminlink').sh('stat -c "%n %U %a" /srv/homes/app2/.ssh /srv/homes/app2/.ssh/authorized_keys');
    assert.equal(made.stdout, '/srv/homes/app2/.ssh app2 700\n/srv/homes/app2/.ssh/authorized_keys app2 600\n');
    const login = await fleet.sshLogin(host('adminlink'), 'echo in', { user: 'app2' });
    assert.equal(login.stdout.trim(), 'in', login.stderr);
  });

  it('a neutered operator key (from=, restrict,command=) fails audit, and apply makes it log in', async () => {
    const key = fleet.operatorPublicKey.trim();
    await fleet.setUp({
      neuter1: `printf 'from="203.0.113.9" %s\\n' '${key}' > ${HOME}/.ssh/authorized_keys`,
      neuter2: `printf 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC other\\nrestrict,command="/bin/false" %s\\n' '${key}' > ${HOME}/.ssh/authorized_keys`,
    });
    const vars = ['-i', fleet.inventoryPath, '--limit', 'neuter1,neuter2', '--var', 'ssh_user=deploy', '--var', `authorized_key=${key}`, '--output', 'json'];
    for (const n of ['neuter1', 'neuter2']) {
      const login = await fleet.sshLogin(host(n), 'echo in', { user: 'deploy' });
      assert.notEqual(login.stdout.trim(), 'in', `${n}: deploy got in before the fix`);
    }
    const audit = await fleetfix(['audit', ...vars]);
    assert.equal(audit.code, 2, audit.stderr);
    for (const n of ['neuter1', 'neuter2']) assert.equal(checkStatuses(audit, n)['authorized-key'], 'fail', n);
    const apply = await fleetfix(['apply', ...vars, '--yes']);
    assert.equal(apply.code, 0, apply.stdout);
    for (const n of ['neuter1', 'neuter2']) {
      assert.equal(checkStatuses(apply, n)['authorized-key'], 'fixed', n);
      const login = await fleet.sshLogin(host(n), 'echo in', { user: 'deploy' });
      assert.equal(login.stdout.trim(), 'in', `${n}: ${login.stderr}`);
    }
    const kept = await host('neuter2').sh(`cat ${HOME}/.ssh/authorized_keys`);
    assert.equal(kept.stdout, `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC other\n${key}\n`, 'the other line is kept, in its place');
  });

  it("a home owned by another user fails audit (sshd's StrictModes refuses it) and apply gives it back", async () => {
    await fleet.setUp({ foreign: `chown nobody ${HOME}` });
    const vars = ['-i', fleet.inventoryPath, '--limit', 'foreign', '--var', 'ssh_user=deploy', '--var', `authorized_key=${fleet.operatorPublicKey}`, '--output', 'json'];
    const audit = await fleetfix(['audit', ...vars]);
    assert.equal(audit.code, 2, audit.stderr);
    const checks = hostResult(audit, 'foreign').checks;
    assert.match(checks.find((c) => c.id === 'authorized-key')!.message, /StrictModes refuses \/home\/deploy \(owned by nobody\)/);
    assert.equal(checkStatuses(audit, 'foreign')['home-dir'], 'fail');
    const apply = await fleetfix(['apply', ...vars, '--yes']);
    assert.equal(apply.code, 0, apply.stdout);
    const login = await fleet.sshLogin(host('foreign'), 'echo in', { user: 'deploy' });
    assert.equal(login.stdout.trim(), 'in', login.stderr);
  });

  it('a 1 GiB authorized_keys is an error naming its size; the other hosts go on', async () => {
    await fleet.setUp({ huge: `setpriv --reuid=deploy --regid=deploy --init-groups -- truncate -s 1G ${HOME}/.ssh/authorized_keys` });
    const run = await fleetfix(['audit', '-i', fleet.inventoryPath, '--limit', 'huge,neuter1', '--var', 'ssh_user=deploy', '--var', `authorized_key=${fleet.operatorPublicKey}`, '--output', 'json']);
    const check = hostResult(run, 'huge').checks.find((c) => c.id === 'authorized-key')!;
    assert.equal(check.status, 'error');
    assert.match(check.message, /\/home\/deploy\/\.ssh\/authorized_keys is 1073741824 bytes, over the 1048576 bytes fleetfix reads/);
    assert.equal(hostResult(run, 'neuter1').status, 'compliant');
  });
});
