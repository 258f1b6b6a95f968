// Ctrl-C and SIGKILL in the middle of an apply, on real lab hosts: Ctrl-C settles each host it touched (undone, or kept
// once verified) and gives its lease back, so the next apply goes ahead at once; a second Ctrl-C and SIGKILL leave the
// host to its net, and the next apply goes ahead once that net has fired; `status` shows all of it, and settles by hand.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult, type CliRun } from './helpers.js';
import type { HostResult, RunResult } from '../../src/report/model.js';
import { shq } from '../../src/util/shell.js';

const BIN = fileURLToPath(new URL('../../bin/fleetfix.js', import.meta.url));
/** Far longer than an apply's round trips on this machine; the nets that fire on their own take this long. */
const CONFIRM_S = 20;
const NET = '/run/fleetfix-net';
const LOCK = '/run/fleetfix-lock';
/** sshd_config takes too few connections (a fix with an undo, under the net); root's ~/.ssh is 0755 (a fix without one). */
const FAULT = "sed -i '/^MaxStartups/d' /etc/ssh/sshd_config && echo 'MaxStartups 2:30:3' >> /etc/ssh/sshd_config && chmod 0755 /root/.ssh";
const FAULTY = ['before', 'mid', 'verified', 'twice', 'killed', 'confirmed'];

let fleet: Fleet;
let work: string;
let playbook: string;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;

/** A bounded wait: `probe` until `done` says so, 100 ms apart, at most `tries` times. */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, tries: number, what: string): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** An apply on one host, as the operator starts it, with its stderr watched as it comes. */
function startApply(h: LabHost): { child: ChildProcess; stderrShows: (pattern: RegExp) => Promise<void>; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [BIN, 'apply', '-i', fleet.inventoryPath, '--limit', h.name, playbook, '--yes', '--confirm-timeout', String(CONFIRM_S), '--output', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, json: stdout ? (JSON.parse(stdout) as RunResult) : undefined })));
  const stderrShows = (pattern: RegExp) => until(async () => stderr, (text) => pattern.test(text), 300, `fleetfix's stderr to show ${pattern}`).then(() => undefined);
  return { child, stderrShows, done };
}

/** How a watcher on the host holds the run at a point: what it runs (ending once the run is held), and what lets the run go on. */
interface Hold {
  watch: string;
  release: string;
}

/**
 * The round trip the run is in when `condition` comes true, stopped (SIGSTOP): the watcher waits for it, then stops
 * the process groups that the run's connection (the lease's owner, its sshd process) is running, and names them in
 * /run/ff-e2e-held; continued on release.
 */
const stopWhen = (condition: string): Hold => ({
  watch: [
    `while :; do ${condition} && break; done`,
    `read -r ff_r ff_u ff_o < ${LOCK}/owner; ff_p=\${ff_o%%:*}; ff_kids=; read -r ff_kids < /proc/$ff_p/task/$ff_p/children`,
    'for ff_k in $ff_kids; do kill -STOP "-$ff_k"; done',
    'echo "${ff_kids:-none}" > /run/ff-e2e-held',
  ].join('\n'),
  release: 'for ff_k in $(cat /run/ff-e2e-held 2>/dev/null); do kill -CONT "-$ff_k" 2>/dev/null; done',
});

/**
 * The confirmation held right after it has claimed the net: once the net is armed, its `timer` file (the timer's
 * pid) is swapped for a FIFO, on whose read the disarming waits; on release the pid is written into it.
 */
const CONFIRMATION: Hold = {
  watch: [
    `while :; do [ -s ${NET}/timer ] && break; done`,
    `read -r ff_t < ${NET}/timer; echo "$ff_t" > /run/ff-e2e-timer; rm ${NET}/timer; mkfifo -m 0600 ${NET}/timer`,
    `while :; do [ -d ${NET}/claimed ] && break; done`,
    'echo confirmation > /run/ff-e2e-held',
  ].join('\n'),
  release: `[ -p ${NET}/timer ] && timeout 5 sh -c 'cat /run/ff-e2e-timer > ${NET}/timer' || true`,
};

/** Starts a watcher on `h` that holds the run there (`hold`); `held` resolves once it has, saying what it holds. */
async function holdAt(h: LabHost, hold: Hold): Promise<{ held: () => Promise<string>; release: () => Promise<void> }> {
  const started = await h.sh(`rm -f /run/ff-e2e-held /run/ff-e2e-timer; timeout 120 sh -c ${shq(hold.watch)} </dev/null >/dev/null 2>&1 & echo started`);
  assert.equal(started.code, 0, started.stderr);
  return {
    held: async () => (await until(() => h.sh('cat /run/ff-e2e-held 2>/dev/null'), (r) => r.stdout.trim() !== '', 600, `the watcher on ${h.name}`)).stdout.trim(),
    release: async () => void (await h.sh(`${hold.release}; rm -f /run/ff-e2e-held`)),
  };
}

