// ~/.ssh/config through the real `ssh -G -F FILE`: what it fills in where the inventory leaves a setting open, what
// it refuses, and when one `ssh -G` answers for every host. Fixtures: test/fixtures/ansible/ssh-config/ and
// test/fixtures/ssh-config/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadInventory, type HostSpec } from '../../src/config/inventory.js';
import { applyOptions, applySshConfig, parseSshG, sshHostname, type SshGRunner } from '../../src/config/ssh-config.js';
import { mayVaryByHost } from '../../src/config/ssh-config-scan.js';

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

  // What ssh -G prints is what ssh would connect to: each value must be what fleetfix takes it for, or the host is refused.
  const hostile: [string, string][] = [
    ['hostname -oProxyCommand=x', 'ssh_config for web-alias: ssh -G gives HostName "-oProxyCommand=x", which fleetfix would connect to: "-oProxyCommand=x" starts with "-", which ssh and other programs would take for an option'],
    ['hostname 127.0.0.1\uff11', 'ssh_config for web-alias: ssh -G gives HostName "127.0.0.1\uff11", which fleetfix would connect to: found "\uff11" (U+FF11) at character 10, which Unicode normalisation (NFKC) turns into "1"'],
    ['hostname 127.1', 'ssh -G gives HostName "127.1", which fleetfix would connect to: "127.1" is not an IPv4 address in canonical form: the system\'s resolver (inet_aton, used by ssh and by fleetfix\'s connect) reads it as 127.0.0.1'],
    ['hostname db.example.com.', 'ssh -G gives HostName "db.example.com.", which fleetfix would connect to: "db.example.com." ends with ".": an absolute DNS name is refused'],
    ['port 0x16', 'ssh_config for web-alias: ssh -G gives Port "0x16": expected a whole number from 1 to 65535'],
    ['port 22abc', 'ssh_config for web-alias: ssh -G gives Port "22abc": expected a whole number from 1 to 65535'],
    ['user a;b', 'ssh_config for web-alias: User: expected a user name'],
    ['identityfile ~/.ssh/link/../id_other', 'ssh_config for web-alias: expected a path on this machine; got "~/.ssh/link/../id_other": a ".." component'],
    ['proxyjump ops@010.0.0.1', 'ssh_config for web-alias: jump host "ops@010.0.0.1": "010.0.0.1" is not an IPv4 address in canonical form: the system\'s resolver (inet_aton, used by ssh and by fleetfix\'s connect) reads it as 8.0.0.1'],
  ];
  for (const [line, error] of hostile) {
    it(`ssh -G printing "${line}" is refused, naming the host`, () => {
      const [alias] = load();
      assert.throws(() => applyOptions(alias!, parseSshG(`${line}\n`)), (err: Error) => err.name === 'ConfigError' && err.message.includes(error));
    });
  }
});

// test/fixtures/ssh-config/ as ~/.ssh, where its relative Includes lead; ssh refuses included files others can write.
const dotSsh = join(home, '.ssh');
cpSync(fileURLToPath(new URL('../fixtures/ssh-config/', import.meta.url)), dotSsh, { recursive: true });
for (const entry of readdirSync(dotSsh, { recursive: true })) {
  const path = join(dotSsh, String(entry));
  chmodSync(path, statSync(path).isDirectory() ? 0o700 : 0o600);
}
const sshG = async (args: string[]) => (await promisify(execFile)('ssh', ['-G', ...args])).stdout;

/** The real `ssh -G`, and the names it was asked about. */
function countingSshG(): { run: SshGRunner; asked: string[] } {
  const asked: string[] = [];
  return { asked, run: (args) => (asked.push(args.at(-1)!), sshG(args)) };
}

/** What `ssh -G` for each host on its own gives. */
const eachOnItsOwn = (hosts: HostSpec[], file: string) => Promise.all(hosts.map(async (h) => applyOptions(h, parseSshG(await sshG(['-F', file, '--', h.sshConfig!.query])))));

