// Records the facts the ssh-access checks gather (by fact key) on a real lab host, healthy and broken, for the simulated host
// (test/fake/sim-host.ts) of the engine's unit tests and the scale benchmark. Run as root: npm run bench:record
import { writeFileSync } from 'node:fs';
import { loadInventory } from '../src/config/inventory.js';
import { loadPlaybook } from '../src/config/playbook.js';
import { DEFAULT_PLAYBOOK } from '../src/cli/run-command.js';
import { execBatch } from '../src/engine/batch.js';
import { factRound } from '../src/engine/phases/gather.js';
import { prepareJobs } from '../src/engine/prepare.js';
import { modules } from '../src/modules/registry.js';
import { CommandTransport } from '../src/transport/command.js';
import { RECORDED_FACTS } from '../test/fake/sim-host.js';
import { createFleet } from '../test/lab/fleet.js';

export const BROKEN = "echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && /etc/init.d/ssh restart >/dev/null && chmod 0777 /root/.ssh && iptables -A INPUT -p tcp --dport 22 -j DROP";

const fleet = await createFleet({ hosts: ['healthy', 'broken'] });
try {
  await fleet.setUp({ broken: BROKEN });
  const inventory = loadInventory(fleet.execInventoryPath);
  const playbook = loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()]);
  const jobs = prepareJobs(inventory.hosts, [playbook], {});
  const states: Record<string, Record<string, { code: number; stdout: string; stderr: string }>> = {};
  for (const job of jobs) {
    const transport = CommandTransport.exec(job.host.exec!, 30_000);
    // A check whose facts come from this machine (a probe: ssh_login's login) has nothing to record on the host.
    const steps = [...job.checks, ...job.handlers].filter((s) => !s.skip && !s.module.probe);
    const round = factRound(steps);
    const facts = await execBatch(transport, round.scripts, { stopOnError: false });
    states[job.host.name] = Object.fromEntries(round.uses.map((u, i) => [u.key, facts[i]!]));
  }
  const out = { recorded: new Date().toISOString(), vars: { authorized_key: fleet.operatorPublicKey }, states };
  writeFileSync(RECORDED_FACTS, `${JSON.stringify(out, null, 1)}\n`);
  process.stdout.write(`recorded ${Object.keys(states.healthy!).length} facts, healthy and broken\n`);
} finally {
  await fleet.destroy();
}
