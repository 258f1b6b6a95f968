// The operator's own inventories on a real fleet: the lab's fleet audited from an Ansible INI file (one host known
// only by an ssh_config Host alias, through -F), an Ansible YAML file, and a dynamic-inventory script, each with the
// same results as fleetfix's own inventory; and Ansible --limit patterns picking the hosts they name.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet } from '../lab/fleet.js';
import { checkStatuses, fleetfix, hostResult, type CliRun } from './helpers.js';

const FAULTS: Record<string, string> = {
  h1: ':',
  h2: 'chmod 0777 /home/deploy/.ssh',
  h3: 'rm -rf /home/deploy/.ssh',
};

let fleet: Fleet;
let baseline: CliRun;
const files: Record<string, string> = {};
const vars = ['--var', 'ssh_user=deploy'];

/** What a run found: each host's check statuses and address, and the summary. */
function outcome(run: CliRun) {
  assert.ok(run.json, `no JSON: exit ${run.code}\n${run.stderr}`);
  const { durationMs: _d, ...summary } = run.json.summary as typeof run.json.summary & { durationMs?: number };
  return {
    code: run.code,
    hosts: Object.fromEntries(run.json.hosts.map((h) => [h.name, { status: h.status, access: h.access, checks: checkStatuses(run, h.name) }])),
    summary,
  };
}

describe('Ansible inventories and ssh_config on a real fleet', { timeout: 600_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: Object.keys(FAULTS) });
    await fleet.setUp(FAULTS);
    const [h1, h2, h3] = fleet.hosts;
    const dir = fleet.root;
    // h3 has no address in any of the Ansible inventories below but the INI's: there it is a Host alias in an ssh_config.
    files.sshConfig = join(dir, 'ssh_config');
    writeFileSync(files.sshConfig, `Host h3\n  HostName ${h3!.address}\n`);
    const common = `-o UserKnownHostsFile=${fleet.knownHostsPath} -o StrictHostKeyChecking=yes -o ControlMaster=auto`;
    files.ini = join(dir, 'hosts.ini');
    writeFileSync(
      files.ini,
      [
        '# The lab fleet as an Ansible INI inventory',
        `h1 ansible_host=${h1!.address}`,
        '[lab]',
        `h2 ansible_host=${h2!.address}`,
        'h3',
        '[web:children]',
        'lab',
        '[all:vars]',
        'ansible_user=root',
        `ansible_ssh_private_key_file=${fleet.operatorKey}`,
        `ansible_ssh_common_args='${common}'`,
        `authorized_key=${fleet.operatorPublicKey}`,
        '',
      ].join('\n'),
    );
    files.yaml = join(dir, 'hosts.yml');
    writeFileSync(
      files.yaml,
      [
        'all:',
        '  vars:',
        '    ansible_user: root',
        `    ansible_ssh_private_key_file: ${fleet.operatorKey}`,
        `    ansible_ssh_common_args: "${common}"`,
        `    authorized_key: "${fleet.operatorPublicKey}"`,
        '  children:',
        '    lab:',
        '      hosts:',
        ...fleet.hosts.map((h) => `        ${h.name}: { ansible_host: "${h.address}" }`),
        '',
      ].join('\n'),
    );
    const list = {
      lab: { hosts: fleet.hosts.map((h) => h.name), vars: { ansible_user: 'root', ansible_ssh_private_key_file: fleet.operatorKey, ansible_ssh_common_args: common, authorized_key: fleet.operatorPublicKey } },
      _meta: { hostvars: Object.fromEntries(fleet.hosts.map((h) => [h.name, { ansible_host: h.address }])) },
    };
    files.script = join(dir, 'inventory.sh');
    writeFileSync(files.script, `#!/bin/sh\n[ "$1" = --list ] || exit 2\ncat <<'JSON'\n${JSON.stringify(list)}\nJSON\n`);
    chmodSync(files.script, 0o755);
    baseline = await fleetfix(['audit', '-i', fleet.inventoryPath, ...vars, '--output', 'json']);
  });
  after(async () => fleet?.destroy());

  it("fleetfix's own inventory finds the faults (the baseline)", () => {
    const o = outcome(baseline);
    assert.equal(o.code, 2, baseline.stderr);
    assert.deepEqual(Object.keys(o.hosts), ['h1', 'h2', 'h3']);
    assert.deepEqual(Object.values(o.hosts).map((h) => h.status), ['compliant', 'drift', 'drift']);
  });

  it('an Ansible INI inventory, h3 reached through its ssh_config alias (-F), gives the same results', async () => {
    const run = await fleetfix(['audit', '-i', files.ini!, '-F', files.sshConfig!, ...vars, '--output', 'json']);
    assert.deepEqual(outcome(run), outcome(baseline), run.stderr);
    assert.equal(hostResult(run, 'h3').address, fleet.hosts[2]!.address, 'h3 got its address from ssh_config');
  });

  it('without the ssh_config, the alias does not resolve and h3 is unreachable', async () => {
    const run = await fleetfix(['audit', '-i', files.ini!, '-F', 'none', ...vars, '--output', 'json']);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(hostResult(run, 'h3').status, 'unreachable');
  });

  it('an Ansible YAML inventory gives the same results', async () => {
    const run = await fleetfix(['audit', '-i', files.yaml!, ...vars, '--output', 'json']);
    assert.deepEqual(outcome(run), outcome(baseline), run.stderr);
  });

  it('a dynamic-inventory script gives the same results', async () => {
    const run = await fleetfix(['audit', '-i', files.script!, ...vars, '--output', 'json']);
    assert.deepEqual(outcome(run), outcome(baseline), run.stderr);
  });

  it('Ansible --limit patterns pick the hosts they name', async () => {
    const forms: [string, string[]][] = [
      ['web:!h2', ['h3']],
      ['all:&lab', ['h2', 'h3']],
      ['~h[13]', ['h1', 'h3']],
      ['lab[0],h1', ['h1', 'h2']],
      ['h[!2]', ['h1', 'h3']],
    ];
    for (const [pattern, want] of forms) {
      const run = await fleetfix(['audit', '-i', files.ini!, '-F', files.sshConfig!, '--limit', pattern, ...vars, '--output', 'json']);
      assert.deepEqual(run.json?.hosts.map((h) => h.name), want, `${pattern}: ${run.stderr}`);
    }
    const none = await fleetfix(['audit', '-i', files.ini!, '--limit', 'db*', ...vars]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^fleetfix: --limit: no host or group matches "db\*"/);
  });

  it('a hostile Ansible inventory is refused before anything connects: exit 1, file:line:col, no stack trace', async () => {
    const bad = join(fleet.root, 'bad.ini');
    writeFileSync(bad, `[lab]\nh1 ansible_host=${fleet.hosts[0]!.address} ansible_user='root -oProxyCommand=touch_x'\n`);
    const run = await fleetfix(['audit', '-i', bad, ...vars]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^fleetfix: ${bad}:2:\\d+: ansible_user: expected a user name`));
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });
});
