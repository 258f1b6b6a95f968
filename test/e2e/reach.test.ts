// Reaching the unreachable on a real fleet: diagnose names each cause; apply reaches every fixable host over its
// console (TCP or a spawned command), a fallback port or a jump host, fixes it, and the real ssh client gets in;
// a host with no console stays unreachable with its diagnosis (exit 3); lockouts are rolled back; no console
// is left logged in.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { createFleet, run, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult } from './helpers.js';

const restart = '/etc/init.d/ssh restart >/dev/null';
/** Host -> [fault, the cause diagnose must name, how apply must get in]. */
const HOSTS: Record<string, [string, string, string]> = {
  r1: ['/etc/init.d/ssh stop >/dev/null', 'port-refused', 'console'],
  r2: ['iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset', 'port-refused', 'console'],
  r3: ['iptables -A INPUT -p tcp --dport 22 -j DROP', 'firewall-drop', 'console'],
  r4: [`echo 'Port 2222' > /etc/ssh/sshd_config.d/10-port.conf && ${restart}`, 'sshd-on-other-port', 'fallback 1 (port 2222)'],
  r5: [`echo 'ListenAddress 127.0.0.1' >> /etc/ssh/sshd_config && ${restart}`, 'port-refused', 'console'],
  r6: [`echo 'PubkeyAuthentication no' > /etc/ssh/sshd_config.d/50-nopk.conf && ${restart}`, 'pubkey-disabled', 'console'],
  r7: ['rm /root/.ssh/authorized_keys', 'key-not-accepted', 'console'],
  r8: ['iptables -A INPUT -p tcp --dport 22 -j DROP && chmod 0777 /root/.ssh', 'firewall-drop', 'console'],
  r9: ['/etc/init.d/ssh stop >/dev/null', 'port-refused', 'none'],
  r10: [`echo 'Port 2200' > /etc/ssh/sshd_config.d/10-port.conf && ${restart} && chmod 0666 /root/.ssh/authorized_keys`, 'sshd-on-other-port', 'console'],
  r11: [':', 'ok', 'ssh'],
  r12: ['iptables -A INPUT -s 198.18.0.0/16 -p tcp --dport 22 -j ACCEPT', 'ok', 'ssh'],
  r13: [':', 'firewall-drop', 'fallback 1 (via JUMP)'],
};

let fleet: Fleet;
let inventory: string;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
/** Processes of the host (its network namespace; the lab shares one PID namespace) that sit on a terminal: console logins. */
const consoleSessions = async (h: LabHost) => (await run('sh', ['-c', `ip netns pids "$1" | xargs -r ps -o tty=,comm= -p | awk '$1 ~ /^pts/' | wc -l`, 'sh', h.netns])).stdout.trim();

