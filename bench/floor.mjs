// The floor: one ssh2 connection per host running one fixed script, no engine, over fleetfix's own transport.
// bench/lab.ts bundles it as the CLI is bundled (scripts/bundle.mjs bench/floor.mjs OUT.mjs), so that it pays no more
// start-up than fleetfix itself, and runs: node OUT.mjs INVENTORY.yml [audit|apply]
//   audit: one gather script. apply: one script that fixes the bench's three faults and reloads sshd (sshd -t, then
//   SIGHUP: sshd re-executes itself on the new configuration), then a fresh ssh2 login that runs `exit 0`: the least
//   an apply that proves access can do.
import pLimit from 'p-limit';
import { loadInventory } from '../src/config/inventory.ts';
import { SshTransport } from '../src/transport/ssh.ts';

const GATHER = `stat -c '%a %U' /root/.ssh /root/.ssh/authorized_keys; grep -c ssh-ed25519 /root/.ssh/authorized_keys
/usr/sbin/sshd -T | grep -E '^(port|listenaddress|pubkeyauthentication|maxstartups) '
/etc/init.d/ssh status >/dev/null && echo running; iptables-save -t filter | grep -c -- '-A INPUT'; ss -Hltn`;
const FIX = `sed -i '/^MaxStartups 1:100:1$/d' /etc/ssh/sshd_config && chmod 0700 /root/.ssh && chmod 0600 /root/.ssh/authorized_keys
/usr/sbin/sshd -t && kill -HUP "$(cat /run/sshd.pid)" && echo running`;

const inventory = loadInventory(process.argv[2]);
const mode = process.argv[3] ?? 'audit';
const limit = pLimit(inventory.hosts.length);
const connect = (h) => SshTransport.connect({ name: h.name, address: h.address, access: h.ssh, knownHosts: h.knownHosts, hostKeyPolicy: h.hostKeyPolicy, connectTimeoutMs: h.connectTimeoutMs, commandTimeoutMs: h.commandTimeoutMs, maxOutputBytes: h.maxOutputBytes });

/** The fresh login after a restart: a port that still refuses is tried again, as fleetfix does. */
async function login(h) {
  for (const wait of [100, 200, 400, 800, undefined]) {
    try {
      const t = await connect(h);
      const r = await t.exec('exit 0');
      await t.close();
      return r.code === 0;
    } catch (err) {
      if (err.kind !== 'connect-refused' || wait === undefined) return false;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

const outputs = await Promise.all(
  inventory.hosts.map((h) =>
    limit(async () => {
      const t = await connect(h);
      const r = await t.exec(mode === 'apply' ? FIX : GATHER);
      await t.close();
      const ok = r.code === 0 && r.stdout.includes('running');
      return ok && (mode !== 'apply' || (await login(h)));
    }),
  ),
);
const ok = outputs.filter(Boolean).length;
process.stdout.write(`floor ${mode}: ${ok}/${outputs.length} hosts\n`);
process.exitCode = ok === outputs.length ? 0 : 1;
