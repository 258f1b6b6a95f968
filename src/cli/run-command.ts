// audit, plan, apply and validate: load and check every input, then run the fleet and report.
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/errors.js';
import { loadCheckedInventory } from '../config/inventory.js';
import { limitHosts } from '../config/limit.js';
import { applySshConfig } from '../config/ssh-config.js';
import { loadPlaybook } from '../config/playbook.js';
import { prepareJobs } from '../engine/prepare.js';
import { FleetRun, SETTLE_MS, type Unsettled } from '../engine/run.js';
import { modules } from '../modules/registry.js';
import { escapeControls } from '../report/escape.js';
import type { Format } from '../report/formats.js';
import { EXIT, exitCodeFor, runResult, type Command } from '../report/model.js';
import { colorWanted, makeStyle } from '../report/style.js';
import { renderText } from '../report/text.js';
import { emitReport } from './emit.js';
import { progressFor } from './progress.js';
import { inShard, type Shard } from './shard.js';
import { parseVars } from './vars.js';
import { warn } from './warn.js';

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
  const inventory = await loadCheckedInventory(opts.inventory);
  const playbooks = (playbookPaths.length ? playbookPaths : [DEFAULT_PLAYBOOK]).map((p) => loadPlaybook(p, [...modules.keys()]));
  const hosts = await applySshConfig(inShard(limitHosts(inventory, opts.limit, warn), opts.shard), { file: opts.sshConfig });
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
  // before the report. The first Ctrl-C settles the hosts in flight; a second exits at once, leaving them as they are.
  const onSigint = () => {
    if (interrupted) {
      process.stderr.write(leftAsTheyAre(run.unsettled()));
      process.exit(EXIT.interrupted);
    }
    interrupted = true;
    if (command === 'apply') process.stderr.write(`fleetfix: interrupted: starting nothing new, settling the hosts in flight (at most ${SETTLE_MS / 1000} s); Ctrl-C again exits at once, leaving them to their safety nets\n`);
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

/** What a second Ctrl-C leaves on the hosts, said as fleetfix exits. */
function leftAsTheyAre({ netArmed, leased }: Unsettled): string {
  const names = (hosts: string[]) => hosts.map(escapeControls).join(', ');
  const parts = [
    netArmed.length ? `${names(netArmed)}: this run's safety net stays armed, and undoes the changes under it when its time runs out` : '',
    leased.length ? `${names(leased)}: this run's lease stays until it lapses` : '',
  ].filter(Boolean);
  return `fleetfix: interrupted again: exiting at once, without settling${parts.length ? `; ${parts.join('; ')} (fleetfix status shows them)` : ''}\n`;
}