describe('reach the unreachable: diagnose, fall back, fix, verify', { timeout: 900_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: Object.keys(HOSTS) });
    await fleet.setUp(Object.fromEntries(Object.entries(HOSTS).map(([name, [script]]) => [name, script])));
    // r13 drops the controller (the bridge address) but lets r12 in: only the jump host reaches it.
    const r13 = await host('r13').sh(`iptables -A INPUT -s ${host('r12').address} -j ACCEPT && iptables -A INPUT -p tcp --dport 22 -j DROP`);
    assert.equal(r13.code, 0, r13.stderr);
    const inv = parse(readFileSync(fleet.inventoryPath, 'utf8'));
    inv.defaults.connect_timeout = 3;
    delete inv.hosts.r9.console;
    inv.hosts.r4.fallback = [{ port: 2222 }];
    inv.hosts.r10.console = { command: `socat - TCP:127.0.0.1:${host('r10').consolePort}` };
    inv.hosts.r13.fallback = [{ jump: { address: host('r12').address } }];
    inv.hosts.r13.console = undefined;
    delete inv.hosts.r13.console;
    // OpenSSH looks a non-22 port up as [host]:port: the operator has that entry for r4's fallback port.
    const r4Keys = readFileSync(fleet.knownHostsPath, 'utf8').split('\n').filter((l) => l.startsWith(`${host('r4').address} `));
    writeFileSync(fleet.knownHostsPath, `${readFileSync(fleet.knownHostsPath, 'utf8')}${r4Keys.map((l) => l.replace(`${host('r4').address} `, `[${host('r4').address}]:2222 `)).join('\n')}\n`);
    inventory = join(fleet.root, 'inventory.reach.yml');
    writeFileSync(inventory, stringify(inv));
    HOSTS.r13![2] = `fallback 1 (via ${host('r12').address})`;
  });
  after(async () => fleet?.destroy());

  it('diagnose names the cause for each host, concurrently and bounded in time', async () => {
    const run = await fleetfix(['diagnose', '-i', inventory, '--output', 'json']);
    assert.equal(run.code, 3, run.stderr);
    for (const h of fleet.hosts) assert.equal(hostResult(run, h.name).diagnosis?.cause, HOSTS[h.name]![1], h.name);
    const text = await fleetfix(['diagnose', '-i', inventory, 'r3', 'r6']);
    assert.match(text.stdout, /^r3\s+\S+\s+firewall-drop\s+.*did not answer within 3 s, yet the host answers ping/m);
    assert.match(text.stdout, /^r6\s+\S+\s+pubkey-disabled\s+sshd offers password, not publickey/m);
    assert.doesNotMatch(text.stdout, /^r1\s/m);
  });

  it('apply gets into every fixable host by its own way, fixes it, and the real ssh client logs in; r9 stays unreachable (exit 3)', async () => {
    const run = await fleetfix(['apply', '--yes', '-i', inventory, '--limit', '!r11,!r12', '--output', 'json'], { timeoutMs: 300_000 });
    assert.equal(run.code, 3, run.stderr);
    for (const h of fleet.hosts.filter((x) => !['r11', 'r12'].includes(x.name))) {
      const r = hostResult(run, h.name);
      const [, cause, way] = HOSTS[h.name]!;
      if (h.name === 'r9') {
        assert.equal(r.status, 'unreachable');
        assert.equal(r.diagnosis?.cause, cause);
        assert.match(r.attempts!.at(-1)!.error, /no console configured/);
        continue;
      }
      if (h.name === 'r13') {
        assert.equal(r.access, way, 'reached through the jump host');
        continue;
      }
      assert.equal(r.access, way, h.name);
      assert.equal(r.status, 'fixed', `${h.name}: ${r.error ?? ''} ${JSON.stringify(r.checks.filter((c) => c.status === 'error'))}`);
      assert.equal(r.diagnosis?.cause, cause, h.name);
      assert.equal(r.attempts?.[0]?.access, 'ssh', `${h.name}: the report says why SSH failed first`);
      const login = await fleet.sshLogin(h, 'hostname');
      assert.equal(login.code, 0, `${h.name}: ${login.stderr}`);
      assert.equal(login.stdout.trim(), h.name);
    }
    assert.notEqual((await fleet.sshLogin(host('r9'))).code, 0);
  });

  it('no console is left logged in', async () => {
    for (const h of fleet.hosts) {
      // A hangup takes the kernel a moment to deliver: up to 20 x 0.1 s.
      let sessions = await consoleSessions(h);
      for (let i = 0; i < 20 && sessions !== '0'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        sessions = await consoleSessions(h);
      }
      assert.equal(sessions, '0', h.name);
    }
  });

  it('a change that passes sshd -t but locks the operator out is rolled back; the host stays reachable', async () => {
    const playbook = join(process.cwd(), 'test/fixtures/playbooks/lockout.yml');
    const before = (await host('r11').sh('sha256sum /etc/ssh/sshd_config')).stdout;
    for (const vars of [['--var', 'allow=root'], ['--var', 'listen=0.0.0.0', '--var', 'allow=nobody']]) {
      const run = await fleetfix(['apply', '--yes', '-i', inventory, '--limit', 'r11', playbook, ...vars, '--output', 'json']);
      assert.equal(run.code, 3, run.stdout);
      const r = hostResult(run, 'r11');
      assert.equal(r.status, 'failed');
      assert.match(r.error!, /a new SSH login failed after the changes .*1 change rolled back over the open session and handlers run again: SSH works again/);
      assert.match(r.checks.find((c) => c.id === 'sshd-lockout')!.message, /^rolled back \(restored\)/);
      assert.equal((await fleet.sshLogin(host('r11'))).code, 0, `${vars.join(' ')}: reachable after the rollback`);
      assert.equal((await host('r11').sh('sha256sum /etc/ssh/sshd_config')).stdout, before, 'the configuration is as it was');
    }
  });
});
