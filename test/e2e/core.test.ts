// The core loop on a real fleet: audit finds each fault, plan changes nothing, apply fixes, a real ssh login proves it, a second apply changes nothing.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { checkStatuses, fleetfix, hostDigest, hostResult } from './helpers.js';

const OTHER_LINES = '# team keys: keep\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDalice alice@example\n';
/** Each host's fault, all on the `deploy` user whose access the playbook repairs. */
const FAULTS: Record<string, string> = {
  h1: ':',
  h2: 'chmod 0777 /home/deploy/.ssh',
  h3: 'chmod 0666 /home/deploy/.ssh/authorized_keys && chown nobody:nogroup /home/deploy/.ssh/authorized_keys',
  h4: `printf '%s' '${OTHER_LINES}' > /home/deploy/.ssh/authorized_keys`,
  h5: 'rm -rf /home/deploy/.ssh',
};
const EXPECTED_FAILS: Record<string, string[]> = {
  h1: [],
  // sshd's StrictModes refuses a ~/.ssh others can write, and an authorized_keys owned by another user: the key
  // check says so too.
  // And the login as deploy, tried from here, fails on each.
  h2: ['ssh-dir', 'authorized-key', 'ssh-login'],
  h3: ['authorized-keys-file', 'authorized-key', 'ssh-login'],
  h4: ['authorized-key', 'ssh-login'],
  h5: ['ssh-dir', 'authorized-keys-file', 'authorized-key', 'ssh-login'],
};

let fleet: Fleet;
let inv: string[];
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const digests = () => Promise.all(fleet.hosts.map(hostDigest));
const failing = (run: Awaited<ReturnType<typeof fleetfix>>, name: string) =>
  Object.entries(checkStatuses(run, name))
    .filter(([, s]) => s !== 'pass' && s !== 'finding')
    .map(([id]) => id);

