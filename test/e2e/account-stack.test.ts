// Causes outside sshd_config on a real fleet, each on its own host while root still gets in: /etc/nologin and
// /run/nologin, a pam_access rule, a pam_listfile list, an expired account, a missing shell, a missing home, a forced
// password change. Audit names each (file, line, text); plan changes nothing; apply moves a nologin file aside only with
// ssh_remove_nologin=true, creates a missing home, and fixes none of the admin's policy; the real ssh client then
// logs in as deploy where fixed. A locked password (UsePAM yes) is how a key-only account looks: no finding.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostDigest, hostResult, type CliRun } from './helpers.js';

const MAINTENANCE = 'Maintenance until 18:00, ask ops.';
const BOOTING = 'System is booting up. Unprivileged users are not permitted to log in yet.';
/** Debian's /etc/pam.d/sshd ships pam_access commented out; this turns it on. */
const PAM_ACCESS_ON = `sed -i 's/^# account  required     pam_access.so/account  required     pam_access.so/' /etc/pam.d/sshd && grep -q '^account  required     pam_access.so' /etc/pam.d/sshd`;

interface Fault {
  script: string;
  /** The words of the audit (any check's message or finding). */
  cause: RegExp;
  /** How apply leaves the host without ssh_remove_nologin, and whether deploy then gets in. */
  apply: 'failed' | 'fixed' | 'compliant';
}