/** Ctrl-C lands on the apply of `h` while the run is held there (`at`), and is handled before it goes on. */
async function ctrlCAt(h: LabHost, at: Hold): Promise<CliRun> {
  const hold = await holdAt(h, at);
  const apply = startApply(h);
  try {
    assert.notEqual(await hold.held(), 'none', `${h.name}: the watcher found no round trip of the run to hold`);
    apply.child.kill('SIGINT');
    await apply.stderrShows(/fleetfix: interrupted: starting nothing new, settling the hosts in flight/);
    await hold.release();
    return await apply.done;
  } finally {
    await hold.release();
    apply.child.kill('SIGKILL');
  }
}

const leftOn = async (h: LabHost) => (await h.sh(`[ -e ${LOCK} ] && echo lease; [ -e ${NET} ] && echo net; true`)).stdout.trim();
const sshdConfigured = async (h: LabHost) => (await h.sh("grep '^MaxStartups' /etc/ssh/sshd_config; stat -c %a /root/.ssh")).stdout;
const messages = (r: HostResult) => Object.fromEntries(r.checks.map((c) => [c.id, `${c.status}: ${c.message}`]));

/** The next apply, started right after: it goes ahead, and ends with the host fixed (or already so). */
async function nextApplyFixes(h: LabHost, wanted: 'fixed' | 'compliant' = 'fixed'): Promise<void> {
  const next = await fleetfix(['apply', '-i', fleet.inventoryPath, '--limit', h.name, playbook, '--yes', '--output', 'json']);
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.equal(hostResult(next, h.name).status, wanted);
  assert.equal(await sshdConfigured(h), 'MaxStartups 10:30:100\n700\n');
  assert.equal(await leftOn(h), '');
}

