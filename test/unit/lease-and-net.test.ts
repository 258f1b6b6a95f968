// The lease and the safety net as scripts, run for real by this machine's sh in a private mount namespace whose /run
// and /var/log are temp directories: who may break a lease (its time, its owner's connection, its net), a net fired
// at once or settled by hand, and status reading it all. Needs root (unshare, mount), as the lab does.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireScript, renewScript } from '../../src/engine/host-lock.js';
import { parsePending, pendingScript, settleByHandScripts, settledByHand } from '../../src/engine/pending.js';
import { armScript, disarmScript, fireNowScript, guardedChange, parseFired } from '../../src/engine/safety-net.js';
import { execBatch } from '../../src/engine/batch.js';
import { CommandTransport } from '../../src/transport/command.js';

const root = process.getuid?.() === 0;
const work = mkdtempSync('/tmp/fleetfix-lease-');
const RUN = join(work, 'run');
const LOG = join(work, 'log');
mkdirSync(RUN);
mkdirSync(LOG);
// A stand-in for the connection's sshd process: a shell whose process is named sshd, the parent of the script's sh.
const SSHD = join(work, 'sshd');
copyFileSync('/bin/dash', SSHD);
const PRIVATE = `unshare -m sh -c 'mount --bind ${RUN} /run && mount --bind ${LOG} /var/log && exec "$0" "$@"'`;
/** A host whose script's sh has no sshd above it (a console, an exec transport). */
const host = CommandTransport.exec(`${PRIVATE} sh -s`, 20_000);
/** A host reached over "sshd": each script's sh is the child of a process named sshd, gone when the script ends. */
const overSshd = CommandTransport.exec(`${PRIVATE} ${SSHD} -c 'sh -s; exit $?'`, 20_000);

/** Stops a net's timer left by a test that failed half-way (a test that passes leaves none). */
const STOP_LEFTOVER_TIMER = 'ff_t=; read -r ff_t 2>/dev/null < /run/fleetfix-net/timer && kill -TERM "-$ff_t" 2>/dev/null; rm -rf /run/fleetfix-net';

after(async () => {
  if (root) await host.exec(STOP_LEFTOVER_TIMER);
  rmSync(work, { recursive: true, force: true });
});

const sh = async (script: string, via = host) => via.exec(script);
const owner = () => readFileSync(join(RUN, 'fleetfix-lock/owner'), 'utf8').trim().split(' ');
/** PID:STARTTIME of a process, as the lease records its owner. */
const anchorOf = (pid: number) => `${pid}:${readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19]}`;
const now = () => Math.floor(Date.now() / 1000);
/** A lease of another run, written as a run would leave it. */
const leaseOf = (run: string, until: number, by: string) => sh(`rm -rf /run/fleetfix-lock /run/fleetfix-net; mkdir -m 0700 /run/fleetfix-lock && echo '${run} ${until} ${by}' > /run/fleetfix-lock/owner`);
const gone = async () => {
  const child = spawn('true');
  await new Promise((resolve) => child.on('exit', resolve));
  return `${child.pid}:1`;
};

