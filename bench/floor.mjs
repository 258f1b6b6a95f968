// The floor: one ssh2 connection per host running one fixed gather script, no engine, over fleetfix's own transport.
// bench/lab.ts bundles it as the CLI is bundled (scripts/bundle.mjs bench/floor.mjs OUT.mjs), so that it pays no more
// start-up than fleetfix itself, and runs: node OUT.mjs INVENTORY.yml
import pLimit from 'p-limit';
import { loadInventory } from '../src/config/inventory.ts';
import { SshTransport } from '../src/transport/ssh.ts';

const GATHER = `stat -c '%a %U' /root/.ssh /root/.ssh/authorized_keys; grep -c ssh-ed25519 /root/.ssh/authorized_keys
/usr/sbin/sshd -T | grep -E '^(port|listenaddress|pubkeyauthentication|maxstartups) '
/etc/init.d/ssh status >/dev/null && echo running; iptables-save -t filter | grep -c -- '-A INPUT'; ss -Hltn`;

const inventory = loadInventory(process.argv[2]);
const limit = pLimit(inventory.hosts.length);
const outputs = await Promise.all(
  inventory.hosts.map((h) =>
    limit(async () => {
      const t = await SshTransport.connect({ name: h.name, address: h.address, access: h.ssh, knownHosts: h.knownHosts, hostKeyPolicy: h.hostKeyPolicy, connectTimeoutMs: h.connectTimeoutMs, commandTimeoutMs: h.commandTimeoutMs });
      const r = await t.exec(GATHER);
      await t.close();
      return r.code === 0 && r.stdout.includes('running');
    }),
  ),
);
const ok = outputs.filter(Boolean).length;
process.stdout.write(`floor: ${ok}/${outputs.length} hosts gathered\n`);
process.exitCode = ok === outputs.length ? 0 : 1;