describe('Ctrl-C and SIGKILL mid-apply', { timeout: 600_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-interrupt-'));
    playbook = join(work, 'interrupt.yml');
    writeFileSync(
      playbook,
      `name: interrupt
checks:
  - id: max-startups
    title: sshd takes enough connections
    sshd_config: { MaxStartups: "10:30:100" }
    notify: reload-sshd
  - id: ssh-dir
    title: root's ~/.ssh is 0700
    file: { path: "~root/.ssh", type: directory, owner: root, mode: "0700" }
handlers:
  - id: reload-sshd
    title: sshd takes the new configuration
    service: { name: ssh, state: reloaded }
`,
    );
    fleet = await createFleet({ hosts: [...FAULTY, 'quiet'] });
    await fleet.setUp(Object.fromEntries(FAULTY.map((name) => [name, FAULT])));
  });
  after(async () => {
    await fleet?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('Ctrl-C before any change (the facts in flight): nothing changes, the lease is given back, the next apply goes ahead', async () => {
    const h = host('before');
    const run = await ctrlCAt(h, stopWhen(`[ -e ${LOCK}/owner ]`));
    assert.equal(run.code, 130, run.stderr);
    const r = hostResult(run, 'before');
    assert.deepEqual([r.status, r.error], ['failed', 'interrupted']);
    assert.match(messages(r)['max-startups']!, /^fail: /);
    assert.equal(await sshdConfigured(h), 'MaxStartups 2:30:3\n755\n', 'nothing was changed');
    assert.equal(await leftOn(h), '', 'no lease, no net');
    await nextApplyFixes(h);
  });

  it('Ctrl-C mid-change (the first undo recorded): the round trip ends, the net fires at once, the lease is given back', async () => {
    const h = host('mid');
    const run = await ctrlCAt(h, stopWhen(`set -- ${NET}/undo.*; [ -e "$1" ]`));
    assert.equal(run.code, 130, run.stderr);
    const r = hostResult(run, 'mid');
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /^interrupted \(Ctrl-C\) before a fresh login verified the host: its safety net was fired at once: 1 change undone, sshd restarted; 1 fix with no undo kept; the lease was given back$/);
    assert.match(messages(r)['max-startups']!, /^fail: undone: made \(/);
    assert.match(messages(r)['ssh-dir']!, /^fixed: kept \(not verified\): /);
    assert.equal(await sshdConfigured(h), 'MaxStartups 2:30:3\n700\n', 'the change under the net undone, the other kept');
    assert.equal(await leftOn(h), '');
    assert.match((await h.sh('cat /var/log/fleetfix.log')).stdout, /fleetfix: safety net of run \d+ fired: interrupted \(Ctrl-C\) before a fresh login verified the host; rolling back\n.*undone: /);
    assert.equal((await fleet.sshLogin(h, 'echo in')).stdout, 'in\n');
    await nextApplyFixes(h);
  });

  it('Ctrl-C after verification (the confirmation in flight): the host is confirmed, each fix kept (verified)', async () => {
    const h = host('verified');
    const run = await ctrlCAt(h, CONFIRMATION);
    assert.equal(run.code, 130, run.stderr);
    const r = hostResult(run, 'verified');
    assert.equal(r.status, 'fixed', r.error);
    assert.match(messages(r)['max-startups']!, /^fixed: kept \(verified\): /);
    assert.match(messages(r)['ssh-dir']!, /^fixed: kept \(verified\): /);
    assert.equal(await leftOn(h), '');
    await nextApplyFixes(h, 'compliant');
  });

  it('a second Ctrl-C exits at once, says what it leaves; status --rollback settles that host by hand, and the next apply goes ahead', async () => {
    const h = host('twice');
    const hold = await holdAt(h, stopWhen(`set -- ${NET}/undo.*; [ -e "$1" ]`));
    const apply = startApply(h);
    try {
      assert.notEqual(await hold.held(), 'none');
      apply.child.kill('SIGINT');
      await apply.stderrShows(/fleetfix: interrupted: starting nothing new/);
      apply.child.kill('SIGINT');
      const run = await apply.done;
      assert.equal(run.code, 130);
      assert.equal(run.stdout, '', 'no report');
      assert.match(run.stderr, /fleetfix: interrupted again: exiting at once, without settling; twice: this run's safety net stays armed, and undoes the changes under it when its time runs out \(fleetfix status shows them\)\n/);
    } finally {
      await hold.release();
      apply.child.kill('SIGKILL');
    }
    assert.equal(await leftOn(h), 'lease\nnet', 'the net and the lease stay');
    // Once the run's connection is gone, a settling by hand may take the lease.
    await until(() => fleetfix(['status', '-i', fleet.inventoryPath, '--limit', 'twice', '--output', 'json']), (s) => hostResult(s, 'twice').pending?.lease?.owner === 'gone', 100, "the run's connection to end");
    const settled = await fleetfix(['status', '-i', fleet.inventoryPath, '--rollback', 'twice', '--output', 'json']);
    assert.equal(settled.code, 0, settled.stdout + settled.stderr);
    assert.match(messages(hostResult(settled, 'twice')).settle!, /^fixed: rolled back: the safety net of run \d+ fired now: 1 change undone, sshd restarted$/);
    assert.equal(await leftOn(h), '');
    assert.match(await sshdConfigured(h), /^MaxStartups 2:30:3\n/);
    await nextApplyFixes(h);
  });

  it('SIGKILL mid-change: the next apply is refused while the net is armed, goes ahead once it has fired; status shows it all', async () => {
    const killAtFirstUndo = async (h: LabHost) => {
      const apply = startApply(h);
      try {
        const watch = `while :; do set -- ${NET}/undo.*; [ -e "$1" ] && break; done; kill -9 ${apply.child.pid}`;
        assert.equal((await h.sh(`timeout 120 sh -c ${shq(watch)} </dev/null >/dev/null 2>&1 & echo started`)).code, 0);
        const run = await apply.done;
        assert.equal(run.code, -1, `${h.name}: fleetfix was not killed: ${run.stderr}`);
      } finally {
        apply.child.kill('SIGKILL');
      }
      return Date.now();
    };
    const killed = host('killed');
    const killedAt = await killAtFirstUndo(killed);
    await killAtFirstUndo(host('confirmed'));
    const statusOf = () => fleetfix(['status', '-i', fleet.inventoryPath, '--output', 'json']);
    const gone = (s: CliRun) => ['killed', 'confirmed'].every((n) => hostResult(s, n).pending?.lease?.owner === 'gone');
    const status = await until(statusOf, gone, 100, 'the killed runs to be seen gone');

    // An armed net and a lease (killed, confirmed), a fired net in the log (mid), nothing (quiet).
    assert.equal(status.code, 2, status.stderr);
    const armed = hostResult(status, 'killed').pending!;
    assert.equal(armed.net?.run, armed.lease?.run);
    assert.equal(armed.net?.undo.length, 1);
    assert.match(armed.net!.undo[0]!, /MaxStartups/);
    const inS = (Date.parse(armed.net!.firesAt!) - Date.parse(armed.now)) / 1000;
    assert.ok(inS > 0 && inS <= CONFIRM_S, `fires in ${inS} s`);
    assert.equal(hostResult(status, 'killed').status, 'drift');
    assert.ok(hostResult(status, 'mid').pending!.log.some((l) => /safety net of run \d+ fired: interrupted \(Ctrl-C\)/.test(l)));
    assert.deepEqual([hostResult(status, 'quiet').status, hostResult(status, 'quiet').pending], ['compliant', { now: hostResult(status, 'quiet').pending!.now, log: [] }]);
    const text = await fleetfix(['status', '-i', fleet.inventoryPath]);
    assert.match(text.stdout, /^killed +198\.\S+ +drift +armed by \d+, fires \S+Z +\d+ \(owner gone\)$/m);
    assert.match(text.stdout, /^  safety-net \[fail\]: armed by run \d+; it fires at \S+ \(in \d+ s\); then it undoes 1 change, newest first, and restarts sshd\n      undo: /m);
    assert.match(text.stdout, /^  lease \[fail\]: held by run \d+, whose connection is gone: the host is free once its safety net has fired/m);
    for (const format of ['junit', 'html']) {
      const doc = await fleetfix(['status', '-i', fleet.inventoryPath, '--output', format]);
      assert.equal(doc.code, 2);
      assert.match(doc.stdout, /armed by run \d+/, format);
    }

    // The next apply is refused while that net is armed, naming why.
    const refused = await fleetfix(['apply', '-i', fleet.inventoryPath, '--limit', 'killed', playbook, '--yes', '--output', 'json']);
    assert.equal(refused.code, 3);
    assert.match(hostResult(refused, 'killed').error ?? '', /^busy: fleetfix run \d+, which is gone, left its safety net armed on this host/);

    // Settled by hand: --confirm keeps what was made (the connection is the host's own SSH login).
    const confirmed = await fleetfix(['status', '-i', fleet.inventoryPath, '--confirm', 'confirmed', '--output', 'json']);
    assert.match(messages(hostResult(confirmed, 'confirmed')).settle!, /^fixed: confirmed: the safety net of run \d+ is disarmed, and its changes are kept$/);
    assert.equal(await leftOn(host('confirmed')), '');

    // Once the net has fired (bounded: CONFIRM_S + 30 s), the lease's owner gone, the next apply goes ahead.
    await until(() => leftOn(killed), (left) => !left.includes('net'), (CONFIRM_S + 30) * 10, "killed's net to fire");
    const fired = await statusOf();
    assert.match(messages(hostResult(fired, 'killed')).lease!, /^finding: left by run \d+, whose connection is gone and whose safety net has fired/);
    assert.ok(hostResult(fired, 'killed').pending!.log.some((l) => new RegExp(`fired: no confirmation within ${CONFIRM_S} s`).test(l)));
    await nextApplyFixes(killed);
    assert.ok(Date.now() - killedAt < (CONFIRM_S + 60) * 1000, 'within the confirm timeout and a small bound of the kill');
  });

  it('settling by hand is refused while a live run holds the host, and changes nothing', async () => {
    const h = host('quiet');
    // A run whose connection lives: its owner is a live process on the host.
    const held = await h.sh(`sleep 300 </dev/null >/dev/null 2>&1 & ff_p=$!; read -r ff_s < /proc/$ff_p/stat; ff_s=\${ff_s##*) }; set -- $ff_s; mkdir -m 0700 ${LOCK} && echo "17 $(( $(date +%s) + 600 )) $ff_p:\${20}" > ${LOCK}/owner; echo $ff_p`);
    try {
      const r = await fleetfix(['status', '-i', fleet.inventoryPath, '--rollback', 'quiet', '--output', 'json']);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(messages(hostResult(r, 'quiet')).settle!, /^error: refused: busy: another fleetfix run \(17\) is changing this host/);
      assert.match(messages(hostResult(r, 'quiet')).lease!, /^fail: held by run 17 until \S+; the connection that run holds it over is open$/);
      assert.equal((await h.sh(`cat ${LOCK}/owner`)).stdout.split(' ')[0], '17');
    } finally {
      await h.sh(`kill ${held.stdout.trim()}; rm -rf ${LOCK}`);
    }
  });
});