describe('the lease, run for real', { skip: !root && 'needs root' }, () => {
  it("is taken with its owner, the connection's sshd process; once that is gone (and no net of its run is armed) the next run breaks it", async () => {
    await sh('rm -rf /run/fleetfix-lock /run/fleetfix-net');
    const first = await sh(acquireScript('100', 600, 0), overSshd);
    assert.equal(first.code, 0, first.stderr);
    const [run, , by] = owner();
    assert.equal(run, '100');
    assert.match(by!, /^\d+:\d+$/, 'the owner is a process');
    const second = await sh(acquireScript('200', 600, 0));
    assert.equal(second.code, 0, second.stderr);
    assert.equal(owner()[0], '200');
  });

  it("of a gone run whose net is still armed: busy until the net has fired; settling by hand breaks it", async () => {
    await leaseOf('100', now() + 600, await gone());
    await sh("mkdir -m 0700 /run/fleetfix-net && echo 100 > /run/fleetfix-net/run");
    const busy = await sh(acquireScript('200', 600, 0));
    assert.equal(busy.code, 3);
    assert.match(busy.stderr, /^busy: fleetfix run 100, which is gone, left its safety net armed on this host; the host is free once the net has undone/);
    const settling = await sh(acquireScript('200', 600, 0, true));
    assert.equal(settling.code, 0, settling.stderr);
    await sh('rm -rf /run/fleetfix-net');
  });

  it('of a gone run whose net is armed by another run: broken', async () => {
    await leaseOf('100', now() + 600, await gone());
    await sh("mkdir -m 0700 /run/fleetfix-net && echo 99 > /run/fleetfix-net/run");
    assert.equal((await sh(acquireScript('200', 600, 0))).code, 0);
    await sh('rm -rf /run/fleetfix-net');
  });

  it('of a run whose connection lives: busy, even when settling; a PID reused by another process is not that run', async () => {
    await leaseOf('100', now() + 600, anchorOf(process.pid));
    for (const settling of [false, true]) {
      const busy = await sh(acquireScript('200', 600, 0, settling));
      assert.equal(busy.code, 3);
      assert.match(busy.stderr, /^busy: another fleetfix run \(100\) is changing this host; its lease lapses at \d\d:\d\d:\d\dZ/);
    }
    await leaseOf('100', now() + 600, `${process.pid}:1`);
    assert.equal((await sh(acquireScript('200', 600, 0))).code, 0, 'the same PID, started at another time');
  });

  it('whose owner cannot be told (a console, an exec transport): stands until it lapses; a lapsed one is broken whoever holds it', async () => {
    await leaseOf('100', now() + 600, '-');
    assert.equal((await sh(acquireScript('200', 600, 0, true))).code, 3);
    await leaseOf('100', now() - 1, anchorOf(process.pid));
    assert.equal((await sh(acquireScript('200', 600, 0))).code, 0);
  });

  it('renewed, keeps its owner', async () => {
    await leaseOf('100', now() + 5, '123:456');
    assert.equal((await sh(renewScript('100', 600))).code, 0);
    const [run, until, by] = owner();
    assert.deepEqual([run, by], ['100', '123:456']);
    assert.ok(Number(until) >= now() + 590);
  });
});

/** A net of run 100 armed for a long time, with two changes under it (files made in /run), and its restart leaving a mark. */
async function armWithTwoChanges(): Promise<void> {
  await sh(`${STOP_LEFTOVER_TIMER}; rm -rf /run/a /run/b /run/restarted /var/log/fleetfix.log`);
  const changes = [guardedChange('touch /run/a', 'rm /run/a', 'made a', 0), guardedChange('touch /run/b', 'rm /run/b', 'made b', 1)];
  const answers = await execBatch(host, [armScript('100', 600, ['touch /run/restarted']), ...changes], { stopOnError: true });
  assert.deepEqual(answers.map((a) => a.code), [0, 0, 0], answers.map((a) => a.stderr).join('\n'));
}

const timerAlive = async () => (await sh('read -r t < /run/fleetfix-net/timer && ps -o stat= -p "$t" | grep -qv Z && echo alive')).stdout.trim() === 'alive';

