// The SSH transport against a real sshd: every way to authenticate, known_hosts forms, timeouts, a lost connection,
// a server that hangs up before authentication, a host that freezes mid-session, and output past max_output on every
// transport (ssh, console, exec).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { SshAccess } from '../../src/config/inventory.js';
import { CommandTransport } from '../../src/transport/command.js';
import { ConsoleTransport } from '../../src/transport/console.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../../src/transport/output-cap.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { TransportError, type Transport } from '../../src/transport/types.js';
import { createFleet, run, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult } from './helpers.js';

const MINIMAL = fileURLToPath(new URL('../fixtures/playbooks/minimal.yml', import.meta.url));
let fleet: Fleet;
let h1: LabHost;
let password: string;

function access(over: Partial<SshAccess> = {}): SshAccess {
  return { label: 'ssh', port: 22, user: 'root', identities: [fleet.operatorKey], ...over };
}
function connect(over: Partial<SshAccess> = {}, knownHosts = fleet.knownHostsPath, commandTimeoutMs = 10_000, maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES) {
  return SshTransport.connect({ name: h1.name, address: h1.address, access: access(over), knownHosts, hostKeyPolicy: 'strict', connectTimeoutMs: 5000, commandTimeoutMs, maxOutputBytes });
}
/** Poll (up to 50 x 0.1 s) until no process on the lab machine runs `yes TAG`; returns how many are left. */
async function processesLeft(tag: string): Promise<number> {
  let left = 0;
  for (let i = 0; i < 50; i++) {
    left = Number((await run('pgrep', ['-fc', `^yes ${tag}$`])).stdout.trim());
    if (left === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return left;
}
async function rejects(promise: Promise<unknown>, kind: TransportError['kind']): Promise<TransportError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TransportError, `not a TransportError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  assert.fail(`expected a ${kind} error`);
}
/** The lab inventory edited by `replace`, without the console: these tests are about SSH alone. */
function inventoryWith(name: string, replace: (text: string) => string): string {
  const path = join(fleet.root, name);
  const inventory = parse(replace(readFileSync(fleet.inventoryPath, 'utf8')));
  delete inventory.hosts.h1.console;
  writeFileSync(path, stringify(inventory));
  return path;
}

describe('ssh transport on a real sshd', { timeout: 300_000 }, () => {
  before(async () => {
    fleet = await createFleet({ hosts: ['h1'] });
    h1 = fleet.hosts[0]!;
    password = readFileSync(fleet.consolePasswordFile, 'utf8').trim();
    const r = await h1.sh("printf 'Port 22\\nPort 2222\\n' > /etc/ssh/sshd_config.d/ports.conf && /etc/init.d/ssh restart >/dev/null");
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => fleet?.destroy());

  it('runs scripts over one connection, exit codes as data', async () => {
    const t = await connect();
    try {
      assert.deepEqual(await t.exec('echo out; echo err >&2; exit 7'), { code: 7, stdout: 'out\n', stderr: 'err\n' });
      const big = await t.exec('head -c 3000000 /dev/zero | tr "\\0" x');
      assert.equal(big.stdout.length, 3_000_000);
      const stdin = await t.exec(`cat <<'EOF'\n${'y'.repeat(200_000)}\nEOF`);
      assert.equal(stdin.stdout.length, 200_001);
    } finally {
      await t.close();
    }
  });

  it('a passphrase-protected key, the passphrase from the environment', async () => {
    const key = join(fleet.root, 'encrypted_ed25519');
    copyFileSync(fleet.operatorKey, key);
    await run('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'correct horse', '-f', key]);
    const inventory = inventoryWith('inventory.passphrase.yml', (t) => t.replace(fleet.operatorKey, key).replace('  user: root', '  user: root\n  passphrase: { env: FF_TEST_PASSPHRASE }'));
    const ok = await fleetfix(['audit', '-i', inventory, MINIMAL, '--output', 'json'], { env: { FF_TEST_PASSPHRASE: 'correct horse' } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(!ok.stdout.includes('correct horse') && !ok.stderr.includes('correct horse'));
    const unset = await fleetfix(['audit', '-i', inventory, MINIMAL]);
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /environment variable FF_TEST_PASSPHRASE is not set/);
    const noPassphrase = inventoryWith('inventory.nopassphrase.yml', (t) => t.replace(fleet.operatorKey, key));
    const refused = await fleetfix(['audit', '-i', noPassphrase, MINIMAL, '--output', 'json'], { env: { HOME: fleet.root, SSH_AUTH_SOCK: '' } });
    assert.equal(refused.code, 3);
    assert.match(hostResult(refused, 'h1').error!, /cannot use .*encrypted_ed25519: .*passphrase/i);
  });

  it('ssh-agent', async () => {
    const sock = join(fleet.root, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && (await run('test', ['-S', sock])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
      const added = await run('env', [`SSH_AUTH_SOCK=${sock}`, 'ssh-add', fleet.operatorKey]);
      assert.equal(added.code, 0, added.stderr);
      const inventory = inventoryWith('inventory.agent.yml', (t) => t.replace(`identity: ${fleet.operatorKey}`, 'agent: true'));
      const audit = await fleetfix(['audit', '-i', inventory, MINIMAL], { env: { SSH_AUTH_SOCK: sock } });
      assert.equal(audit.code, 0, audit.stderr + audit.stdout);
    } finally {
      agent.kill();
    }
  });

  it('password authentication, the password never printed', async () => {
    const inventory = inventoryWith('inventory.password.yml', (t) =>
      t.replace('  user: root', `  user: deploy\n  password: { file: ${fleet.consolePasswordFile} }\n  agent: false`).replace(`  identity: ${fleet.operatorKey}\n`, ''),
    );
    const audit = await fleetfix(['audit', '-i', inventory, MINIMAL, '--output', 'json'], { env: { HOME: fleet.root } });
    assert.equal(audit.code, 0, audit.stderr + audit.stdout);
    assert.ok(!audit.stdout.includes(password) && !audit.stderr.includes(password));
  });

  it('a wrong password is auth-failed', async () => {
    await rejects(connect({ user: 'deploy', identities: [], password: 'wrong' }), 'auth-failed');
  });

  it('known_hosts with hashed names and [host]:port entries', async () => {
    const hashed = join(fleet.root, 'known_hosts.hashed');
    const lines = readFileSync(fleet.knownHostsPath, 'utf8').trim().split('\n');
    writeFileSync(hashed, `${lines.map((l) => l.replace(h1.address, `[${h1.address}]:2222`)).join('\n')}\n`);
    assert.equal((await run('ssh-keygen', ['-H', '-f', hashed])).code, 0);
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    const t = await SshTransport.connect({ name: h1.name, address: h1.address, access: access({ port: 2222 }), knownHosts: hashed, hostKeyPolicy: 'strict', connectTimeoutMs: 5000, commandTimeoutMs: 5000, maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES });
    assert.equal((await t.exec('echo ok')).stdout, 'ok\n');
    await t.close();
    const err = await rejects(connect({}, hashed), 'host-key-unknown');
    assert.match(err.message, /not in .*known_hosts\.hashed/);
  });

  it('connection refused and unreachable ports are typed', async () => {
    await rejects(connect({ port: 2999 }), 'connect-refused');
  });

  it('a command that outlives its timeout is command-timeout', async () => {
    const t = await connect({}, fleet.knownHostsPath, 500);
    try {
      await rejects(t.exec('sleep 5'), 'command-timeout');
    } finally {
      await t.close();
    }
  });

  it('a connection killed mid-command is connection-lost, not a hang', async () => {
    const t = await connect();
    const lost = rejects(t.exec('sleep 30'), 'connection-lost');
    // Once the command runs (bounded: 100 x 0.05 s), kill h1's session process: only h1's, as the lab hosts share
    // this machine's PID namespace and other labs' sessions must live on.
    const killed = await run('sh', ['-c', `for i in $(seq 100); do
      ff_pids=$(ip netns pids "$1" | tr '\\n' ',' | sed 's/,$//')
      if [ -n "$ff_pids" ] && ps -o args= -p "$ff_pids" | grep -qx 'sleep 30'; then
        ps -o pid=,args= -p "$ff_pids" | awk '/sshd(-session)?: root@notty/ { print $1 }' | xargs -r kill; exit 0
      fi; sleep 0.05; done; exit 1`, 'sh', h1.netns]);
    assert.equal(killed.code, 0, 'the command never ran on h1');
    await lost;
    await rejects(t.exec('true'), 'connection-lost');
    await t.close();
  });

  it('sshd hanging up before authentication (a NUL byte in the user name) is connection-lost at once, not a wait for --timeout', { timeout: 60_000 }, async () => {
    const err = await rejects(connect({ user: 'ro\0ot' }), 'connection-lost');
    assert.match(err.message, /closed the connection before authentication/);
  });

  it('a script past max_output is stopped on every transport: an error naming the host, the limit and what arrived; nothing left running', async () => {
    const limit = 1024 * 1024;
    const transports: [string, () => Promise<Transport>][] = [
      ['ssh', () => connect({}, fleet.knownHostsPath, 20_000, limit)],
      ['console', () => ConsoleTransport.connect({ name: h1.name, console: { tcp: { host: '127.0.0.1', port: h1.consolePort }, pty: false, user: 'root', password, promptTimeoutMs: 15_000 }, commandTimeoutMs: 20_000, maxOutputBytes: limit })],
      ['exec', async () => CommandTransport.exec(`nsenter --net=/run/netns/${h1.netns} --mount=${h1.dir}/mnt --uts=${h1.dir}/uts -- sh -s`, 20_000, limit, h1.name)],
    ];
    for (const [name, open] of transports) {
      const t = await open();
      const tag = `fleetfix-flood-${name}`;
      try {
        const err = await rejects(t.exec(`yes ${tag}`), 'output-limit');
        assert.match(err.message, new RegExp(`^a script on (the console of )?h1( \\(exec\\))? sent more than the 1 MiB a script may return \\(max_output\\): reading stopped after \\d+(\\.\\d)? MiB$`), name);
        if (name !== 'console') assert.equal((await t.exec('echo still here')).stdout, 'still here\n', `${name}: the transport goes on`);
      } finally {
        await t.close();
      }
      assert.equal(await processesLeft(tag), 0, `${name}: the flooding script ends on the host`);
    }
  });

  it('a host that freezes mid-session: the host fails at command_timeout and the process exits right after its report', async () => {
    // ~/.ssh/rc runs at the start of each SSH session: from the first script on, h1 drops every packet.
    const freeze = await h1.sh(`printf 'iptables -I INPUT -j DROP; iptables -I OUTPUT -j DROP\n' > /root/.ssh/rc`);
    assert.equal(freeze.code, 0, freeze.stderr);
    try {
      const inventory = inventoryWith('inventory.freeze.yml', (t) => t.replace('  user: root', '  user: root\n  command_timeout: 3'));
      // Far below the kernel's FIN retries (about 15 minutes) that kept the process alive; the helper kills it at the bound.
      const audit = await fleetfix(['audit', '-i', inventory, MINIMAL, '--output', 'json'], { timeoutMs: 90_000 });
      assert.equal(audit.code, 3, `the process exited by itself (${audit.code}): ${audit.stderr}`);
      assert.match(hostResult(audit, 'h1').error!, /did not finish within 3 s/);
    } finally {
      const thaw = await h1.sh('rm -f /root/.ssh/rc; iptables -F INPUT; iptables -F OUTPUT');
      assert.equal(thaw.code, 0, thaw.stderr);
    }
  });

  it('transport: exec runs the same checks through a command of the operator (here nsenter)', async () => {
    const audit = await fleetfix(['audit', '-i', fleet.execInventoryPath, MINIMAL, '--output', 'json']);
    assert.equal(audit.code, 0, audit.stderr);
    assert.equal(hostResult(audit, 'h1').access, 'exec');
    assert.equal(hostResult(audit, 'h1').checks[0]!.status, 'pass');
  });

  it('audit reports a refused port as unreachable with a diagnosis: sshd answers on 22, not the 2999 asked for', async () => {
    const inventory = inventoryWith('inventory.refused.yml', (t) => t.replace('  user: root', '  user: root\n  port: 2999'));
    const audit = await fleetfix(['audit', '-i', inventory, MINIMAL, '--output', 'json']);
    assert.equal(audit.code, 3);
    assert.equal(hostResult(audit, 'h1').diagnosis?.cause, 'sshd-on-other-port');
    assert.match(hostResult(audit, 'h1').diagnosis!.detail, /:2999 refused the connection, but sshd answers on port 22 \("SSH-2\.0-/);
  });
});
