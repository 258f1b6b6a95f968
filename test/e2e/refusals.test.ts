// Refusals outside sshd_config on a real fleet: TCP wrappers (Debian's sshd links libwrap), a real fail2ban's bans
// (iptables-multiport; nftables with a recidive ipset), a real sshguard's, and a DROP for the lab's network. diagnose
// tells them apart from outside and judges the playbook's ssh_user; audit names each cause, plan changes nothing,
// apply with ssh_let_in lifts what it can (over the console: SSH is refused) and the real ssh client gets in; what
// has no safe fix is named, left as it was, and the host is neither fixed nor compliant.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { createFleet, run, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostDigest, hostResult, type CliRun } from './helpers.js';

/** libwrap looks the client's name up before it refuses: a resolver that answers at once (nothing listens) keeps that short. */
const NO_DNS = "echo 'nameserver 127.0.0.1' > /etc/resolv.conf";
/** fail2ban with its state in the host's private /run, the sshd jail banning through `banaction`; ME is this machine's address. */
const fail2ban = (banaction: string, jails = '') => `mkdir -p /run/fail2ban
printf '[Definition]\\ndbfile = /run/fail2ban/fail2ban.sqlite3\\nlogtarget = /var/log/fail2ban.log\\nallowipv6 = auto\\n' > /etc/fail2ban/fail2ban.local
printf '[DEFAULT]\\nbanaction = ${banaction}\\n[sshd]\\nenabled = true\\nbackend = polling\\nlogpath = /var/log/auth.log\\n${jails}' > /etc/fail2ban/jail.local
fail2ban-client start >/dev/null && fail2ban-client set sshd banip ME >/dev/null`;

interface Fault {
  script: string;
  /** What audit says of the cause. */
  cause: RegExp;
  /** What diagnose names, from this machine. */
  diagnosis: string;
  fixable: boolean;
}

const FAULTS: Record<string, Fault> = {
  'wrap-ban': { script: `${NO_DNS} && printf 'sshd: 10.9.9.9, ME\\n' > /etc/hosts.deny`, cause: /TCP wrappers refuse sshd to ME: \/etc\/hosts.deny line 1 "sshd: 10.9.9.9, ME"/, diagnosis: 'tcp-wrappers', fixable: true },
  'wrap-all': { script: `${NO_DNS} && printf 'sshd: 10.0.0.0/8\\n' > /etc/hosts.allow && printf 'ALL: ALL\\n' > /etc/hosts.deny`, cause: /TCP wrappers refuse sshd to ME: \/etc\/hosts.deny line 1 "ALL: ALL"/, diagnosis: 'tcp-wrappers', fixable: true },
  'wrap-netgroup': { script: `${NO_DNS} && printf 'sshd: ALL EXCEPT @trusted\\n' > /etc/hosts.deny`, cause: /fleetfix cannot judge \/etc\/hosts.deny line 1 "sshd: ALL EXCEPT @trusted" \("@trusted" is a NIS netgroup\)/, diagnosis: 'tcp-wrappers', fixable: false },
  'f2b-ipt': { script: fail2ban('iptables-multiport'), cause: /fail2ban jail sshd bans ME \(iptables-nft f2b-sshd: -s ME\/32 -j REJECT --reject-with icmp-port-unreachable\)/, diagnosis: 'port-rejected', fixable: true },
  'f2b-nft': {
    script: `${fail2ban('nftables-multiport', '[recidive]\\nenabled = true\\nbanaction = iptables-ipset\\nbackend = polling\\nlogpath = /var/log/fail2ban.log\\n')} && fail2ban-client set recidive banip ME >/dev/null`,
    cause: /fail2ban jail recidive bans ME \(.*--match-set f2b-recidive src.*\); fail2ban jail sshd bans ME \(nftables inet f2b-table f2b-chain handle \d+ \(set addr-set-sshd\)\)/,
    diagnosis: 'port-rejected',
    fixable: true,
  },
  // sshguard bans after the failed logins made in before(); its nftables chain drops every packet from ME, ping too.
  guard: {
    script: `printf 'BACKEND="/usr/libexec/sshguard/sshg-fw-nft-sets"\\nFILES="/var/log/auth.log"\\nTHRESHOLD=10\\nBLOCK_TIME=3600\\nWHITELIST_FILE=/etc/sshguard/whitelist\\n' > /etc/sshguard/sshguard.conf && (setsid sshguard </dev/null >/var/log/sshguard.log 2>&1 &)`,
    cause: /sshguard bans ME \(nftables ip sshguard blacklist handle \d+ \(set attackers\)\)/,
    diagnosis: 'firewall-drop-or-host-down',
    fixable: true,
  },
  wide: { script: 'iptables -I INPUT -s 198.18.0.0/16 -p tcp --dport 22 -j DROP', cause: /iptables-nft INPUT rule 1: -s 198.18.0.0\/16 .* -j DROP stops ME, though not every source: no ban fleetfix lifts/, diagnosis: 'firewall-drop', fixable: false },
  rst: { script: 'iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset', cause: /insert ACCEPT tcp dport 22 ahead of INPUT rule 1/, diagnosis: 'port-refused', fixable: true },
};