describe('the safety net, run for real', { skip: !root && 'needs root' }, () => {
  it('fired at once by its run: each undo newest first, then the restart; the log says why; the timer and the net are gone', async () => {
    await armWithTwoChanges();
    const timer = (await sh('cat /run/fleetfix-net/timer')).stdout.trim();
    assert.ok(await timerAlive());
    const fired = await sh(fireNowScript('100', 'interrupted (Ctrl-C)'));
    assert.equal(fired.code, 0, fired.stderr);
    assert.equal(fired.stdout, 'undone 0001\nundone 0000\nrestarted\n');
    assert.deepEqual(parseFired(fired.stdout), { undone: new Set([0, 1]), undoFailed: new Set(), restarted: true });
    // A killed timer may stay a zombie a while (its parent is gone): it counts as gone.
    const left = await sh(`ls -A /run; ps -o stat= -p ${timer} | grep -qv Z && echo timer-alive; cat /var/log/fleetfix.log`);
    assert.doesNotMatch(left.stdout, /^(a|b|fleetfix-net)$|timer-alive/m);
    assert.match(left.stdout, /^restarted$/m);
    assert.match(left.stdout, /fleetfix: safety net of run 100 fired: interrupted \(Ctrl-C\); rolling back\n.*fleetfix: undone: made b\n.*fleetfix: undone: made a\n.*fleetfix: sshd restarted\n$/);
  });

  it("once fired, it is gone: a run's disarm or fire says so (exit 4)", async () => {
    for (const script of [disarmScript('100'), fireNowScript('100', 'x')]) {
      const r = await sh(script);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /fired/);
    }
  });

  it('settled by hand: --confirm keeps the changes and says so in the log; --rollback undoes them; with no net, nothing', async () => {
    await armWithTwoChanges();
    let [taken, confirmed] = await execBatch(host, settleByHandScripts('confirm', '300'), { stopOnError: true });
    assert.equal(taken!.code, 0, taken!.stderr);
    assert.deepEqual(settledByHand('confirm', confirmed!.stdout), { ok: true, message: 'confirmed: the safety net of run 100 is disarmed, and its changes are kept' });
    const kept = await sh('ls -A /run; cat /var/log/fleetfix.log');
    assert.match(kept.stdout, /^a\nb\n/);
    assert.doesNotMatch(kept.stdout, /^fleetfix-(net|lock)$/m, 'no net, and the lease taken for it given back');
    assert.match(kept.stdout, /fleetfix: safety net of run 100 confirmed by hand \(fleetfix status --confirm\): its changes are kept\n$/);

    await armWithTwoChanges();
    const [, rolledBack] = await execBatch(host, settleByHandScripts('rollback', '300'), { stopOnError: true });
    assert.deepEqual(settledByHand('rollback', rolledBack!.stdout), { ok: true, message: 'rolled back: the safety net of run 100 fired now: 2 changes undone, sshd restarted' });
    assert.equal((await sh('ls -d /run/a /run/b /run/restarted /run/fleetfix-net /run/fleetfix-lock 2>/dev/null')).stdout, '/run/restarted\n');

    [, confirmed] = await execBatch(host, settleByHandScripts('confirm', '300'), { stopOnError: true });
    assert.deepEqual(settledByHand('confirm', confirmed!.stdout), { ok: true, message: 'no safety net was armed: nothing to confirm' });
  });
});

describe('status, run for real', { skip: !root && 'needs root' }, () => {
  it('reads the net (its run, when it fires, what it will undo), the lease and its owner, and the log, changing nothing', async () => {
    await armWithTwoChanges();
    await sh(`mkdir -m 0700 /run/fleetfix-lock && echo "100 $(( $(date +%s) + 600 )) ${await gone()}" > /run/fleetfix-lock/owner; for i in $(seq 30); do echo "2026-01-01T00:00:00Z fleetfix: line $i"; done > /var/log/fleetfix.log`);
    const before = (await sh('find /run /var/log -exec stat -c "%n %s %Y" {} + | sort')).stdout;
    const read = await sh(pendingScript());
    assert.equal(read.code, 0, read.stderr);
    assert.equal((await sh('find /run /var/log -exec stat -c "%n %s %Y" {} + | sort')).stdout, before, 'nothing changed');
    const pending = parsePending(read.stdout);
    assert.equal(pending.net?.run, '100');
    assert.deepEqual(pending.net?.undo, ['made b', 'made a']);
    assert.equal(pending.net?.firing, false);
    const inS = (Date.parse(pending.net!.firesAt!) - Date.parse(pending.now)) / 1000;
    assert.ok(inS > 590 && inS <= 600, `fires in ${inS} s`);
    assert.deepEqual([pending.lease?.run, pending.lease?.owner], ['100', 'gone']);
    assert.deepEqual(pending.log, Array.from({ length: 20 }, (_, i) => `2026-01-01T00:00:00Z fleetfix: line ${i + 11}`));
    await sh(fireNowScript('100', 'test'));
  });

  it('a log a user swapped for a link or a FIFO is neither followed nor waited on', async () => {
    await sh('rm -rf /run/fleetfix-lock /run/fleetfix-net /var/log/fleetfix.log; echo secret > /run/target');
    symlinkSync('/run/target', join(LOG, 'fleetfix.log'));
    assert.deepEqual(parsePending((await sh(pendingScript())).stdout).log, []);
    await sh('rm /var/log/fleetfix.log; mkfifo /var/log/fleetfix.log');
    const read = await sh(pendingScript());
    assert.equal(read.code, 0);
    assert.deepEqual(parsePending(read.stdout), { now: parsePending(read.stdout).now, log: [] });
  });
});