describe('core: audit, plan, apply on a real fleet', { timeout: 600_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: Object.keys(FAULTS) });
    inv = ['-i', fleet.inventoryPath, '--var', 'ssh_user=deploy'];
    await fleet.setUp(FAULTS);
  });
  after(async () => fleet?.destroy());

  it('the faults really lock the deploy user out (real ssh client)', async () => {
    for (const h of fleet.hosts) {
      const login = await fleet.sshLogin(h, 'true', { user: 'deploy' });
      assert.equal(login.code === 0, h.name === 'h1', `${h.name}: ssh exit ${login.code} ${login.stderr}`);
    }
  });

  it('audit names each fault and exits 2', async () => {
    const run = await fleetfix(['audit', ...inv, '--output', 'json']);
    assert.equal(run.code, 2, run.stderr);
    for (const h of fleet.hosts) assert.deepEqual(failing(run, h.name), EXPECTED_FAILS[h.name], h.name);
    const log = hostResult(run, 'h2').checks.find((c) => c.id === 'sshd-log')!;
    assert.equal(log.status, 'finding', 'log findings inform (their own status); they decide nothing');
    assert.match(log.findings!.join('\n'), /bad-ownership-or-modes: Authentication refused: bad ownership or modes for directory \/home\/deploy\/\.ssh/);
    assert.deepEqual(run.json!.summary, { ...run.json!.summary, hosts: 5, compliant: 1, drift: 4, unreachable: 0, failed: 0 });
    assert.equal(hostResult(run, 'h1').access, 'ssh');
  });

  it('plan shows diffs and leaves every host byte-identical', async () => {
    const before = await digests();
    const run = await fleetfix(['plan', ...inv, '--output', 'json']);
    assert.equal(run.code, 2, run.stderr);
    const h4 = hostResult(run, 'h4').checks.find((c) => c.id === 'authorized-key')!;
    assert.match(h4.changes[0]!.diff!, /^\+ssh-ed25519 \S+ operator@fleetfix-lab$/m);
    assert.match(h4.changes[0]!.diff!, /^ # team keys: keep$/m);
    const h2 = hostResult(run, 'h2').checks.find((c) => c.id === 'ssh-dir')!;
    assert.equal(h2.changes[0]!.diff, '/home/deploy/.ssh: mode 0777 -> 0700');
    const h3 = hostResult(run, 'h3').checks.find((c) => c.id === 'authorized-keys-file')!;
    assert.deepEqual(h3.changes.map((c) => c.summary), ['/home/deploy/.ssh/authorized_keys: owner nobody -> deploy', '/home/deploy/.ssh/authorized_keys: mode 0666 -> 0600']);
    assert.deepEqual(await digests(), before);
  });

  it('text plan prints the table and the diffs', async () => {
    const run = await fleetfix(['plan', ...inv]);
    assert.equal(run.code, 2);
    assert.match(run.stdout, /^HOST\s+ADDRESS\s+STATUS/m);
    assert.match(run.stdout, /^h5\s+\S+\s+drift/m);
    assert.match(run.stdout, /\+\+\+ \/home\/deploy\/\.ssh\/authorized_keys/);
    // h5 (no ~/.ssh): ~/.ssh made, authorized_keys made, the key added, each once.
    assert.match(run.stdout, /5 hosts: 1 compliant, 4 drift; 7 changes pending/);
  });

  it('apply without a TTY and without --yes refuses and changes nothing', async () => {
    const before = await digests();
    const run = await fleetfix(['apply', ...inv]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /pass --yes/);
    assert.deepEqual(await digests(), before);
  });

  it('apply --yes fixes every host; the real ssh client logs in; other lines survive', async () => {
    const run = await fleetfix(['apply', '--yes', ...inv, '--output', 'json']);
    assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
    assert.equal(run.json!.summary.fixed, 4);
    assert.equal(run.json!.summary.compliant, 1);
    assert.equal(run.json!.summary.changes, 7);
    for (const h of fleet.hosts) {
      assert.equal(hostResult(run, h.name).status, h.name === 'h1' ? 'compliant' : 'fixed');
      const login = await fleet.sshLogin(h, 'id -un', { user: 'deploy' });
      assert.equal(login.code, 0, `${h.name}: ${login.stderr}`);
      assert.equal(login.stdout.trim(), 'deploy');
    }
    const keys = await host('h4').sh('cat /home/deploy/.ssh/authorized_keys; stat -c "%a %U" /home/deploy/.ssh/authorized_keys');
    assert.equal(keys.stdout, `${OTHER_LINES}${fleet.operatorPublicKey}\n600 deploy\n`);
    const h3 = await host('h3').sh('stat -c "%a %U %G" /home/deploy/.ssh/authorized_keys');
    assert.equal(h3.stdout.trim(), '600 deploy nogroup');
  });

  it('a second apply changes nothing', async () => {
    const before = await digests();
    const run = await fleetfix(['apply', '--yes', ...inv, '--output', 'json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json!.summary.changes, 0);
    assert.equal(run.json!.summary.compliant, 5);
    assert.deepEqual(await digests(), before);
  });

  it('handlers run once, only when a notifying check changed something', async () => {
    const playbook = join(process.cwd(), 'test/fixtures/playbooks/handler.yml');
    const pid = async () => (await host('h1').sh('cat /run/sshd.pid')).stdout.trim();
    const pidBefore = await pid();
    const planned = await fleetfix(['plan', '-i', fleet.inventoryPath, '--limit', 'h1', playbook, '--output', 'json']);
    const pendingHandler = hostResult(planned, 'h1').checks.find((c) => c.id === 'restart-sshd')!;
    assert.equal(pendingHandler.kind, 'handler');
    assert.match(pendingHandler.message, /notified by drop-in/);
    assert.equal(await pid(), pidBefore);

    const first = await fleetfix(['apply', '--yes', '-i', fleet.inventoryPath, '--limit', 'h1', playbook, '--output', 'json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(checkStatuses(first, 'h1')['restart-sshd'], 'fixed');
    const pidAfter = await pid();
    assert.notEqual(pidAfter, pidBefore, 'sshd was restarted');
    assert.equal((await fleet.sshLogin(host('h1'))).code, 0);

    const second = await fleetfix(['apply', '--yes', '-i', fleet.inventoryPath, '--limit', 'h1', playbook, '--output', 'json']);
    assert.equal(second.code, 0);
    assert.equal(checkStatuses(second, 'h1')['restart-sshd'], undefined, 'not notified: not run');
    assert.equal(await pid(), pidAfter);
  });

  it('a changed host key is refused and nothing runs on that host', async () => {
    const accepted = async () => (await host('h2').sh("grep -c 'Accepted publickey' /var/log/auth.log || true")).stdout.trim();
    const acceptedBefore = await accepted();
    const knownHosts = join(fleet.root, 'known_hosts.changed');
    const impostor = 'AAAAC3NzaC1lZDI1NTE5AAAAIFVL+I3U9HuRirs6xyE1j89zcUFGV/12eXNOz7QPa6TS';
    writeFileSync(knownHosts, `${host('h2').address} ssh-ed25519 ${impostor}\n`);
    const inventory = join(fleet.root, 'inventory.changed.yml');
    writeFileSync(inventory, readFileSync(fleet.inventoryPath, 'utf8').replace(fleet.knownHostsPath, knownHosts));
    const run = await fleetfix(['audit', '-i', inventory, '--limit', 'h1,h2', '--output', 'json']);
    assert.equal(run.code, 3);
    const h2 = hostResult(run, 'h2');
    assert.equal(h2.status, 'unreachable');
    assert.equal(h2.diagnosis?.cause, 'host-key-changed');
    assert.match(h2.error!, /HOST KEY CHANGED/);
    assert.equal(h2.access, undefined, 'a changed key stops the host: no fallback, not even the console');
    assert.deepEqual(h2.attempts!.map((a) => a.access), ['ssh']);
    const h1 = hostResult(run, 'h1');
    assert.equal(h1.diagnosis?.cause, 'host-key-unknown', 'h1 has no entry in this known_hosts: unknown under strict');
    assert.equal(h1.access, 'console', 'an unknown key is no attack: the console, a path of its own, is tried');
    assert.equal(await accepted(), acceptedBefore, 'no login happened on h2');
  });

  it('accept-new learns an unknown host key, and then holds it', async () => {
    const knownHosts = join(fleet.root, 'known_hosts.new');
    writeFileSync(knownHosts, '');
    const inventory = join(fleet.root, 'inventory.acceptnew.yml');
    writeFileSync(inventory, readFileSync(fleet.inventoryPath, 'utf8').replace(fleet.knownHostsPath, knownHosts).replace('host_key_policy: strict', 'host_key_policy: accept-new'));
    const run = await fleetfix(['audit', '-i', inventory, '--limit', 'h1', '--output', 'json']);
    assert.equal(run.code, 0, run.stderr);
    const learned = readFileSync(knownHosts, 'utf8');
    assert.match(learned, new RegExp(`^${host('h1').address.replaceAll('.', '\\.')} ssh-ed25519 `));
    const strictAgain = join(fleet.root, 'inventory.learned.yml');
    writeFileSync(strictAgain, readFileSync(inventory, 'utf8').replace('host_key_policy: accept-new', 'host_key_policy: strict'));
    assert.equal((await fleetfix(['audit', '-i', strictAgain, '--limit', 'h1'])).code, 0);
  });

  it('become: sudo runs as root for a non-root login; without it, unreadable paths are errors, never "absent"', async () => {
    await host('h1').sh("echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy");
    const inventory = join(fleet.root, 'inventory.deploy.yml');
    writeFileSync(inventory, readFileSync(fleet.inventoryPath, 'utf8').replace('user: root', 'user: deploy'));
    const withoutSudo = await fleetfix(['audit', '-i', inventory, '--limit', 'h1', '--var', 'ssh_user=root', '--output', 'json']);
    assert.equal(withoutSudo.code, 3);
    const dir = hostResult(withoutSudo, 'h1').checks.find((c) => c.id === 'ssh-dir')!;
    assert.equal(dir.status, 'error');
    assert.match(dir.message, /cannot examine \/root\/\.ssh: .*Permission denied/);
    writeFileSync(inventory, readFileSync(inventory, 'utf8').replace('user: deploy', 'user: deploy\n  become: sudo'));
    const withSudo = await fleetfix(['audit', '-i', inventory, '--limit', 'h1', '--var', 'ssh_user=root', '--output', 'json']);
    assert.equal(withSudo.code, 0, withSudo.stdout);
  });

  it('a hung host times out alone (--timeout); the others finish; Ctrl-C reports and exits 130', async () => {
    const stop = await host('h3').sh('kill -STOP "$(cat /run/sshd.pid)"');
    assert.equal(stop.code, 0);
    try {
      const inventory = join(fleet.root, 'inventory.slow.yml');
      writeFileSync(inventory, readFileSync(fleet.inventoryPath, 'utf8').replace('connect_timeout: 5', 'connect_timeout: 60'));
      const run = await fleetfix(['audit', '-i', inventory, '--timeout', '2', '--output', 'json', '--var', 'ssh_user=deploy']);
      assert.equal(run.code, 3);
      assert.equal(hostResult(run, 'h3').status, 'failed');
      assert.match(hostResult(run, 'h3').error!, /timed out after 2 s/);
      for (const name of ['h1', 'h2', 'h4', 'h5']) assert.equal(hostResult(run, name).status, 'compliant', name);

      // Ctrl-C once every other host is done with: each logged the end of fleetfix's session as root, which ends after
      // the login as deploy that runs beside the facts (bounded: 600 x 0.1 s).
      const others = fleet.hosts.filter((h) => h.name !== 'h3');
      const sessionsEnded = () => Promise.all(others.map(async (h) => Number((await h.sh("grep -c 'Disconnected from user root ' /var/log/auth.log || true")).stdout.trim())));
      const before = await sessionsEnded();
      const othersDone = (async () => {
        for (let i = 0; i < 600; i++) {
          if ((await sessionsEnded()).every((n, k) => n > before[k]!)) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error('the other hosts never ended their sessions');
      })();
      const interrupted = await fleetfix(['audit', '-i', inventory, '--output', 'json', '--var', 'ssh_user=deploy'], { interruptWhen: othersDone });
      await othersDone;
      assert.equal(interrupted.code, 130, interrupted.stderr);
      assert.match(hostResult(interrupted, 'h3').error!, /interrupted/);
      assert.equal(hostResult(interrupted, 'h1').status, 'compliant', 'hosts that finished keep their result');
    } finally {
      await host('h3').sh('kill -CONT "$(cat /run/sshd.pid)"');
    }
  });
});
