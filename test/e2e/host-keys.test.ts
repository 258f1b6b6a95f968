// sshd's own host keys on real lab hosts, sshd down because of them: audit names each key over the console, apply
// fixes modes with the operator's known_hosts still good, and a key made anew is named by its fingerprint and
// refused by the real ssh client as a changed host key until known_hosts holds it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, run, type Fleet, type LabHost } from '../lab/fleet.js';
import { checkStatuses, fleetfix, hostDigest, hostResult, type CliRun } from './helpers.js';

const KEYS = ['/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_ecdsa_key'];
/** sshd stopped and started again: the init script's sshd -t refuses the keys, so sshd stays down. */
const RESTART = '/etc/init.d/ssh stop >/dev/null; /etc/init.d/ssh start >/dev/null 2>&1 || true; ! [ -s /run/sshd.pid ] || ! kill -0 "$(cat /run/sshd.pid)" 2>/dev/null';

/** Host -> its fault: the private keys readable by all; none at all; Fedora's 0640 root:ssh_keys (refused by Debian's sshd); one key a link. */
const FAULTS: Record<string, string> = {
  modes: `chmod 0644 ${KEYS.join(' ')} && ${RESTART}`,
  missing: `rm -f /etc/ssh/ssh_host_* && ${RESTART}`,
  group: `groupadd -r ssh_keys && chgrp ssh_keys ${KEYS.join(' ')} && chmod 0640 ${KEYS.join(' ')} && ${RESTART}`,
  link: `mv ${KEYS[2]} /root/ecdsa_key && chmod 0644 /root/ecdsa_key && ln -s /root/ecdsa_key ${KEYS[2]}`,
};

let fleet: Fleet;
let work: string;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const playbookPath = () => join(work, 'host-keys.yml');
const on = (...names: string[]) => ['-i', fleet.inventoryPath, '--limit', names.join(','), playbookPath(), '--output', 'json'];
const check = (run: CliRun, name: string, id: string) => hostResult(run, name).checks.find((c) => c.id === id)!;

/** Each key's mode, owner and group, and where a link leads. */
async function keyStats(h: LabHost): Promise<string> {
  const r = await h.sh(`stat -c '%n %a %U %G %N' ${KEYS.join(' ')} /root/ecdsa_key 2>/dev/null; true`);
  return r.stdout;
}