let fleet: Fleet;
let me: string;
let playbook: string;
let inventory: string;
let slowInventory: string;
const names = Object.keys(FAULTS);
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const args = () => ['-i', inventory, playbook, '--var', `ssh_from=${me}`, '--output', 'json'];
const mine = (re: RegExp) => new RegExp(re.source.replaceAll('ME', me.replaceAll('.', '\\.')));
const said = (run: CliRun, name: string) => {
  const h = hostResult(run, name);
  return [h.error ?? '', ...h.checks.flatMap((c) => [c.message, ...(c.findings ?? [])])].join('\n');
};
/** What the bans are, beside the files and rules hostDigest covers: fail2ban's own list and the ipsets. */
const banState = (h: LabHost) => h.sh(`fail2ban-client banned ${me} 2>/dev/null; ipset save 2>/dev/null; true`).then((r) => r.stdout);

describe('refusals outside sshd_config: TCP wrappers, bans, a rule for the lab alone', { timeout: 300_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: [...names, 'user-key'] });
    me = `198.18.${fleet.slot}.1`;
    await fleet.setUp({ ...Object.fromEntries(names.map((n) => [n, FAULTS[n]!.script.replaceAll('ME', me)])), 'user-key': 'rm /home/deploy/.ssh/authorized_keys' });
    // sshguard bans this machine after a failed login (a user that does not exist), read from sshd's log: at most 10
    // tries, each followed by a bounded wait (20 x 0.1 s) for the ban, so that no try is made once it has landed.
    const guard = host('guard');
    const banned = async () => (await guard.sh(`for i in $(seq 20); do nft list set ip sshguard attackers 2>/dev/null | grep -qF ${me} && exit 0; sleep 0.1; done; exit 1`)).code === 0;
    for (let i = 0; i < 10 && !(await banned()); i++) {
      await run('timeout', ['5', 'ssh', '-i', fleet.operatorKey, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${fleet.knownHostsPath}`, '-o', 'ConnectTimeout=3', `nosuchuser@${guard.address}`, 'true']);
    }
    assert.ok(await banned(), 'sshguard banned this machine');
    playbook = join(fleet.root, 'refusals.yml');
    writeFileSync(
      playbook,
      `name: refusals
vars: { ssh_from: "", ssh_let_in: true }
checks:
  - id: tcp-wrappers
    title: TCP wrappers let this machine reach sshd
    tcp_wrappers: { addr: "{{ ssh_from }}", let_in: "{{ ssh_let_in }}" }
  - id: ip-ban
    title: no ban stops this machine reaching the SSH port
    ip_ban: { port: 22, addr: "{{ ssh_from }}", let_in: "{{ ssh_let_in }}" }
  - id: firewall
    title: the firewall lets new connections to the SSH port through
    firewall: { port: 22 }
  - id: ssh-login
    title: a fresh SSH login as root with the operator's key works
    ssh_login: { user: root }
`,
    );
    // libwrap holds a refused connection 5 s before it hangs up: diagnose waits longer, to see that; the other
    // commands give up sooner, and go to the console.
    const withTimeout = (seconds: number, name: string) => {
      const inv = parse(readFileSync(fleet.inventoryPath, 'utf8'));
      inv.defaults.connect_timeout = seconds;
      writeFileSync(join(fleet.root, name), stringify(inv));
      return join(fleet.root, name);
    };
    slowInventory = withTimeout(8, 'inventory.slow.yml');
    inventory = withTimeout(3, 'inventory.fast.yml');
  });
  after(async () => fleet?.destroy());

  it('each fault keeps the real ssh client out; user-key keeps deploy out while root gets in', async () => {
    const logins = await Promise.all(names.map((n) => fleet.sshLogin(host(n))));
    names.forEach((n, i) => assert.notEqual(logins[i]!.code, 0, `${n}: root got in`));
    assert.equal((await fleet.sshLogin(host('user-key'))).code, 0);
    assert.notEqual((await fleet.sshLogin(host('user-key'), 'true', { user: 'deploy' })).code, 0);
  });

  it('diagnose tells a TCP wrappers refusal, an ICMP port-unreachable (a ban) and a TCP RST apart, and judges ssh_user', async () => {
    const run = await fleetfix(['diagnose', '-i', slowInventory, '--var', 'ssh_user=deploy', '--output', 'json'], { timeoutMs: 120_000 });
    assert.equal(run.code, 3, run.stderr);
    const cause = (n: string) => hostResult(run, n).diagnosis!;
    for (const n of names) assert.equal(cause(n).cause, FAULTS[n]!.diagnosis, `${n}: ${cause(n).detail}`);
    assert.match(cause('wrap-ban').detail, /sent nothing and hung up after 5\.\d s or more, on all 3 connections: the way TCP wrappers refuse/);
    assert.match(cause('f2b-ipt').detail, /ICMP port-unreachable, not a TCP RST: a firewall REJECT .*often a ban/);
    assert.match(cause('rst').detail, /with a TCP RST \(no ICMP error came back\)/);
    assert.match(cause('user-key').detail, /our key was not accepted for deploy \(ssh_user\), though root gets in/);
    assert.equal(cause('user-key').cause, 'key-not-accepted');
    const asRoot = await fleetfix(['diagnose', '-i', fleet.inventoryPath, 'user-key', '--output', 'json']);
    assert.equal(hostResult(asRoot, 'user-key').diagnosis?.cause, 'ok', 'ssh_user is root by default: root gets in');
  });

  it('audit names each cause and calls none compliant; plan changes nothing', async () => {
    const audit = await fleetfix(['audit', ...args()]);
    assert.ok(audit.json, audit.stderr);
    for (const n of names) {
      assert.notEqual(hostResult(audit, n).status, 'compliant', n);
      assert.match(said(audit, n), mine(FAULTS[n]!.cause), n);
    }
    // The firewall check leaves the bans and the lab's DROP to ip_ban: it does not try to fix the same rule.
    for (const n of ['f2b-ipt', 'f2b-nft', 'guard', 'wide']) assert.equal(hostResult(audit, n).checks.find((c) => c.id === 'firewall')?.status, 'pass', n);
    const before = await Promise.all(fleet.hosts.map(async (h) => (await hostDigest(h)) + (await banState(h))));
    const plan = await fleetfix(['plan', ...args()]);
    assert.equal(plan.code, 3, plan.stderr);
    const afterPlan = await Promise.all(fleet.hosts.map(async (h) => (await hostDigest(h)) + (await banState(h))));
    fleet.hosts.forEach((h, i) => assert.equal(afterPlan[i], before[i], `${h.name} changed during plan`));
  });

  it('apply with ssh_let_in lifts what it can over the console and the real ssh client gets in; the rest is named and left', async () => {
    const untouched = await Promise.all(names.filter((n) => !FAULTS[n]!.fixable).map(async (n) => [n, await hostDigest(host(n))] as const));
    const apply = await fleetfix(['apply', ...args(), '--var', 'ssh_let_in=true', '--yes'], { timeoutMs: 180_000 });
    assert.equal(apply.code, 3, apply.stderr);
    for (const n of names) {
      const h = hostResult(apply, n);
      const login = await fleet.sshLogin(host(n));
      if (FAULTS[n]!.fixable) {
        assert.equal(h.status, 'fixed', `${n}: ${said(apply, n)}`);
        assert.equal(login.code, 0, `${n}: ${login.stderr}`);
      } else {
        assert.equal(h.status, 'failed', n);
        assert.match(said(apply, n), mine(FAULTS[n]!.cause), n);
        assert.notEqual(login.code, 0, `${n}: got in`);
      }
    }
    for (const [n, digest] of untouched) assert.equal(await hostDigest(host(n)), digest, `${n} was changed`);
    const changes = (n: string) => hostResult(apply, n).checks.flatMap((c) => c.changes.map((x) => x.summary)).join('\n');
    assert.match(changes('wrap-ban'), mine(/take out ME/));
    assert.match(changes('wrap-all'), mine(/\/etc\/hosts.allow: let ME alone reach sshd/));
    assert.match((await host('wrap-ban').sh('cat /etc/hosts.deny; ls /etc/hosts.deny.fleetfix-*.bak')).stdout, /^sshd: 10\.9\.9\.9\n\/etc\/hosts\.deny\.fleetfix-\d{8}T\d{6}\.bak\n$/);
    assert.match((await host('wrap-all').sh('cat /etc/hosts.allow /etc/hosts.deny')).stdout, mine(/^# fleetfix: .*\nsshd: ME\nsshd: 10\.0\.0\.0\/8\nALL: ALL\n$/));
    // fail2ban lifted its own bans, and still runs; sshguard's set lost this address alone.
    assert.match(changes('f2b-nft'), /fail2ban jail recidive: unban .*\n.*fail2ban jail sshd: unban/);
    for (const n of ['f2b-ipt', 'f2b-nft']) assert.equal((await host(n).sh(`fail2ban-client ping >/dev/null && fail2ban-client banned ${me}`)).stdout.trim(), '[[]]', n);
    assert.match(changes('guard'), /sshguard: delete the ban of .*sshguard has no client to unban through, and it runs: it may ban the address again/);
  });
});