const FAULTS: Record<string, Fault> = {
  'etc-nologin': { script: `printf '%s\\n' '${MAINTENANCE}' > /etc/nologin`, cause: new RegExp(`/etc/nologin exists \\("${MAINTENANCE}"\\): pam_nologin \\(/etc/pam.d/sshd line \\d+ "account required pam_nologin.so"\\) refuses deploy`), apply: 'failed' },
  'run-nologin': { script: `printf '%s\\n' '${BOOTING}' > /run/nologin`, cause: /\/run\/nologin exists \("System is booting up\..*"\): pam_nologin .* refuses deploy .*a boot or shutdown did not finish/, apply: 'failed' },
  access: { script: `${PAM_ACCESS_ON} && printf '%s\\n' '-:deploy:ALL EXCEPT LOCAL' >> /etc/security/access.conf`, cause: /pam_access\.so \(\/etc\/pam\.d\/sshd line \d+ "account required pam_access\.so"\): \/etc\/security\/access\.conf line \d+ "-:deploy:ALL EXCEPT LOCAL" denies deploy \(groups deploy\) from 198\.18\.\d+\.1/, apply: 'failed' },
  listfile: {
    script: `sed -i '/pam_nologin.so/a account required pam_listfile.so item=user sense=deny file=/etc/ssh/denied-users onerr=succeed' /etc/pam.d/sshd && printf 'alice\\ndeploy\\n' > /etc/ssh/denied-users`,
    cause: /\/etc\/ssh\/denied-users line 2 lists user deploy \("deploy"\), and sense=deny/,
    apply: 'failed',
  },
  expired: { script: 'chage -E 0 deploy', cause: /the account deploy expired \(\/etc\/shadow's 8th field: day 0; today is day \d+\): pam_unix refuses it/, apply: 'failed' },
  'no-shell': { script: 'usermod -s /bin/nosuch deploy', cause: /the login shell of deploy, \/bin\/nosuch, does not exist or is not executable \(\/etc\/passwd's 7th field\)/, apply: 'failed' },
  'no-home': { script: 'rm -rf /home/deploy', cause: /the home of deploy, \/home\/deploy, does not exist: .*key login fails/, apply: 'fixed' },
  'must-change': { script: 'chage -d 0 deploy', cause: /the password of deploy must be changed first .*no command runs/, apply: 'failed' },
  locked: { script: 'usermod -L deploy', cause: /^$/, apply: 'compliant' },
};
const NOLOGIN_HOSTS = ['etc-nologin', 'run-nologin'];

let fleet: Fleet;
let work: string;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const names = Object.keys(FAULTS);
/** Everything a host's result says: the host's error and every check's message and findings. */
const said = (run: CliRun, name: string) => {
  const h = hostResult(run, name);
  return [h.error ?? '', ...h.checks.flatMap((c) => [c.message, ...(c.findings ?? [])])].join('\n');
};
const args = (...more: string[]) => ['-i', fleet.inventoryPath, join(work, 'account.yml'), '--var', 'ssh_user=deploy', '--output', 'json', ...more];
const deployRuns = async (name: string) => (await fleet.sshLogin(host(name), 'echo in', { user: 'deploy' })).stdout === 'in\n';

/** The account checks the bundled playbook has (sshd_user, the home, the key), and the nologin and PAM checks. */
function playbook(): string {
  return `name: account-stack
vars: { ssh_remove_nologin: false }
checks:
  - id: sshd-user
    title: sshd lets the user in (the account)
    sshd_user: { user: "{{ ssh_user }}", lport: "{{ host_port }}", key: "{{ authorized_key }}" }
  - id: nologin
    title: no nologin file keeps the user out
    nologin: { user: "{{ ssh_user }}", lport: "{{ host_port }}", remove: "{{ ssh_remove_nologin }}" }
  - id: pam-account
    title: PAM's account stack lets the user in
    pam_account: { user: "{{ ssh_user }}", lport: "{{ host_port }}" }
  - id: home-dir
    title: the user's home
    file: { path: "~{{ ssh_user }}", type: directory, owner: ["{{ ssh_user }}", root], deny_mode: "0022" }
  - id: ssh-dir
    title: ~/.ssh
    file: { path: "~{{ ssh_user }}/.ssh", type: directory, owner: "{{ ssh_user }}", mode: "0700" }
  - id: authorized-key
    title: the operator's key
    authorized_key: { user: "{{ ssh_user }}", key: "{{ authorized_key }}" }
`;
}

describe('causes outside sshd_config: nologin, PAM account modules, the account', { timeout: 300_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-account-'));
    fleet = await createFleet({ hosts: names });
    writeFileSync(join(work, 'account.yml'), playbook());
    await fleet.setUp(Object.fromEntries(names.map((n) => [n, FAULTS[n]!.script])));
  });
  after(async () => {
    await fleet?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('each fault keeps deploy from running a command while root gets in; a locked password does not (real ssh client)', async () => {
    for (const n of names) {
      assert.equal((await fleet.sshLogin(host(n))).code, 0, `${n}: root cannot log in`);
      assert.equal(await deployRuns(n), n === 'locked', `${n}: deploy ${n === 'locked' ? 'cannot run' : 'runs'} a command`);
    }
  });

  it('audit names each cause and calls no fault host compliant; the locked key-only account is compliant, no finding', async () => {
    const run = await fleetfix(['audit', ...args()]);
    assert.ok(run.json, run.stderr);
    for (const n of names.filter((x) => x !== 'locked')) {
      assert.notEqual(hostResult(run, n).status, 'compliant', n);
      assert.match(said(run, n), FAULTS[n]!.cause, n);
    }
    const locked = hostResult(run, 'locked');
    assert.equal(locked.status, 'compliant', said(run, 'locked'));
    assert.deepEqual(locked.checks.filter((c) => c.findings).map((c) => c.id), [], said(run, 'locked'));
  });

  it('plan changes nothing on any host (files, firewall, sshd; /run/nologin)', async () => {
    const before = await Promise.all(fleet.hosts.map(hostDigest));
    const run = await fleetfix(['plan', ...args()]);
    assert.equal(run.code, 3, run.stderr);
    assert.deepEqual(await Promise.all(fleet.hosts.map(hostDigest)), before);
    assert.equal((await host('run-nologin').sh('cat /run/nologin')).stdout, `${BOOTING}\n`);
  });

  it('apply without ssh_remove_nologin: a missing home is made; nologin and the admin\'s policy are named, not changed', async () => {
    const run = await fleetfix(['apply', ...args('--yes')]);
    assert.ok(run.json, run.stderr);
    for (const n of names) {
      assert.equal(hostResult(run, n).status, FAULTS[n]!.apply, `${n}: ${said(run, n)}`);
      if (FAULTS[n]!.apply === 'failed') assert.match(said(run, n), FAULTS[n]!.cause, n);
      assert.equal(await deployRuns(n), FAULTS[n]!.apply !== 'failed', `${n}: deploy ${FAULTS[n]!.apply === 'failed' ? 'runs' : 'cannot run'} a command`);
    }
    const left = await Promise.all(NOLOGIN_HOSTS.map((n) => host(n).sh('ls /etc/nologin /run/nologin 2>/dev/null; ls /etc /run | grep -c fleetfix || true')));
    assert.deepEqual(
      left.map((l) => l.stdout),
      ['/etc/nologin\n0\n', '/run/nologin\n0\n'],
    );
  });

  it('apply with ssh_remove_nologin=true moves each nologin file aside (the backup holds its text); deploy then logs in', async () => {
    const run = await fleetfix(['apply', ...args('--yes', '--var', 'ssh_remove_nologin=true', '--limit', NOLOGIN_HOSTS.join(','))]);
    assert.ok(run.json, run.stderr);
    for (const [n, path, text] of [['etc-nologin', '/etc/nologin', MAINTENANCE], ['run-nologin', '/run/nologin', BOOTING]] as const) {
      assert.equal(hostResult(run, n).status, 'fixed', said(run, n));
      assert.ok(await deployRuns(n), `${n}: deploy still cannot log in`);
      const backup = await host(n).sh(`[ ! -e ${path} ] && cat ${path}.fleetfix-*.bak`);
      assert.equal(backup.stdout, `${text}\n`, `${n}: ${backup.stderr}`);
    }
  });
});
