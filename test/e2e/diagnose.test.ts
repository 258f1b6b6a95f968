// diagnose on real hosts: every fault of the lab corpus (ssh-access.test.ts a1-a9, reach.test.ts r1-r13) and the causes
// only diagnose tells apart (a DROP from a host that is down, sshd on another port behind a DROP, a full MaxStartups,
// the operator's own key and agent) named with their remedy; the suite prints the table (fault, cause, remedy).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { REMEDIES } from '../../src/diagnose/causes.js';
import { createFleet, run, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult } from './helpers.js';

const restart = '/etc/init.d/ssh restart >/dev/null';
const conf = (line: string, file = '50-fault') => `echo '${line}' > /etc/ssh/sshd_config.d/${file}.conf && ${restart}`;
/** Host -> [the fault, in words; its script on the host; the cause diagnose must name]. */
const CORPUS: Record<string, [string, string, string]> = {
  a1: ['ssh-access a1: sshd stopped, disabled at boot', '/etc/init.d/ssh stop >/dev/null && update-rc.d ssh disable >/dev/null 2>&1', 'port-refused'],
  a2: ['ssh-access a2: REJECT tcp-reset on 22 (v4), DROP (v6)', 'iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset && ip6tables -A INPUT -p tcp --dport 22 -j DROP', 'port-refused'],
  a3: ['ssh-access a3: a chain DROPs 80,22', 'iptables -N GUARD && iptables -A GUARD -p tcp -m multiport --dports 80,22 -j DROP && iptables -A INPUT -j GUARD', 'firewall-drop'],
  // a4 and a5 drop ICMP too: from outside, a host that is down looks the same, and diagnose says it cannot tell.
  a4: ['ssh-access a4: nftables policy drop (ICMP too)', `nft add table inet f && nft add chain inet f input '{ type filter hook input priority 0; policy drop; }' && nft add rule inet f input ct state established,related accept && nft add rule inet f input tcp dport 22 drop`, 'firewall-drop-or-host-down'],
  a5: ['ssh-access a5: iptables INPUT policy DROP (ICMP too)', 'iptables -A INPUT -i lo -j ACCEPT && iptables -P INPUT DROP', 'firewall-drop-or-host-down'],
  a6: ['ssh-access a6: sshd on port 2222', conf('Port 2222', '10-port'), 'sshd-on-other-port'],
  a7: ['ssh-access a7: ListenAddress 127.0.0.1, /root 0775', `echo 'ListenAddress 127.0.0.1' >> /etc/ssh/sshd_config && chmod 0775 /root && ${restart}`, 'port-refused'],
  a8: ['ssh-access a8: PubkeyAuthentication no', conf('PubkeyAuthentication no'), 'pubkey-disabled'],
  a9: ['ssh-access a9: MaxStartups 1:100:1, nothing holding it; DROP on v6', `echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && ip6tables -A INPUT -p tcp --dport 22 -j DROP && ${restart}`, 'ok'],
  r1: ['reach r1: sshd stopped', '/etc/init.d/ssh stop >/dev/null', 'port-refused'],
  r2: ['reach r2: REJECT tcp-reset on 22', 'iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset', 'port-refused'],
  r3: ['reach r3: DROP on 22', 'iptables -A INPUT -p tcp --dport 22 -j DROP', 'firewall-drop'],
  r4: ['reach r4: sshd on 2222 (the inventory\'s fallback port)', conf('Port 2222', '10-port'), 'sshd-on-other-port'],
  r5: ['reach r5: ListenAddress 127.0.0.1', `echo 'ListenAddress 127.0.0.1' >> /etc/ssh/sshd_config && ${restart}`, 'port-refused'],
  r6: ['reach r6: PubkeyAuthentication no', conf('PubkeyAuthentication no'), 'pubkey-disabled'],
  r7: ['reach r7: no authorized_keys', 'rm /root/.ssh/authorized_keys', 'key-not-accepted'],
  r8: ['reach r8: DROP on 22, ~/.ssh 0777', 'iptables -A INPUT -p tcp --dport 22 -j DROP && chmod 0777 /root/.ssh', 'firewall-drop'],
  r9: ['reach r9: sshd stopped, no console', '/etc/init.d/ssh stop >/dev/null', 'port-refused'],
  r10: ['reach r10: sshd on 2200, authorized_keys 0666', `${conf('Port 2200', '10-port')} && chmod 0666 /root/.ssh/authorized_keys`, 'sshd-on-other-port'],
  r11: ['reach r11: no fault', ':', 'ok'],
  r12: ['reach r12: an ACCEPT for the lab', 'iptables -A INPUT -s 198.18.0.0/16 -p tcp --dport 22 -j ACCEPT', 'ok'],
  r13: ['reach r13: 22 DROPped but for the jump host', ':', 'firewall-drop'],
  down: ['down: the host\'s link is down (veth), its ARP entry gone', ':', 'host-down'],
  'drop-2222': ['DROP on 22, sshd on 2222 (issue 12)', `iptables -A INPUT -p tcp --dport 22 -j DROP && ${conf('Port 2222', '10-port')}`, 'sshd-on-other-port'],
  'reject-host': ['REJECT with icmp-host-prohibited on 22 (firewalld\'s way)', 'iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with icmp-host-prohibited', 'firewall-reject'],
  'max-startups': ['MaxStartups 1:100:1, one unauthenticated connection held open', `echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && ${restart}`, 'maxstartups-full'],
  'key-0644': ["the operator's key is mode 0644", ':', 'identity-unprotected'],
  'key-passphrase': ["the operator's key is encrypted, the inventory's passphrase wrong", ':', 'identity-unusable'],
  'key-pub': ["the operator's key has another key's .pub beside it", ':', 'identity-pub-mismatch'],
  'key-agent': ['agent: true, the agent holds no key', ':', 'agent-missing-key'],
};

