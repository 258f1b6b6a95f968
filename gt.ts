import { loadInventory } from './src/config/inventory.js';
import { loadPlaybook } from './src/config/playbook.js';
import { DEFAULT_PLAYBOOK } from './src/cli/run-command.js';
import { prepareJobs } from './src/engine/prepare.js';
import { execBatch } from './src/engine/batch.js';
import { modules } from './src/modules/registry.js';
import { SshTransport } from './src/transport/ssh.js';
const inv = loadInventory('/var/tmp/fleetfix-lab/1/inventory.yml');
const h = inv.hosts[0]!;
const [job] = prepareJobs([h], [loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()])], {});
const t = await SshTransport.connect({ name: h.name, address: h.address, access: h.ssh, knownHosts: h.knownHosts, hostKeyPolicy: h.hostKeyPolicy, connectTimeoutMs: 5000, commandTimeoutMs: 5000 });
const scripts = job!.checks.filter((c) => !c.skip).map((c) => c.module.gather(c.params));
const time = async (label: string, f: () => Promise<unknown>) => { const t0 = performance.now(); for (let i = 0; i < 10; i++) await f(); console.log(label.padEnd(12), ((performance.now() - t0) / 10).toFixed(1), 'ms'); };
await time('batch', () => execBatch(t, scripts, { stopOnError: false }));
await time('empty', () => t.exec('true'));
const FLOOR = `stat -c '%a %U' /root/.ssh /root/.ssh/authorized_keys; grep -c ssh-ed25519 /root/.ssh/authorized_keys
/usr/sbin/sshd -T | grep -E '^(port|listenaddress|pubkeyauthentication|maxstartups) '
/etc/init.d/ssh status >/dev/null && echo running; iptables-save -t filter | grep -c -- '-A INPUT'; ss -Hltn`;
await time('floor', () => t.exec(FLOOR));
for (const [i, s] of scripts.entries()) await time(job!.checks.filter((c) => !c.skip)[i]!.step.id, () => t.exec(s));
await t.close();