describe('one ssh -G answers for every host when ssh_config cannot vary by host', () => {
  const hosts = loadInventory(join(dotSsh, 'inventory.yml')).hosts;
  const queries = hosts.map((h) => h.sshConfig!.query);

  for (const fixture of ['empty', 'debian', 'alive', 'include-glob']) {
    it(`${fixture}: ssh -G runs once, and each host gets what its own ssh -G gives`, async () => {
      const file = join(dotSsh, fixture);
      const { run, asked } = countingSshG();
      const got = await applySshConfig(hosts, { file }, run);
      assert.deepEqual(asked, [queries[0]]);
      assert.deepEqual(got, await eachOnItsOwn(hosts, file));
      assert.deepEqual(got.map((h) => h.address), ['192.0.2.10', '2001:DB8::A1', 'db1.example.com', 'web-alias']);
    });
  }

  for (const fixture of ['user-direct', 'port-in-match', 'hostname-in-include', 'canonicalize', 'include-token', 'include-env', 'include-dir-wildcard']) {
    it(`${fixture}: ssh -G runs for each host`, async () => {
      const file = join(dotSsh, fixture);
      const { run, asked } = countingSshG();
      const got = await applySshConfig(hosts, { file }, run);
      assert.deepEqual(asked.sort(), [...queries].sort());
      assert.deepEqual(got, await eachOnItsOwn(hosts, file));
    });
  }

  it('a bad option is still ssh\'s own error', async () => {
    await assert.rejects(applySshConfig(hosts, { file: join(DIR, 'bad-config') }), /ssh -G \S+: .*bad-config: line 2: Bad configuration option: nosuchoption/);
  });

  // [line of a user config file, whether it may vary by host]
  const lines: [string, boolean][] = [
    ['  port=2222', true],
    ['=HostName x', true],
    ['"User" deploy', true],
    ['Pro"xyJump" bastion', true],
    ['"HostName"foo.example', true],
    ['IDENTITYFILE2 ~/.ssh/id_other', true],
    ['UserKnownHostsFile /dev/null', true],
    ['Match exec "true"\n  StrictHostKeyChecking no', true],
    ['AddressFamily inet', true],
    ['CanonicalDomains example.com', true],
    ['# HostName x', false],
    ['SendEnv HostName', false],
    ['Host hostname user port', false],
    ['Include "conf.d/10-alive.conf" \'conf.d/20-forward.conf\' # two files', false],
    ['Include /nonexistent/*.conf nonexistent', false],
    ['Include keyed.d/50-db.conf', true],
    ['Include ~/.ssh/keyed.d/*', true],
    ['Include ~someone/x', true],
    ['Include conf.d/[12]*.conf', true],
    ['Include conf.d\\*.conf', true],
    ['Include "conf.d/*.conf', true],
    ['Include scanned-line', true],
  ];
  for (const [text, varies] of lines) {
    it(`${JSON.stringify(text)} ${varies ? 'may vary' : 'cannot vary'} by host`, () => {
      const file = join(dotSsh, 'scanned-line');
      writeFileSync(file, `${text}\n`, { mode: 0o600 });
      assert.equal(mayVaryByHost(['-F', file]), varies);
    });
  }

  // [name, whether its HostName is derived without ssh]
  const names: [string, boolean][] = [
    ['Db1.Example.COM', true], ['web-alias', true], ['foo_bar.example.', true], ['1a.example', true], ['192.0.2.10', true], ['255.255.255.255', true],
    ['2001:DB8::A1', true], ['2001:0db8:0:0::a1', true], ['FE80:0000::0001', true], ['1:0:0:2:0:0:0:3', true], ['1:2:3:4:5:6:7::', true], ['1:0:0:0:0:0:0:0', true],
    ['123', false], ['0x7f.1', false], ['1.2.3', false], ['08.1.1.1', false], ['::1', false], ['::ffff:192.0.2.1', false], ['::2:3', false], ['64:ff9b::192.0.2.1', false],
  ];
  it('the HostName derived for a name is the one ssh -G prints; the rest are left to ssh', async () => {
    for (const [name, derived] of names) {
      const printed = parseSshG(await sshG(['-F', '/dev/null', '--', name])).get('hostname')?.[0];
      const hostname = sshHostname(name);
      assert.equal(hostname !== undefined, derived, name);
      if (hostname !== undefined) assert.equal(hostname, printed, name);
    }
  });
});
