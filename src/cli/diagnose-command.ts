// fleetfix diagnose: why SSH to each host fails, seen from this machine, for the inventory's user and the playbook's
// ssh_user; talks only to each host's address (SSH ports, a few usual ones, ICMP echo).
import pLimit from 'p-limit';
import { loadCheckedInventory } from '../config/inventory.js';
import { limitHosts } from '../config/limit.js';
import { applySshConfig } from '../config/ssh-config.js';
import { probeHost } from '../diagnose/probe.js';
import { asDiagnosis } from '../diagnose/causes.js';
import { exitCodeFor, runResult, type HostResult } from '../report/model.js';
import { renderDiagnosis } from '../report/text.js';
import { playbookUsers } from './diagnose-user.js';
import { emitReport } from './emit.js';
import { byCause, progressFor } from './progress.js';
import type { CommonOptions } from './run-command.js';
import { inShard } from './shard.js';
import { parseVars } from './vars.js';
import { warn } from './warn.js';

export async function runDiagnose(hostNames: string[], opts: CommonOptions): Promise<number> {
  const inventory = await loadCheckedInventory(opts.inventory);
  const hosts = await applySshConfig(inShard(limitHosts(inventory, [...hostNames, ...(opts.limit ? [opts.limit] : [])].join(',') || undefined, warn), opts.shard), { file: opts.sshConfig });
  const userOf = playbookUsers(parseVars(opts.var));
  const users = new Map(hosts.map((h) => [h, userOf(h)]));
  const progress = await progressFor(opts.output, byCause);
  const limit = pLimit(opts.forks);
  progress.start(hosts.length, 'diagnose');
  const results = await Promise.all(
    hosts.map((host) =>
      limit(async (): Promise<HostResult> => {
        const started = Date.now();
        progress.phase(host.name, 'connecting');
        const base = { name: host.name, address: host.address, checks: [] };
        const result: HostResult =
          host.transport !== 'ssh'
            ? { ...base, status: 'compliant', diagnosis: { cause: 'not-ssh', detail: `reached by ${host.transport}, not SSH` }, durationMs: 0 }
            : await probeHost(host, Math.min(host.connectTimeoutMs, opts.timeout * 1000), users.get(host)).then((p) => ({ ...base, status: p.cause === 'ok' ? 'compliant' : 'unreachable', diagnosis: asDiagnosis(p), durationMs: Date.now() - started }) as HostResult);
        progress.done(result);
        return result;
      }),
    ),
  );
  await progress.end();
  const run = runResult('diagnose', results);
  await emitReport(run, opts, (style) => renderDiagnosis(run, style));
  return exitCodeFor(run.summary);
}