let fleet: Fleet;
let inventory: string;
let keys: string;
let agentPid: number | undefined;
let held: Socket | undefined;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const env = () => ({ SSH_AUTH_SOCK: join(keys, 'agent.sock'), FF_WRONG_PASSPHRASE: 'not-sesame' });

/** An unauthenticated connection to sshd, held until closed: the one MaxStartups 1:100:1 lets in. Resolves once sshd sent its banner. */
function holdConnection(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port: 22 });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('no banner within 5 s'))), 5000);
    socket.once('data', () => (clearTimeout(timer), resolve(socket)));
    socket.once('error', (e) => (clearTimeout(timer), reject(e)));
  });
}

describe('diagnose names the cause and its remedy for every fault of the lab corpus', { timeout: 600_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: Object.keys(CORPUS) });
    await fleet.setUp(Object.fromEntries(Object.entries(CORPUS).map(([name, [, script]]) => [name, script])));
    // r13 as in reach.test.ts: only r12 (the jump host) gets through to 22.
    const r13 = await host('r13').sh(`iptables -A INPUT -s ${host('r12').address} -j ACCEPT && iptables -A INPUT -p tcp --dport 22 -j DROP`);
    assert.equal(r13.code, 0, r13.stderr);
    // down: its end of the bridge goes down, and this machine forgets its ARP entry, as after a host has been down a while.
    const veth = `ffv${fleet.slot}h${host('down').index}`;
    for (const args of [['link', 'set', veth, 'down'], ['neigh', 'flush', 'to', host('down').address]]) assert.equal((await run('ip', args)).code, 0, args.join(' '));
    // The operator's side: copies of the lab's key, each broken one way, and an empty ssh-agent.
    keys = mkdtempSync(join(fleet.root, 'keys-'));
    const copy = (name: string, mode = 0o600) => {
      copyFileSync(fleet.operatorKey, join(keys, name));
      chmodSync(join(keys, name), mode);
      return join(keys, name);
    };
    copy('loose', 0o644);
    copy('locked');
    assert.equal((await run('ssh-keygen', ['-q', '-p', '-N', 'sesame', '-P', '', '-f', join(keys, 'locked')])).code, 0);
    copy('mismatched');
    assert.equal((await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'other', '-f', join(keys, 'other')])).code, 0);
    copyFileSync(join(keys, 'other.pub'), join(keys, 'mismatched.pub'));
    const agent = spawn('ssh-agent', ['-D', '-a', join(keys, 'agent.sock')], { stdio: ['ignore', 'pipe', 'ignore'] });
    agentPid = agent.pid;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ssh-agent did not start within 5 s')), 5000);
      agent.stdout.once('data', () => (clearTimeout(timer), resolve()));
    });
    const inv = parse(readFileSync(fleet.inventoryPath, 'utf8'));
    inv.defaults.connect_timeout = 3;
    inv.hosts.r4.fallback = [{ port: 2222 }];
    inv.hosts['key-0644'].identity = join(keys, 'loose');
    Object.assign(inv.hosts['key-passphrase'], { identity: join(keys, 'locked'), passphrase: { env: 'FF_WRONG_PASSPHRASE' } });
    inv.hosts['key-pub'].identity = join(keys, 'mismatched');
    inv.hosts['key-agent'].agent = true;
    inventory = join(fleet.root, 'inventory.diagnose.yml');
    writeFileSync(inventory, stringify(inv));
    held = await holdConnection(host('max-startups').address);
  });
  after(async () => {
    held?.destroy();
    if (agentPid) process.kill(agentPid, 'SIGTERM');
    await fleet?.destroy();
  });

  it('each fault host keeps the real ssh client out, but those diagnose calls ok', async () => {
    const hosts = fleet.hosts.filter((x) => !x.name.startsWith('key-'));
    const logins = await Promise.all(hosts.map((h) => fleet.sshLogin(h)));
    hosts.forEach((h, i) => assert.equal(logins[i]!.code === 0, CORPUS[h.name]![2] === 'ok', `${h.name}: ${logins[i]!.stderr}`));
    // The operator's side, with the key as the inventory gives it: the real client refuses a loose key and a foreign .pub.
    const ssh = (key: string) => run('ssh', ['-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${fleet.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', `root@${host('key-0644').address}`, 'true']);
    const loose = await ssh(join(keys, 'loose'));
    assert.notEqual(loose.code, 0);
    assert.match(loose.stderr, /UNPROTECTED PRIVATE KEY FILE/);
    assert.notEqual((await ssh(join(keys, 'mismatched'))).code, 0, 'ssh offers the foreign .pub');
    assert.notEqual((await ssh(join(keys, 'locked'))).code, 0, 'BatchMode: no passphrase to give');
  });

  it('names each cause, with its remedy, and prints the table', async () => {
    const diagnose = await fleetfix(['diagnose', '-i', inventory, '--output', 'json'], { env: env(), timeoutMs: 120_000 });
    assert.equal(diagnose.code, 3, diagnose.stderr);
    const rows = fleet.hosts.map((h) => {
      const d = hostResult(diagnose, h.name).diagnosis!;
      return { host: h.name, fault: CORPUS[h.name]![0], expected: CORPUS[h.name]![2], cause: d.cause, detail: d.detail, remedy: d.remedy ?? '' };
    });
    process.stdout.write(`\nFAULT | CAUSE | REMEDY\n${rows.map((r) => `${r.fault} | ${r.cause} | ${r.remedy}`).join('\n')}\n\n`);
    for (const r of rows) {
      assert.equal(r.cause, r.expected, `${r.host} (${r.fault}): ${r.detail}`);
      assert.equal(r.remedy, REMEDIES[r.cause as keyof typeof REMEDIES], r.host);
    }
  });

  it('says where sshd answers, why it knows a DROP from a host that is down, and what held MaxStartups', async () => {
    const diagnose = await fleetfix(['diagnose', '-i', inventory, 'a6', 'r10', 'drop-2222', 'r3', 'down', 'a4', 'max-startups', '--output', 'json'], { env: env() });
    const detail = (name: string) => hostResult(diagnose, name).diagnosis!.detail;
    assert.match(detail('a6'), /:22 refused the connection, but sshd answers on port 2222 \("SSH-2\.0-OpenSSH/);
    assert.match(detail('r10'), /sshd answers on port 2200 \("SSH-2\.0-/);
    assert.match(detail('drop-2222'), /:22 did not answer within 3 s \(dropped\), but sshd answers on port 2222/);
    assert.match(detail('r3'), /yet the host answers ping: it is up, and a firewall DROPs the port; sshd answers on none of 2222, 2200, 22222 either/);
    assert.match(detail('down'), /ping got "Destination Host Unreachable": nothing answers at that address/);
    assert.match(detail('a4'), /ping got no answer, not even an ICMP error: .*cannot be told apart/);
    assert.match(detail('max-startups'), /answered "Exceeded MaxStartups" and hung up/);
  });

  it('the text table says each remedy once; the MaxStartups host is ok once the held connection closes', async () => {
    const text = await fleetfix(['diagnose', '-i', inventory, 'r3', 'r8', 'down'], { env: env() });
    assert.match(text.stdout, /^r3\s+\S+\s+firewall-drop\s+.*answers ping/m);
    assert.match(text.stdout, /^down\s+\S+\s+host-down\s/m);
    assert.equal(text.stdout.split(REMEDIES['firewall-drop']).length - 1, 1, text.stdout);
    assert.match(text.stdout, /^remedies:\n {2}firewall-drop: allow the SSH port/m);
    held?.destroy();
    // sshd counts the connection until its child exits: wait for that (up to 50 x 0.1 s).
    let later = await fleetfix(['diagnose', '-i', inventory, 'max-startups', '--output', 'json'], { env: env() });
    for (let i = 0; i < 50 && hostResult(later, 'max-startups').diagnosis?.cause !== 'ok'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      later = await fleetfix(['diagnose', '-i', inventory, 'max-startups', '--output', 'json'], { env: env() });
    }
    assert.equal(hostResult(later, 'max-startups').diagnosis?.cause, 'ok');
  });
});
