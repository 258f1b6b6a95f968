// Per-user faults on a real fleet, each on its own host while root still gets in: Match blocks by user, group and
// address, every per-user rule sshd applies, a key type refused, the key where sshd does not look. Audit names the
// cause and is not compliant; apply fixes it (or reports failed with the cause where no sane fix exists); the real
// ssh client then logs in as deploy; a second apply changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet } from '../lab/fleet.js';
import { fleetfix, hostResult, type CliRun } from './helpers.js';

const restart = '/etc/init.d/ssh restart >/dev/null';
/** Lines appended to sshd_config, then sshd restarted. */
const conf = (text: string) => `printf '%s\\n' ${text.split('\n').map((l) => `'${l}'`).join(' ')} >> /etc/ssh/sshd_config && ${restart}`;

interface Fault {
  script: string;
  /** The audit's words for the cause (any check's message or the host's error). */
  cause: RegExp;
  /** Fixed by apply; otherwise apply reports the host failed, naming the cause. */
  fixable: boolean;
}

const FAULTS: Record<string, Fault> = {
  'match-user': { script: conf('Match User deploy\n  PubkeyAuthentication no'), cause: /for deploy from [\d.]+ to [\d.]+:22: PubkeyAuthentication no -> yes/, fixable: true },
  'match-group': { script: `groupadd ops && usermod -aG ops deploy && ${conf('Match Group ops\n  PubkeyAuthentication no')}`, cause: /for deploy .*PubkeyAuthentication no -> yes/, fixable: true },
  'match-addr': { script: conf('Match Address 198.18.0.0/15 User *,!root\n  PubkeyAuthentication no'), cause: /for deploy from 198\.18\.\d+\.1 .*PubkeyAuthentication no -> yes/, fixable: true },
  'allow-users': { script: `sed -i '1i AllowUsers root' /etc/ssh/sshd_config && ${restart}`, cause: /add deploy to AllowUsers/, fixable: true },
  'deny-users': { script: `sed -i '1i DenyUsers nobody deploy' /etc/ssh/sshd_config && ${restart}`, cause: /remove deploy from DenyUsers/, fixable: true },
  'allow-groups': { script: `sed -i '1i AllowGroups root' /etc/ssh/sshd_config && ${restart}`, cause: /add deploy to AllowGroups \(a group only deploy is in\)/, fixable: true },
  // deploy's primary group is users, which alice has too; deploy-own holds deploy alone.
  'allow-groups-shared': {
    script: `groupadd deploy-own && useradd -M -g users alice && usermod -g users -aG deploy-own deploy && sed -i '1i AllowGroups root' /etc/ssh/sshd_config && ${restart}`,
    cause: /add deploy-own to AllowGroups \(a group only deploy is in\)/,
    fixable: true,
  },
  'deny-groups': { script: conf('Match User deploy\n  DenyGroups deploy'), cause: /remove deploy from DenyGroups \(a group only deploy is in\)/, fixable: true },
  'deny-groups-shared': { script: `useradd -M -g users alice && usermod -aG users deploy && ${conf('DenyGroups users')}`, cause: /remove users from DenyGroups \(also lets in: alice\)/, fixable: true },
  'key-type': { script: conf('Match User deploy\n  PubkeyAcceptedAlgorithms rsa-sha2-512,rsa-sha2-256'), cause: /PubkeyAcceptedAlgorithms: add ssh-ed25519/, fixable: true },
  'keys-file': {
    script: `install -d -m 0755 /etc/ssh/authorized_keys && ${conf('Match User deploy\n  AuthorizedKeysFile /etc/ssh/authorized_keys/%u')}`,
    cause: /create \/etc\/ssh\/authorized_keys\/deploy with key ssh-ed25519/,
    fixable: true,
  },
  'auth-methods': { script: conf('Match User deploy\n  AuthenticationMethods publickey,password'), cause: /AuthenticationMethods publickey,password asks for more than a key/, fixable: false },
  revoked: { script: `awk '{ print $1, $2 }' /root/.ssh/authorized_keys > /etc/ssh/revoked_keys && ${conf('Match User deploy\n  RevokedKeys /etc/ssh/revoked_keys')}`, cause: /is in RevokedKeys \/etc\/ssh\/revoked_keys/, fixable: false },
  expired: { script: 'chage -E 1 deploy', cause: /the account deploy expired/, fixable: false },
  'deny-wildcard': { script: `sed -i '1i DenyUsers d*' /etc/ssh/sshd_config && ${restart}`, cause: /DenyUsers d\* denies deploy: a pattern with wildcards is not rewritten/, fixable: false },
  'locked-nopam': { script: `usermod -L deploy && sed -i 's/^UsePAM yes/UsePAM no/' /etc/ssh/sshd_config && ${restart}`, cause: /the account deploy is locked .* and UsePAM is no/, fixable: false },
};

