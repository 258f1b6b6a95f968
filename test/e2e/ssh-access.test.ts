// Every cause of "Connection refused" on a real fleet, several per host: audit names each, plan changes nothing
// (files, firewall, sshd pid), apply fixes, the real ssh client logs in, a second apply changes nothing.
// Hosts SSH cannot reach are worked on over their consoles, as an operator's would be.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { checkStatuses, fleetfix, hostDigest, hostResult, type CliRun } from './helpers.js';

const restart = '/etc/init.d/ssh restart >/dev/null';
/** Host -> [fault script, checks that must fail, words the audit must use]. Root's own login fails where SSH is down (ssh-login). */
const FAULTS: Record<string, [string, string[], RegExp[]]> = {
  a1: ['/etc/init.d/ssh stop >/dev/null && update-rc.d ssh disable >/dev/null 2>&1', ['sshd-running', 'listening', 'ssh-login'], [/ssh is stopped, disabled at boot/, /nothing listens on tcp port 22/]],
  a2: ['iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset && ip6tables -A INPUT -p tcp --dport 22 -j DROP', ['firewall', 'ssh-login'], [/iptables-nft: insert ACCEPT tcp dport 22 ahead of INPUT rule 1: .*REJECT/, /ip6tables-nft: .*DROP/]],
  a3: ['iptables -N GUARD && iptables -A GUARD -p tcp -m multiport --dports 80,22 -j DROP && iptables -A INPUT -j GUARD', ['firewall', 'ssh-login'], [/-j GUARD -> GUARD: .*--dports 80,22 -j DROP/]],
  a4: [`nft add table inet f && nft add chain inet f input '{ type filter hook input priority 0; policy drop; }' && nft add rule inet f input ct state established,related accept && nft add rule inet f input tcp dport 22 drop`, ['firewall', 'ssh-login'], [/nftables inet f input: insert "tcp dport 22 accept" ahead of nft inet f input handle \d+/]],
  a5: ['iptables -A INPUT -i lo -j ACCEPT && iptables -P INPUT DROP && mkdir -p /etc/iptables && iptables-save > /etc/iptables/rules.v4', ['firewall', 'ssh-login'], [/INPUT policy DROP; save to \/etc\/iptables\/rules\.v4/]],
  a6: [`echo 'Port 2222' > /etc/ssh/sshd_config.d/10-port.conf && ${restart}`, ['sshd-config', 'listening', 'ssh-login'], [/Port 2222 -> 22/]],
  a7: [`echo 'ListenAddress 127.0.0.1' >> /etc/ssh/sshd_config && chmod 0775 /root && ${restart}`, ['sshd-config', 'home-dir', 'authorized-key', 'listening', 'ssh-login'], [/ListenAddress 127\.0\.0\.1:22 -> any/, /\/root: mode 0775 -> 0755/, /StrictModes refuses \/root \(writable by group or others: mode 0775\)/, /listens only on loopback/]],
  a8: [`echo 'PubkeyAuthentication no' > /etc/ssh/sshd_config.d/50-nopk.conf && ${restart}`, ['sshd-config', 'ssh-login'], [/PubkeyAuthentication no -> yes/]],
  a9: [`echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && ip6tables -A INPUT -p tcp --dport 22 -j DROP && ${restart}`, ['sshd-config', 'firewall'], [/MaxStartups 1:100:1 -> 10:30:100/, /ip6tables-nft/]],
};

let fleet: Fleet;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const digests = () => Promise.all(fleet.hosts.map(hostDigest));
const failing = (run: CliRun, name: string) =>
  Object.entries(checkStatuses(run, name))
    .filter(([, s]) => s === 'fail')
    .map(([id]) => id)
    .filter((id) => id !== 'reload-sshd');
const sshOnlyA9 = () => ['-i', fleet.inventoryPath, '--limit', 'a9'];
const viaConsole = () => ['-i', fleet.inventoryPath, '--limit', '!a9'];

