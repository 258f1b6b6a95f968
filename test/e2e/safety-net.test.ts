// The on-host safety net: fleetfix killed the moment a lockout change lands, and every host restores itself and lets
// the real ssh client in again; a host fixed normally keeps nothing of the net.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createFleet, run as runCommand, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult } from './helpers.js';
import { armScript } from '../../src/engine/safety-net.js';

const BIN = fileURLToPath(new URL('../../bin/fleetfix.js', import.meta.url));
/** Far longer than the moments between arming the net and the lockout landing (one round trip and a restart). */
const CONFIRM_S = 20;
const NET = '/run/fleetfix-net';

/** Host -> [fault to set up first, the sshd_config directives that lock the operator out, how the handler applies them]. */
const LOCKOUTS: Record<string, [string, string, 'restarted' | 'reloaded']> = {
  // An address the host does not have: sshd -t passes, the restarted sshd cannot listen.
  listen: [':', 'ListenAddress: 198.18.250.99', 'restarted'],
  // The same, reloaded: sshd re-executes itself on SIGHUP, cannot listen and exits; the net must start it again.
  reload: [':', 'ListenAddress: 198.18.250.99', 'reloaded'],
  // The operator's user is not let in: sshd -t passes, every login as root is refused.
  allow: [':', 'AllowUsers: nobody', 'restarted'],
  // sshd moves to a port the firewall drops.
  dropped: ['iptables -A INPUT -p tcp --dport 2222 -j DROP', 'Port: "2222"', 'restarted'],
  // Reached over its console (root's key is missing): the net must outlive the console's login session.
  console: ['rm /root/.ssh/authorized_keys', 'AllowUsers: nobody', 'restarted'],
};

let fleet: Fleet;
let work: string;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;

/** A playbook that puts the operator's key back (no undo: it cannot lock anyone out), then makes `directives`' change. */
function playbook(name: string, directives: string, state: 'restarted' | 'reloaded' = 'restarted'): string {
  const path = join(work, `${name}.yml`);
  const key = `  - id: key\n    title: the operator's key\n    authorized_key: { user: root, key: ${JSON.stringify(fleet.operatorPublicKey.trim())} }\n`;
  writeFileSync(path, `name: ${name}\nchecks:\n${key}  - id: lockout\n    title: a change that locks the operator out\n    sshd_config: { ${directives} }\n    notify: sshd\nhandlers:\n  - id: sshd\n    title: sshd takes the new configuration\n    service: { name: ssh, state: ${state} }\n`);
  return path;
}

/**
 * Apply `directives` on `h`, and kill fleetfix the moment the lockout has landed: a watcher on the host itself waits
 * for the first change recorded under the net and then for sshd to be restarted (its pid changes) or, reloaded, to
 * have exited (it keeps its pid while it lives), kills fleetfix, and stops the net's timer, so that the lockout can be
 * seen however slow the machine: the real ssh client must be kept out. Then the timer goes on, the net must fire by
 * itself, and ssh must get in again.
 */
async function killedAsItLocksOut(h: LabHost, directives: string, state: 'restarted' | 'reloaded'): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'apply', '-i', fleet.inventoryPath, '--limit', h.name, playbook(h.name, directives, state), '--yes', '--confirm-timeout', String(CONFIRM_S)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const landed = state === 'restarted' ? '[ "$(cat /run/sshd.pid 2>/dev/null)" != "$ff_before" ]' : '! [ /proc/$ff_before/exe -ef /usr/sbin/sshd ]';
  const watch = `ff_before=$(cat /run/sshd.pid); while :; do set -- ${NET}/undo.*; [ -e "$1" ] && ${landed} && break; done; kill -9 ${child.pid}; kill -STOP "-$(cat ${NET}/timer)"`;
  const watcher = await h.sh(`timeout 120 sh -c '${watch}' </dev/null >/dev/null 2>&1 & echo started`);
  assert.equal(watcher.code, 0, watcher.stderr);
  assert.equal(await exited, 'SIGKILL', `${h.name}: fleetfix was not killed: ${output}`);
  assert.equal(output, '', `${h.name}: killed before any report`);
  assert.notEqual((await fleet.sshLogin(h, 'echo in')).stdout.trim(), 'in', `${h.name}: the change did not lock ssh out`);
  assert.equal((await h.sh(`kill -CONT "-$(cat ${NET}/timer)"`)).code, 0, `${h.name}: the net's timer is gone`);
  // The net fires after CONFIRM_S: wait for it to be gone (bounded: 1 s apart, CONFIRM_S + 60 times).
  for (let i = 0; i < CONFIRM_S + 60 && (await h.sh(`[ -e ${NET} ]`)).code === 0; i++) await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.ok(await sshGetsIn(h, 30), `${h.name}: ssh never got in again`);
  const log = await h.sh(`[ -e ${NET} ] && echo net-left; cat /var/log/fleetfix.log`);
  assert.match(log.stdout, /fleetfix: safety net of run [0-9a-f]+ fired: no confirmation within 20 s; rolling back\n.*fleetfix: undone: sshd_config: .*\n[\s\S]*fleetfix: sshd restarted\n$/, `${h.name}: ${log.stdout}`);
  // The next audit says so.
  const audit = await fleetfix(['audit', '-i', fleet.inventoryPath, '--limit', h.name, '--output', 'json']);
  const findings = hostResult(audit, h.name).checks.find((c) => c.id === 'sshd-log')?.findings ?? [];
  assert.ok(findings.some((f) => /^safety-net: \S+ fleetfix: safety net of run [0-9a-f]+ fired/.test(f)), `${h.name}: ${JSON.stringify(findings)}`);
}