let fleet: Fleet;
const names = Object.keys(FAULTS);
const fixable = names.filter((n) => FAULTS[n]!.fixable);
const args = () => ['-i', fleet.inventoryPath, '--var', 'ssh_user=deploy', '--output', 'json'];
/** Everything a host's result says: the host's error and every check's message and findings. */
const said = (run: CliRun, name: string) => {
  const h = hostResult(run, name);
  return [h.error ?? '', ...h.checks.flatMap((c) => [c.message, ...(c.findings ?? [])])].join('\n');
};

describe('per-user faults: judged and proven as the user', { timeout: 900_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: [...names, 'nologin'] });
    await fleet.setUp({ ...Object.fromEntries(names.map((n) => [n, FAULTS[n]!.script])), nologin: 'usermod -s /usr/sbin/nologin deploy' });
  });
  after(async () => fleet?.destroy());

  it('each fault keeps deploy out while root gets in (real ssh client)', async () => {
    for (const h of fleet.hosts) {
      assert.equal((await fleet.sshLogin(h)).code, 0, `${h.name}: root cannot log in`);
      if (h.name !== 'nologin') assert.notEqual((await fleet.sshLogin(h, 'true', { user: 'deploy' })).code, 0, `${h.name}: deploy got in`);
    }
  });

  it('audit names each cause and calls no fault host compliant; a nologin shell is a finding', async () => {
    const run = await fleetfix(['audit', ...args()]);
    assert.ok(run.json, run.stderr);
    for (const n of names) {
      const h = hostResult(run, n);
      assert.notEqual(h.status, 'compliant', n);
      assert.match(said(run, n), FAULTS[n]!.cause, n);
      assert.equal(h.checks.find((c) => c.id === 'ssh-login')!.status, 'fail', `${n}: the login as deploy must fail`);
    }
    const nologin = hostResult(run, 'nologin');
    assert.equal(nologin.status, 'compliant');
    assert.equal(nologin.checks.find((c) => c.id === 'sshd-user')!.status, 'finding');
    assert.match(said(run, 'nologin'), /the shell of deploy is \/usr\/sbin\/nologin/);
    assert.ok(run.json!.summary.findings >= 1);
  });

  it('apply fixes what has a sane fix and fails the rest with the cause; deploy then logs in where fixed', async () => {
    const run = await fleetfix(['apply', ...args(), '--yes']);
    assert.ok(run.json, run.stderr);
    for (const n of names) {
      const h = hostResult(run, n);
      if (FAULTS[n]!.fixable) {
        assert.equal(h.status, 'fixed', `${n}: ${said(run, n)}`);
        const login = await fleet.sshLogin(fleet.hosts.find((x) => x.name === n)!, 'true', { user: 'deploy' });
        assert.equal(login.code, 0, `${n}: deploy still cannot log in: ${login.stderr}`);
      } else {
        assert.equal(h.status, 'failed', n);
        assert.match(said(run, n), FAULTS[n]!.cause, n);
      }
    }
  });

  it("a shared primary group is not added to AllowGroups: deploy's own group is", async () => {
    const host = fleet.hosts.find((x) => x.name === 'allow-groups-shared')!;
    const allowGroups = await host.sh("grep -i '^AllowGroups' /etc/ssh/sshd_config");
    assert.equal(allowGroups.stdout.trim(), 'AllowGroups root deploy-own');
  });

  it('a second apply changes nothing on the fixed hosts', async () => {
    const run = await fleetfix(['apply', ...args(), '--yes', '--limit', fixable.join(',')]);
    assert.equal(run.code, 0, run.stdout);
    for (const n of fixable) assert.equal(hostResult(run, n).status, 'compliant', n);
    assert.equal(run.json!.summary.changes, 0);
  });
});
