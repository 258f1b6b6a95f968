// The ssh-access fault corpus on systemd hosts (systemd as PID 1, sshd as ssh.service or Ubuntu's socket-activated
// ssh.socket, logs only in the journal), plus what only systemd has: audit names each cause, plan leaves every host
// identical, apply fixes it (over the getty console where SSH is out), the real ssh client logs in, every host is
// rebooted and still lets it in, and a second apply changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { checkStatuses, fleetfix, hostDigest, hostResult, type CliRun } from './helpers.js';

const restart = 'systemctl restart ssh.service';
/** Host -> [fault script, checks that must fail, words the audit must use]. Hosts u* run sshd socket-activated. */
const FAULTS: Record<string, [string, string[], RegExp[]]> = {
  s1: ['systemctl disable --now --quiet ssh.service', ['sshd-running', 'listening'], [/ssh is stopped, disabled at boot/, /nothing listens on tcp port 22/]],
  s2: ['iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset && ip6tables -A INPUT -p tcp --dport 22 -j DROP', ['firewall'], [/iptables-nft: insert ACCEPT tcp dport 22 ahead of INPUT rule 1: .*REJECT/, /ip6tables-nft: .*DROP/]],
  s3: [`nft add table inet f && nft add chain inet f input '{ type filter hook input priority 0; policy drop; }' && nft add rule inet f input ct state established,related accept && nft add rule inet f input tcp dport 22 drop`, ['firewall'], [/nftables inet f input: insert "tcp dport 22 accept" ahead of nft inet f input handle \d+/]],
  // netfilter-persistent loads rules.v4 at boot: the fault survives a reboot unless the fix is saved there.
  s4: ['iptables -A INPUT -i lo -j ACCEPT && iptables -P INPUT DROP && iptables-save > /etc/iptables/rules.v4', ['firewall'], [/INPUT policy DROP; save to \/etc\/iptables\/rules\.v4/]],
  s5: [`echo 'Port 2222' > /etc/ssh/sshd_config.d/10-port.conf && ${restart}`, ['sshd-config', 'listening'], [/Port 2222 -> 22/]],
  s6: [`echo 'ListenAddress 127.0.0.1' >> /etc/ssh/sshd_config && chmod 0775 /root && ${restart}`, ['sshd-config', 'home-dir', 'authorized-key', 'listening'], [/ListenAddress 127\.0\.0\.1:22 -> any/, /\/root: mode 0775 -> 0755/, /listens only on loopback/]],
  s7: [`echo 'PubkeyAuthentication no' > /etc/ssh/sshd_config.d/50-nopk.conf && ${restart}`, ['sshd-config'], [/PubkeyAuthentication no -> yes/]],
  s8: [`echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && ip6tables -A INPUT -p tcp --dport 22 -j DROP && ${restart}`, ['sshd-config', 'firewall'], [/MaxStartups 1:100:1 -> 10:30:100/, /ip6tables-nft/]],
  // A drop persisted where nftables.service loads it at boot.
  s9: [
    `printf '%s\\n' '#!/usr/sbin/nft -f' 'flush ruleset' 'table inet guard {' ' chain input {' '  type filter hook input priority 0; policy accept;' '  tcp dport 22 drop' ' }' '}' > /etc/nftables.conf && systemctl enable --now --quiet nftables.service`,
    ['firewall'],
    [/nftables inet guard input: insert "tcp dport 22 accept" ahead of .*; save to \/etc\/nftables\.conf/],
  ],
  // sshd -t fails, so ssh.service fails to start (its ExecStartPre): nothing listens, and the per-user rules are unknown.
  s10: [`echo 'PubkeyAuthentication maybe' > /etc/ssh/sshd_config.d/99-broken.conf && { ${restart} 2>/dev/null; true; }`, ['sshd-config', 'host-keys', 'sshd-user', 'nologin', 'pam-account', 'sshd-running', 'listening'], [/fails sshd -t: \/etc\/ssh\/sshd_config\.d\/99-broken\.conf line 1: unsupported option "maybe"/]],
  u1: ['systemctl disable --now --quiet ssh.socket ssh.service', ['sshd-running', 'listening'], [/ssh\.socket is stopped, disabled at boot \(socket-activated/, /nothing listens on tcp port 22/]],
  // The socket follows the drop-in (the generator runs on daemon-reload): sshd listens on 2222 only.
  u2: [`echo 'Port 2222' > /etc/ssh/sshd_config.d/10-port.conf && systemctl daemon-reload && systemctl restart ssh.socket`, ['sshd-config', 'listening'], [/Port 2222 -> 22/]],
  // The operator's trap: the socket took Port 2222, the drop-in is gone, but nothing told the socket (no daemon-reload).
  u4: [
    `echo 'Port 2222' > /etc/ssh/sshd_config.d/10-port.conf && systemctl daemon-reload && systemctl restart ssh.socket && rm /etc/ssh/sshd_config.d/10-port.conf`,
    ['sshd-config', 'listening'],
    [/sshd -T listens on 0\.0\.0\.0:22, \[::\]:22, but ssh\.socket listens on 0\.0\.0\.0:2222, \[::\]:2222: daemon-reload and restart ssh\.socket/],
  ],
  // StrictModes refuses the key; sshd says so only in the journal (there is no auth.log), for the login tried below.
  u3: ['chmod 0666 /root/.ssh/authorized_keys', ['authorized-key', 'authorized-keys-file'], [/StrictModes/, /mode 0666 -> 0600/]],
};
const SOCKET_HOSTS = ['u1', 'u2', 'u3', 'u4'];
/** Reached over SSH (IPv4 gets in); every other host is worked on over its console. */
const SSH_HOST = 's8';

let fleet: Fleet;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const failing = (run: CliRun, name: string) =>
  Object.entries(checkStatuses(run, name))
    .filter(([, s]) => s === 'fail')
    .map(([id]) => id)
    .filter((id) => id !== 'reload-sshd');
const overSsh = () => ['-i', fleet.inventoryPath, '--limit', SSH_HOST];
const overConsole = () => ['-i', fleet.inventoryPath, '--limit', `!${SSH_HOST}`];
/** Files, firewall and sshd's pid (hostDigest), and what systemd holds: the ssh units' state and the socket's listeners. */
const digest = async (h: LabHost) =>
  `${await hostDigest(h)}${(await h.sh('systemctl show -p ActiveState,UnitFileState,MainPID,Listen ssh.service ssh.socket nftables.service')).stdout}`;
const digests = () => Promise.all(fleet.hosts.map(digest));
const both = async (command: string[]) => [await fleetfix([command[0]!, ...command.slice(1), ...overConsole(), '--output', 'json']), await fleetfix([command[0]!, ...command.slice(1), ...overSsh(), '--output', 'json'])] as const;

async function everyoneLogsIn(): Promise<void> {
  for (const h of fleet.hosts) {
    const login = await fleet.sshLogin(h, 'hostname');
    assert.equal(login.code, 0, `${h.name}: ${login.stderr}`);
    assert.equal(login.stdout.trim(), h.name);
  }
  for (const name of ['s2', 's8']) assert.equal((await fleet.sshLogin(host(name), 'true', { address: host(name).address6 })).code, 0, `${name} over IPv6`);
}

describe('systemd hosts: the fault corpus and systemd-only faults, found, fixed, and still fixed after a reboot', { timeout: 1_200_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: Object.keys(FAULTS), kind: 'systemd', socketActivated: SOCKET_HOSTS });
    await fleet.setUp(Object.fromEntries(Object.entries(FAULTS).map(([name, [script]]) => [name, script])));
    // A login for sshd to refuse on u3: the journal's only record of the StrictModes fault.
    assert.notEqual((await fleet.sshLogin(host('u3'))).code, 0, 'u3 let ssh in');
  });
  after(async () => fleet?.destroy());

  it('each fault keeps the real ssh client out', async () => {
    for (const h of fleet.hosts.filter((x) => x.name !== SSH_HOST)) {
      const login = await fleet.sshLogin(h);
      assert.notEqual(login.code, 0, `${h.name} let ssh in`);
    }
    assert.notEqual((await fleet.sshLogin(host(SSH_HOST), 'true', { address: host(SSH_HOST).address6 })).code, 0, `${SSH_HOST} over IPv6`);
    const units = await host('u2').sh('systemctl show -P Listen ssh.socket; systemctl is-enabled ssh.service');
    assert.match(units.stdout, /^\[::\]:2222 \(Stream\)\ndisabled\n$/, 'u2: the socket follows Port 2222; ssh.service is not enabled');
    assert.equal((await host('s10').sh('systemctl is-active ssh.service')).stdout.trim(), 'failed', 's10: sshd failed to start');
    assert.equal((await host('u3').sh('test -e /var/log/auth.log || echo none')).stdout.trim(), 'none', 'u3 logs only to the journal');
  });

  it('audit names every cause, the journal finding included (exit 2)', async () => {
    const [lab, ssh] = await both(['audit']);
    for (const [run, names] of [[lab, Object.keys(FAULTS).filter((n) => n !== SSH_HOST)], [ssh, [SSH_HOST]]] as const) {
      assert.equal(run.code, 2, run.stderr);
      for (const name of names) {
        assert.equal(hostResult(run, name).access, name === SSH_HOST ? 'ssh' : 'console', name);
        // Every fault but SSH_HOST's (IPv6 only) keeps root's own login out too.
        assert.deepEqual(failing(run, name).sort(), [...FAULTS[name]![1], ...(name === SSH_HOST ? [] : ['ssh-login'])].sort(), name);
        const text = hostResult(run, name).checks.map((c) => c.message).join('\n');
        for (const re of FAULTS[name]![2]) assert.match(text, re, name);
      }
    }
    const log = hostResult(lab, 'u3').checks.find((c) => c.id === 'sshd-log')!;
    assert.match(log.message, /^journal: \d+ findings? in its last 2000 records since sshd started at \S+/);
    assert.ok(log.findings?.some((f) => /^bad-ownership-or-modes: Authentication refused: bad ownership or modes for file \/root\/\.ssh\/authorized_keys/.test(f)), JSON.stringify(log.findings));
  });

  it('plan leaves every host identical: files, firewall, sshd pid, units, socket listeners', async () => {
    const before = await digests();
    const [lab, ssh] = await both(['plan']);
    assert.equal(lab.code, 2, lab.stderr);
    assert.equal(ssh.code, 2, ssh.stderr);
    const s10 = hostResult(lab, 's10').checks.find((c) => c.id === 'sshd-config')!;
    assert.match(s10.changes[0]!.diff!, /^\+\+\+ \/etc\/ssh\/sshd_config\.d\/99-broken\.conf$/m);
    assert.match(s10.changes[0]!.diff!, /^-PubkeyAuthentication maybe$/m);
    assert.match(s10.changes[0]!.diff!, /^\+# fleetfix: PubkeyAuthentication maybe$/m);
    assert.deepEqual(await digests(), before);
  });

  it('apply fixes every host, over the console or SSH; the real ssh client logs in', async () => {
    const [lab, ssh] = await both(['apply', '--yes']);
    assert.equal(lab.code, 0, `${lab.stderr}\n${lab.stdout}`);
    assert.equal(ssh.code, 0, `${ssh.stderr}\n${ssh.stdout}`);
    for (const h of fleet.hosts) assert.equal(hostResult(h.name === SSH_HOST ? ssh : lab, h.name).status, 'fixed', h.name);
    assert.match(hostResult(lab, 'u2').checks.find((c) => c.id === 'reload-sshd')!.message, /daemon-reload and restart ssh\.socket: it listens on 0\.0\.0\.0:2222, \[::\]:2222, sshd_config says 0\.0\.0\.0:22, \[::\]:22/);
    assert.match(hostResult(lab, 'u1').checks.find((c) => c.id === 'sshd-running')!.message, /enable ssh\.socket at boot .*start ssh\.socket/);
    await everyoneLogsIn();
    for (const name of ['u2', 'u4']) {
      const u = await host(name).sh('systemctl show -P Listen ssh.socket; cat /run/systemd/generator/ssh.socket.d/addresses.conf 2>/dev/null || echo no-drop-in');
      assert.match(u.stdout, /^\[::\]:22 \(Stream\)\nno-drop-in\n$/, `${name}: the socket follows sshd_config back to port 22`);
    }
    assert.match((await host('s10').sh('ls /etc/ssh/sshd_config.d/')).stdout, /^99-broken\.conf\.fleetfix-\d{8}T\d{6}\.bak$/m, 'a backup of the commented-out drop-in');
  });

  it('every host is rebooted and still lets the real ssh client in', async () => {
    await Promise.all(fleet.hosts.map((h) => h.reboot()));
    await everyoneLogsIn();
    const units = await Promise.all(fleet.hosts.map(async (h) => [h.name, (await h.sh('systemctl is-active ssh.socket ssh.service nftables.service netfilter-persistent.service')).stdout.split('\n')] as const));
    for (const [name, [socket]] of units) assert.equal(socket, SOCKET_HOSTS.includes(name) ? 'active' : 'inactive', `${name}: ssh.socket after the reboot`);
    assert.match((await host('s9').sh('nft list ruleset')).stdout, /tcp dport 22 accept comment "fleetfix: ssh access"[\s\S]*tcp dport 22 drop/, 's9: the ACCEPT came back from /etc/nftables.conf');
    assert.match((await host('s4').sh('iptables-save -t filter')).stdout, /:INPUT DROP[\s\S]*fleetfix: ssh access/, 's4: the ACCEPT came back from rules.v4');
  });

  it('a second apply changes nothing', async () => {
    const before = await digests();
    const [lab, ssh] = await both(['apply', '--yes']);
    assert.equal(lab.code, 0, lab.stdout);
    assert.equal(ssh.code, 0, ssh.stdout);
    assert.equal(lab.json!.summary.changes + ssh.json!.summary.changes, 0);
    assert.deepEqual(await digests(), before);
  });
});
