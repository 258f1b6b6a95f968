// ~/.ssh/config through the real `ssh -G -F FILE`: what it fills in where the inventory leaves a setting open, and
// what it refuses. Fixtures: test/fixtures/ansible/ssh-config/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/config/inventory.js';
import { applyOptions, applySshConfig, parseSshG } from '../../src/config/ssh-config.js';

const DIR = fileURLToPath(new URL('../fixtures/ansible/ssh-config/', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'fleetfix-sshcfg-'));
after(() => rmSync(home, { recursive: true, force: true }));
process.env.HOME = home;
mkdirSync(join(home, 'keys'));
writeFileSync(join(home, 'keys', 'id_deploy'), 'not parsed here');

const load = () => loadInventory(join(DIR, 'inventory.ini')).hosts.filter((h) => h.name !== 'piped');

describe('ssh_config fills what the inventory leaves open', () => {
  it('an alias gets HostName, User, Port, IdentityFile (%d, %r), UserKnownHostsFile, StrictHostKeyChecking and a ProxyJump through another alias', async () => {
    const [alias, db, other] = await applySshConfig(load(), { file: join(DIR, 'config') });
    assert.deepEqual(
      { address: alias!.address, user: alias!.ssh.user, port: alias!.ssh.port, identities: alias!.ssh.identities, knownHosts: alias!.knownHosts, policy: alias!.hostKeyPolicy },
      { address: '192.0.2.5', user: 'deploy', port: 2222, identities: [join(home, 'keys', 'id_deploy')], knownHosts: '/etc/fleet/known_hosts', policy: 'accept-new' },
    );
    assert.deepEqual({ ...alias!.ssh.jump, identities: undefined }, { address: '192.0.2.1', port: 2200, user: 'ops', identities: undefined });
    // The inventory's own ansible_user wins over the config's User; the rest is left as fleetfix's defaults.
    assert.deepEqual([db!.address, db!.ssh.user, db!.ssh.port, db!.hostKeyPolicy, db!.ssh.jump], ['db.example.com', 'dba', 22, 'strict', undefined]);
    assert.deepEqual([other!.ssh.user, other!.knownHosts], ['admin', join(home, '.ssh', 'known_hosts')]);
  });

  it('-F none reads no configuration', async () => {
    const hosts = load();
    assert.equal(await applySshConfig(hosts, { file: 'none' }), hosts);
  });

  it('a ProxyCommand fleetfix cannot follow is refused, naming the host', async () => {
    const piped = loadInventory(join(DIR, 'inventory.ini')).hosts.filter((h) => h.name === 'piped');
    await assert.rejects(applySshConfig(piped, { file: join(DIR, 'config') }), /^ConfigError: ssh_config for piped: ProxyCommand "nc %h %p": fleetfix follows ProxyJump/);
  });

  it("a broken config is ssh's own error, with its file and line", async () => {
    await assert.rejects(applySshConfig(load(), { file: join(DIR, 'bad-config') }), /ssh -G \S+: .*bad-config: line 2: Bad configuration option: nosuchoption/);
  });

  it('a missing -F file is named', async () => {
    await assert.rejects(applySshConfig(load(), { file: join(DIR, 'nope') }), /-F .*nope: no such file/);
  });

  it('hostile values from ssh -G are refused (a HostName that is an option)', () => {
    const [alias] = load();
    assert.throws(() => applyOptions(alias!, parseSshG('hostname -oProxyCommand=x\n')), /ssh_config for web-alias: HostName "-oProxyCommand=x": expected a host name/);
    assert.throws(() => applyOptions(alias!, parseSshG('user a;b\n')), /ssh_config for web-alias: User: expected a user name/);
  });
});
