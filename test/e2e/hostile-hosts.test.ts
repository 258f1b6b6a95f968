// Hosts that turn against the controller, on a real fleet: a server offering only a key type known_hosts does not
// hold, or a key marked @revoked, stops that host at once (no fallback, no console login, the host unchanged) and
// diagnose names it; a 1 GiB authorized_keys made by a user and a host that answers every script with endless output
// end as errors naming the size or the limit, while the other hosts finish and the controller's memory stays bounded.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { RunResult } from '../../src/report/model.js';
import { createFleet, run, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostDigest, hostResult } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/fleetfix.js', import.meta.url));
const restart = '/etc/init.d/ssh restart >/dev/null';
/** A fault the bundled playbook fixes: had fleetfix got in by any way, ~/.ssh would be 0700 afterwards. */
const FIXABLE = 'chmod 0755 /root/.ssh';
const HOSTS: Record<string, string> = {
  // sshd presents its RSA key only; known_hosts keeps only the ed25519 one (below).
  swapped: `echo 'HostKey /etc/ssh/ssh_host_rsa_key' > /etc/ssh/sshd_config.d/05-rsa-only.conf && ${restart} && ${FIXABLE}`,
  // Its ed25519 key is marked @revoked in known_hosts (below).
  revoked: FIXABLE,
  big: 'runuser -u deploy -- truncate -s 1G /home/deploy/.ssh/authorized_keys',
  // Every SSH session runs `yes` instead of the script it was sent.
  flood: `echo 'ForceCommand yes' > /etc/ssh/sshd_config.d/05-flood.conf && ${restart}`,
  calm: ':',
};
const MAX_RSS_MIB = 300;

let fleet: Fleet;
let inventory: string;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
/** Processes of the host (its network namespace; the lab shares one PID namespace) that sit on a terminal: console logins. */
const consoleSessions = async (h: LabHost) => (await run('sh', ['-c', `ip netns pids "$1" | xargs -r ps -o tty=,comm= -p | awk '$1 ~ /^pts/' | wc -l`, 'sh', h.netns])).stdout.trim();

describe('hostile hosts: host keys and unbounded output', { timeout: 600_000 }, () => {
  const digests = new Map<string, string>();

  before(async () => {
    fleet = await createFleet({ hosts: Object.keys(HOSTS) });
    await fleet.setUp(HOSTS);
    const pub = async (h: LabHost, type: string) => (await h.sh(`cat /etc/ssh/ssh_host_${type}_key.pub`)).stdout.split(' ').slice(0, 2).join(' ');
    const lines = readFileSync(fleet.knownHostsPath, 'utf8').trim().split('\n');
    // swapped: only its ed25519 key is known; calm: only its RSA key, which it must still be asked for and accepted by.
    const keep = (line: string) =>
      !(line.startsWith(`${host('swapped').address} `) && !line.includes(' ssh-ed25519 ')) && !(line.startsWith(`${host('calm').address} `) && !line.includes(' ssh-rsa '));
    writeFileSync(fleet.knownHostsPath, `${lines.filter(keep).join('\n')}\n@revoked * ${await pub(host('revoked'), 'ed25519')}\n`);
    const inv = parse(readFileSync(fleet.inventoryPath, 'utf8'));
    inv.defaults.connect_timeout = 3;
    inventory = join(fleet.root, 'inventory.hostile.yml');
    writeFileSync(inventory, stringify(inv));
    for (const name of ['swapped', 'revoked']) digests.set(name, await hostDigest(host(name)));
  });
  after(async () => fleet?.destroy());

  it('apply stops a host with a swapped or revoked key at SSH: no fallback, no console, nothing changed', async () => {
    const apply = await fleetfix(['apply', '--yes', '-i', inventory, '--limit', 'swapped,revoked', '--output', 'json'], { timeoutMs: 180_000 });
    assert.equal(apply.code, 3, apply.stderr);
    const expected: Record<string, [RegExp, string]> = {
      swapped: [/^HOST KEY CHANGED for swapped .*offered ssh-rsa SHA256:\S+, a key of another type than .*known_hosts holds for it \(ssh-ed25519, line \d+\)/, 'host-key-changed'],
      revoked: [/^REVOKED HOST KEY for revoked .*offered ssh-ed25519 SHA256:\S+, which is marked @revoked in .*known_hosts:\d+/, 'host-key-revoked'],
    };
    for (const [name, [error, cause]] of Object.entries(expected)) {
      const r = hostResult(apply, name);
      assert.equal(r.status, 'unreachable', name);
      assert.deepEqual(r.attempts?.map((a) => a.access), ['ssh'], `${name}: no fallback, no console`);
      assert.match(r.attempts![0]!.error, error, name);
      assert.equal(r.diagnosis?.cause, cause, name);
      assert.equal(await consoleSessions(host(name)), '0', `${name}: no console login`);
      assert.equal((await host(name).sh('stat -c %a /root/.ssh')).stdout.trim(), '755', `${name}: the fault is still there`);
      assert.equal(await hostDigest(host(name)), digests.get(name), `${name}: /etc, /root, /home, the firewall and sshd unchanged`);
    }
  });

  it('diagnose names host-key-changed and host-key-revoked; a host known by its RSA key alone is fine', async () => {
    const diagnose = await fleetfix(['diagnose', '-i', inventory, 'swapped', 'revoked', 'calm', '--output', 'json']);
    assert.equal(diagnose.code, 3, diagnose.stderr);
    assert.equal(hostResult(diagnose, 'swapped').diagnosis?.cause, 'host-key-changed');
    assert.match(hostResult(diagnose, 'swapped').diagnosis!.detail, /the host key \(ssh-rsa\) does not match known_hosts \(which holds ssh-ed25519 for it\)/);
    assert.equal(hostResult(diagnose, 'revoked').diagnosis?.cause, 'host-key-revoked');
    assert.equal(hostResult(diagnose, 'calm').diagnosis?.cause, 'ok');
  });

  it('a 1 GiB authorized_keys and a host with endless output end as errors naming the size or the limit; the rest finish; peak RSS bounded', async (t) => {
    // /usr/bin/time -v reports the CLI process's peak RSS.
    const timed = await run('/usr/bin/time', ['-v', process.execPath, BIN, 'audit', '-i', inventory, '--limit', 'big,flood,calm', '--var', 'ssh_user=deploy', '--output', 'json']);
    const result = JSON.parse(timed.stdout) as RunResult;
    const found = (name: string) => result.hosts.find((h) => h.name === name)!;
    assert.equal(found('big').status, 'failed');
    // The authorized_key module's own cap on the files it reads, or the transport's on what a script returns.
    assert.match(JSON.stringify(found('big')), /1073741824 bytes|sent more than the 8 MiB a script may return/);
    assert.equal(found('flood').status, 'failed');
    assert.match(found('flood').error!, /^a script on flood sent more than the 8 MiB a script may return \(max_output\): reading stopped after \d/);
    assert.notEqual(found('calm').status, 'failed', found('calm').error);
    assert.equal(found('calm').access, 'ssh', 'calm is reached over SSH although only its RSA key is known');
    const rssKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timed.stderr)?.[1]);
    assert.ok(rssKiB > 0, timed.stderr.slice(-2000));
    t.diagnostic(`controller peak RSS: ${Math.round(rssKiB / 1024)} MiB`);
    assert.ok(rssKiB / 1024 < MAX_RSS_MIB, `peak RSS ${Math.round(rssKiB / 1024)} MiB, over ${MAX_RSS_MIB} MiB`);
  });
});