describe('ssh-access: every cause, found and fixed', { timeout: 900_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: Object.keys(FAULTS) });
    await fleet.setUp(Object.fromEntries(Object.entries(FAULTS).map(([name, [script]]) => [name, script])));
  });
  after(async () => fleet?.destroy());

  it('each fault keeps the real ssh client out', async () => {
    for (const h of fleet.hosts.filter((x) => x.name !== 'a9')) {
      const login = await fleet.sshLogin(h);
      assert.notEqual(login.code, 0, `${h.name} let ssh in`);
    }
    const v6 = await fleet.sshLogin(host('a9'), 'true', { address: host('a9').address6 });
    assert.notEqual(v6.code, 0, 'a9 over IPv6');
  });

  it('audit names every cause (exit 2)', async () => {
    const lab = await fleetfix(['audit', ...viaConsole(), '--output', 'json']);
    const ssh = await fleetfix(['audit', ...sshOnlyA9(), '--output', 'json']);
    for (const [run, names] of [[lab, Object.keys(FAULTS).filter((n) => n !== 'a9')], [ssh, ['a9']]] as const) {
      assert.equal(run.code, 2, run.stderr);
      for (const name of names) assert.equal(hostResult(run, name).access, name === 'a9' ? 'ssh' : 'console', name);
      for (const name of names) {
        assert.deepEqual(failing(run, name).sort(), [...FAULTS[name]![1]].sort(), name);
        const text = hostResult(run, name).checks.map((c) => c.message).join('\n');
        for (const re of FAULTS[name]![2]) assert.match(text, re, name);
      }
    }
  });

  it('plan leaves every host identical: files, iptables, ip6tables, nftables, sshd pid', async () => {
    const before = await digests();
    const lab = await fleetfix(['plan', ...viaConsole(), '--output', 'json']);
    const ssh = await fleetfix(['plan', ...sshOnlyA9(), '--output', 'json']);
    assert.equal(lab.code, 2, lab.stderr);
    assert.equal(ssh.code, 2, ssh.stderr);
    const a8 = hostResult(lab, 'a8').checks.find((c) => c.id === 'sshd-config')!;
    assert.match(a8.changes[0]!.diff!, /^\+\+\+ \/etc\/ssh\/sshd_config\.d\/50-nopk\.conf$/m);
    assert.match(a8.changes[0]!.diff!, /^-PubkeyAuthentication no$/m);
    assert.match(a8.changes[0]!.diff!, /^\+PubkeyAuthentication yes$/m);
    const a2 = hostResult(lab, 'a2').checks.find((c) => c.id === 'firewall')!;
    assert.match(a2.changes[0]!.diff!, /^\+-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "fleetfix: ssh access" -j ACCEPT$/m);
    assert.equal(hostResult(lab, 'a8').checks.find((c) => c.id === 'reload-sshd')?.kind, 'handler');
    assert.deepEqual(await digests(), before);
  });

  it('apply fixes every host; the real ssh client logs in over IPv4 and IPv6', async () => {
    const lab = await fleetfix(['apply', '--yes', ...viaConsole(), '--output', 'json']);
    assert.equal(lab.code, 0, `${lab.stderr}\n${lab.stdout}`);
    const ssh = await fleetfix(['apply', '--yes', ...sshOnlyA9(), '--output', 'json']);
    assert.equal(ssh.code, 0, `${ssh.stderr}\n${ssh.stdout}`);
    assert.equal(checkStatuses(ssh, 'a9')['reload-sshd'], 'fixed', 'sshd reloaded under our own SSH session');
    for (const h of fleet.hosts) {
      assert.equal(hostResult(h.name === 'a9' ? ssh : lab, h.name).status, 'fixed', h.name);
      const login = await fleet.sshLogin(h, 'hostname');
      assert.equal(login.code, 0, `${h.name}: ${login.stderr}`);
      assert.equal(login.stdout.trim(), h.name);
    }
    for (const name of ['a2', 'a9']) assert.equal((await fleet.sshLogin(host(name), 'true', { address: host(name).address6 })).code, 0, `${name} over IPv6`);
    const backups = await host('a8').sh('ls /etc/ssh/sshd_config.d/');
    assert.match(backups.stdout, /^50-nopk\.conf\.fleetfix-\d{8}T\d{6}\.bak$/m, 'a timestamped backup is kept');
    assert.equal((await host('a1').sh('ls /etc/rc2.d/ | grep -c "^S[0-9]*ssh$"')).stdout.trim(), '1', 'enabled at boot again');
    const saved = await host('a5').sh('grep -c "fleetfix: ssh access" /etc/iptables/rules.v4; ls /etc/iptables');
    assert.match(saved.stdout, /^1\n/, 'the ACCEPT is persisted where the host keeps its rules');
    assert.match(saved.stdout, /rules\.v4\.fleetfix-\d{8}T\d{6}\.bak/);
  });

  it('a second apply changes nothing', async () => {
    const before = await digests();
    const lab = await fleetfix(['apply', '--yes', ...viaConsole(), '--output', 'json']);
    const ssh = await fleetfix(['apply', '--yes', ...sshOnlyA9(), '--output', 'json']);
    assert.equal(lab.code, 0, lab.stdout);
    assert.equal(ssh.code, 0, ssh.stdout);
    assert.equal(lab.json!.summary.changes + ssh.json!.summary.changes, 0);
    assert.deepEqual(await digests(), before);
  });

  it('a restart is refused while the configuration on disk fails sshd -t; the running sshd is untouched', async () => {
    const playbook = join(process.cwd(), 'test/fixtures/playbooks/handler.yml');
    await host('a9').sh("echo 'PubkeyAuthentication maybe' > /etc/ssh/sshd_config.d/99-broken.conf");
    try {
      const pid = (await host('a9').sh('cat /run/sshd.pid')).stdout;
      const run = await fleetfix(['apply', '--yes', ...sshOnlyA9(), playbook, '--output', 'json']);
      assert.equal(run.code, 3);
      const handler = hostResult(run, 'a9').checks.find((c) => c.id === 'restart-sshd')!;
      assert.equal(handler.status, 'error');
      assert.match(handler.message, /refusing to restart ssh: sshd -t failed: .*unsupported option "maybe"/);
      assert.equal((await host('a9').sh('cat /run/sshd.pid')).stdout, pid);
      assert.equal((await fleet.sshLogin(host('a9'))).code, 0);
    } finally {
      await host('a9').sh('rm -f /etc/ssh/sshd_config.d/99-broken.conf /etc/ssh/sshd_config.d/50-fleetfix-test.conf');
    }
  });

  it('a change sshd -t rejects in the plan and in apply; sshd keeps running, nothing is written', async () => {
    const playbook = join(process.cwd(), 'test/fixtures/playbooks/sshd-rejected.yml');
    const before = await hostDigest(host('a9'));
    const plan = await fleetfix(['plan', ...sshOnlyA9(), playbook, '--output', 'json']);
    assert.equal(plan.code, 3);
    const check = hostResult(plan, 'a9').checks.find((c) => c.id === 'bad-cipher')!;
    assert.equal(check.status, 'error');
    assert.match(check.message, /would refuse this change: .*(cipher|Bad SSH2)/i);
    const apply = await fleetfix(['apply', '--yes', ...sshOnlyA9(), playbook, '--output', 'json']);
    assert.equal(apply.code, 3);
    assert.equal(hostResult(apply, 'a9').checks.find((c) => c.id === 'bad-cipher')!.status, 'error');
    assert.deepEqual(await hostDigest(host('a9')), before, 'config and sshd pid unchanged');
    assert.equal((await fleet.sshLogin(host('a9'))).code, 0);
  });
});