/** Bounded retries of the real ssh client (each up to 5 s to connect, 1 s apart, at most `tries`). */
async function sshGetsIn(h: LabHost, tries: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if ((await fleet.sshLogin(h, 'echo in')).stdout.trim() === 'in') return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

describe('the on-host safety net', { timeout: 600_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-net-'));
    fleet = await createFleet({ hosts: [...Object.keys(LOCKOUTS), 'fine', 'loglink', 'logfifo'] });
    await fleet.setUp(Object.fromEntries(Object.entries(LOCKOUTS).map(([name, [fault]]) => [name, fault])));
  });
  after(async () => {
    await fleet?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('fleetfix killed (SIGKILL) the moment each lockout lands: every host undoes it by itself and ssh gets in again', async () => {
    assert.notEqual((await fleet.sshLogin(host('console'), 'echo in')).stdout.trim(), 'in', 'ssh is refused: fleetfix can reach this host only over its console');
    await Promise.all(Object.entries(LOCKOUTS).map(([name, [, directives, state]]) => killedAsItLocksOut(host(name), directives, state)));
  });

  it('a host fixed normally keeps no timer and no trace of the net', async () => {
    const h = host('fine');
    const run = await fleetfix(['apply', '-i', fleet.inventoryPath, '--limit', 'fine', playbook('fine', 'MaxStartups: "20:30:200"'), '--yes', '--output', 'json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(hostResult(run, 'fine').status, 'fixed');
    const state = await h.sh(`ls -A /run; [ -e /var/log/fleetfix.log ] && echo logged || true`);
    assert.doesNotMatch(state.stdout, /fleetfix-net|logged/, state.stdout);
    const pids = (await runCommand('ip', ['netns', 'pids', h.netns])).stdout.split('\n').filter(Boolean);
    const timers = await runCommand('ps', ['-o', 'args=', '-p', pids.join(',')]);
    assert.doesNotMatch(timers.stdout, /fleetfix-net/, 'no timer process is left');
  });

  it('a second run finds the net of the first armed and changes nothing', async () => {
    const h = host('fine');
    await h.sh(`mkdir -m 0700 ${NET} && echo other-run > ${NET}/run`);
    try {
      const run = await fleetfix(['apply', '-i', fleet.inventoryPath, '--limit', 'fine', playbook('again', 'MaxStartups: "30:30:300"'), '--yes', '--output', 'json']);
      assert.equal(run.code, 3);
      assert.match(hostResult(run, 'fine').error ?? '', /a safety net of another fleetfix run is armed on this host \(other-run\)/);
      const config = await h.sh('grep -c "MaxStartups 30:30:300" /etc/ssh/sshd_config || true');
      assert.equal(config.stdout.trim(), '0', 'nothing was changed');
    } finally {
      await h.sh(`rm -rf ${NET}`);
    }
  });

  it("a log a user swapped for a link or a FIFO (a group-writable /var/log) is not followed, nor waited on: the net still undoes", async () => {
    // Ubuntu's /var/log is root:syslog 0775: here deploy is that group's member, and plants the log.
    const planted = { loglink: 'ln -s /etc/ff-planted /var/log/fleetfix.log', logfifo: 'mkfifo /var/log/fleetfix.log' };
    await fleet.setUp(Object.fromEntries(Object.entries(planted).map(([name, plant]) => [name, `chown root:deploy /var/log && chmod 0775 /var/log && setpriv --reuid=deploy --regid=deploy --init-groups -- ${plant}`])));
    for (const name of Object.keys(planted)) {
      const h = host(name);
      // A net with nothing to undo, whose "restart" leaves a mark: it fires after 1 s.
      const armed = await h.sh(armScript(`e2e-${name}`, 1, ['touch /run/ff-restarted']));
      assert.equal(armed.code, 0, armed.stderr);
      // Bounded: 60 x 0.5 s. A net that waited on the FIFO would never get this far.
      const fired = await h.sh(`for i in $(seq 60); do [ -e /run/ff-restarted ] && [ ! -e ${NET} ] && exit 0; sleep 0.5; done; exit 1`);
      assert.equal(fired.code, 0, `${name}: the net did not run to its end`);
      const after = await h.sh('stat -c "%F %U" /var/log/fleetfix.log; [ -e /etc/ff-planted ] && echo written-through || true');
      assert.equal(after.stdout, name === 'loglink' ? 'symbolic link deploy\n' : 'fifo deploy\n', `${name}: ${after.stdout}`);
    }
  });
});