describe('host keys: named, fixed, and a new key never trusted', { timeout: 600_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-host-keys-'));
    fleet = await createFleet({ hosts: Object.keys(FAULTS) });
    // sshd_config is judged beside: with no key sshd loads, sshd -T fails, and the configuration is read all the same.
    writeFileSync(
      playbookPath(),
      `name: host-keys
checks:
  - id: host-keys
    title: sshd's host keys are root's alone, and sshd loads some
    host_keys: { for: { user: root } }
    notify: reload-sshd
  - id: sshd-config
    title: sshd accepts keys
    sshd_config: { for: { user: root }, PubkeyAuthentication: "yes" }
    notify: reload-sshd
  - id: sshd-running
    title: sshd runs
    service: { name: ssh, state: running }
  - id: ssh-login
    title: a fresh login as root works
    ssh_login: { user: root }
handlers:
  - id: reload-sshd
    title: sshd reloaded (after sshd -t)
    service: { name: ssh, state: reloaded }
`,
    );
    await fleet.setUp(FAULTS);
  });
  after(async () => {
    await fleet?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('sshd is down where it loads no key; the link keeps the others working', async () => {
    for (const name of ['modes', 'missing', 'group']) assert.notEqual((await fleet.sshLogin(host(name))).code, 0, name);
    assert.equal((await fleet.sshLogin(host('link'))).code, 0);
  });

  it('audit names each key and what sshd says, over the console; plan changes nothing', async () => {
    const digests = await Promise.all(fleet.hosts.map(hostDigest));
    const audit = await fleetfix(['audit', ...on('modes', 'missing', 'group', 'link')]);
    assert.equal(audit.code, 2, audit.stderr);
    for (const name of ['modes', 'missing', 'group']) assert.equal(hostResult(audit, name).access, 'console', name);
    const modes = check(audit, 'modes', 'host-keys');
    assert.equal(modes.status, 'fail');
    for (const key of KEYS) assert.match(modes.message, new RegExp(`${key}: mode 0644: sshd ignores .*Permissions 0644 for '${key}' are too open`));
    assert.deepEqual(modes.changes.map((c) => c.summary).sort(), KEYS.map((k) => `host key ${k}: mode 0644, owner root:root -> mode 0600`).sort());
    assert.equal(check(audit, 'modes', 'sshd-config').status, 'pass', 'sshd_config is judged though sshd -T loads no key');
    const missing = check(audit, 'missing', 'host-keys');
    assert.match(missing.message, /sshd loads no host key, and will not start \("sshd: no hostkeys available -- exiting\."\)/);
    assert.equal(missing.changes.length, 1);
    assert.match(missing.changes[0]!.summary, new RegExp(`^generate new host keys \\(rsa ${KEYS[1]}, ecdsa ${KEYS[2]}, ed25519 ${KEYS[0]}\\): .*refuses them as a changed host key`));
    assert.match(check(audit, 'group', 'host-keys').message, /ssh_host_ed25519_key: mode 0640: sshd ignores/);
    const link = check(audit, 'link', 'host-keys');
    assert.equal(link.status, 'finding');
    assert.deepEqual(link.findings, [`${KEYS[2]} is a symbolic link: sshd follows it, fleetfix neither follows nor changes it`]);
    const plan = await fleetfix(['plan', ...on('modes', 'missing', 'group', 'link')]);
    assert.equal(plan.code, 2, plan.stderr);
    assert.deepEqual(await Promise.all(fleet.hosts.map(hostDigest)), digests);
  });

  it('apply fixes the modes; the real ssh client gets in with the known_hosts it had', async () => {
    const linkBefore = await keyStats(host('link'));
    const apply = await fleetfix(['apply', '--yes', ...on('modes', 'group', 'link')]);
    assert.equal(apply.code, 0, `${apply.stderr}\n${apply.stdout}`);
    for (const name of ['modes', 'group']) {
      assert.equal(hostResult(apply, name).status, 'fixed', name);
      assert.equal(checkStatuses(apply, name)['host-keys'], 'fixed', name);
      assert.match(await keyStats(host(name)), new RegExp(KEYS.map((k) => `${k} 600 root ${name === 'group' ? 'ssh_keys' : 'root'} `).join('.*\\n')));
      const login = await fleet.sshLogin(host(name), 'hostname');
      assert.equal(login.code, 0, `${name}: ${login.stderr}`);
    }
    assert.equal(await keyStats(host('link')), linkBefore, 'the link and what it leads to are as they were');
    assert.match(linkBefore, /\/root\/ecdsa_key 644 root root/);
  });

  it('apply makes the missing keys, names each fingerprint, and the host is not called fixed', async () => {
    const apply = await fleetfix(['apply', '--yes', ...on('missing')]);
    assert.equal(apply.code, 3, `${apply.stderr}\n${apply.stdout}`);
    const result = hostResult(apply, 'missing');
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /HOST KEY CHANGED/);
    const keys = check(apply, 'missing', 'host-keys');
    assert.equal(keys.status, 'fixed');
    const reported = new Map((keys.findings ?? []).map((f) => /^(\S+) is a new host key fleetfix generated \([^)]*\): (\d+ SHA256:\S+ \(\w+\))\. .*changed host key.*known_hosts/.exec(f)!.slice(1, 3) as [string, string]));
    assert.deepEqual([...reported.keys()].sort(), [...KEYS].sort());
    // Each as ssh-keygen -lf prints it on the host.
    for (const [path, fp] of reported) {
      const onHost = await host('missing').sh(`ssh-keygen -lf ${path}.pub`);
      assert.equal(onHost.stdout.replace(/ fleetfix-generated \S+ /, ' '), `${fp}\n`);
    }
    // The real ssh client, strict: the key changed.
    const refused = await fleet.sshLogin(host('missing'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);

    // The operator verifies the scanned keys against the reported fingerprints, then replaces the old ones.
    const address = host('missing').address;
    const scanned = await run('ssh-keyscan', ['-t', 'ed25519,rsa,ecdsa', address]);
    const lines = scanned.stdout.split('\n').filter((l) => l.startsWith(`${address} `));
    assert.equal(lines.length, 3, scanned.stderr);
    const fingerprints = await run('ssh-keygen', ['-lf', '-'], `${lines.join('\n')}\n`);
    assert.deepEqual(fingerprints.stdout.trim().split('\n').map((l) => l.replace(` ${address} `, ' ')).sort(), [...reported.values()].sort());
    const known = readFileSync(fleet.knownHostsPath, 'utf8').split('\n').filter((l) => l && !l.startsWith(`${address} `));
    writeFileSync(fleet.knownHostsPath, `${[...known, ...lines].join('\n')}\n`);
    const login = await fleet.sshLogin(host('missing'), 'hostname');
    assert.equal(login.code, 0, login.stderr);

    // Over SSH now, with the new key known: nothing more to say.
    const audit = await fleetfix(['audit', ...on('missing')]);
    assert.equal(audit.code, 0, audit.stdout);
    assert.equal(hostResult(audit, 'missing').access, 'ssh');
    assert.equal(check(audit, 'missing', 'host-keys').status, 'pass');
  });
});
