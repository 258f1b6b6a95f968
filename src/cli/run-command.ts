// audit, plan, apply and validate: load and check every input, then run the fleet and report.
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/errors.js';
import { loadInventory, localInventory } from '../config/inventory.js';
import { limitHosts } from '../config/limit.js';
import { applySshConfig } from '../config/ssh-config.js';
import { loadPlaybook } from '../config/playbook.js';
import { prepareJobs } from '../engine/prepare.js';
import { FleetRun } from '../engine/run.js';
import { modules } from '../modules/registry.js';
import type { Format } from '../report/formats.js';
import { EXIT, exitCodeFor, runResult, type Command } from '../report/model.js';
import { colorWanted, makeStyle } from '../report/style.js';
import { renderText } from '../report/text.js';
import { emitReport } from './emit.js';
import { progressFor } from './progress.js';
import { inShard, type Shard } from './shard.js';
import { parseVars } from './vars.js';

export interface CommonOptions {
  inventory?: string;
  sshConfig?: string;
  limit?: string;
  forks: number;
  var: string[];
  timeout: number;
  output: Format;
  report?: string;
  shard?: Shard;
  color: boolean;
  verbose?: boolean;
  yes?: boolean;
  confirmTimeout?: number;
}

export const DEFAULT_PLAYBOOK = fileURLToPath(new URL('../../playbooks/ssh-access.yml', import.meta.url));

export async function runFleetCommand(command: Command | 'validate', playbookPaths: string[], opts: CommonOptions): Promise<number> {
  const inventory = opts.inventory ? loadInventory(opts.inventory) : localInventory();
  const playbooks = (playbookPaths.length ? playbookPaths : [DEFAULT_PLAYBOOK]).map((p) => loadPlaybook(p, [...modules.keys()]));
  const hosts = await applySshConfig(inShard(limitHosts(inventory, opts.limit), opts.shard), { file: opts.sshConfig });
  const jobs = prepareJobs(hosts, playbooks, parseVars(opts.var));
  if (command === 'validate') {
    const steps = playbooks.reduce((n, p) => n + p.checks.length + p.handlers.length, 0);
    process.stdout.write(`ok: ${hosts.length} host${hosts.length === 1 ? '' : 's'}, ${playbooks.length} playbook${playbooks.length === 1 ? '' : 's'}, ${steps} steps\n`);
    return EXIT.ok;
  }
  if (command === 'apply' && !opts.yes && !process.stdin.isTTY) {
    throw new ConfigError('apply: standard input is not a terminal, so there is no one to confirm; pass --yes to apply without asking (nothing was changed)');
  }

  const progress = await progressFor(opts.output);
  const run = new FleetRun({ command, forks: opts.forks, hostTimeoutMs: opts.timeout * 1000, progress, confirmTimeoutS: opts.confirmTimeout });
  let interrupted = false;
  // A persistent listener (not `once`): with none left, signal-exit (via listr2) would re-raise SIGINT and kill us
  // before the report. A second Ctrl-C exits at once.
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    run.interrupt();
  };
  process.on('SIGINT', onSigint);
  try {
    let results = await run.plan(jobs);
    if (command === 'apply' && !interrupted) {
      const planned = runResult('plan', results);
      if (planned.summary.drift > 0) {
        const planText = renderText(planned, { style: makeStyle(colorWanted(process.stderr, !opts.color)), diffs: true, verbose: false });
        if (!opts.yes || opts.output === 'text') process.stderr.write(`${planText}\n`);
        // inquirer is loaded only when someone is asked.
        const go = opts.yes || (await (await import('./confirm.js')).confirmApply(planned.summary.drift, planned.summary.changes));
        if (!go) {
          process.stderr.write('fleetfix: not applied; nothing was changed\n');
          return EXIT.badInput;
        }
        results = await run.apply();
      }
    }
    const result = runResult(command, results);
    await emitReport(result, opts, (style) => renderText(result, { style, diffs: command !== 'audit', verbose: !!opts.verbose }));
    return interrupted ? EXIT.interrupted : exitCodeFor(result.summary);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await run.close();
  }
}
