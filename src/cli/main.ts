// The fleetfix command line: arguments, the commands and their help, exit codes.
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, ConfigErrors } from '../config/errors.js';
import { CONFIRM_TIMEOUT_S } from '../engine/host-run.js';
import { modules } from '../modules/registry.js';
import { escapeControls, escapeLines } from '../report/escape.js';
import { FORMATS } from '../report/formats.js';
import { EXIT } from '../report/model.js';
import { reportPath } from './emit.js';
import { COMMAND_EXAMPLES, PROGRAM_EXAMPLES } from './help.js';
import { runFleetCommand, type CommonOptions } from './run-command.js';
import type { StatusOptions } from './status-command.js';
import { parseShard } from './shard.js';
import { VERSION } from './version.js';

function withCommonOptions(cmd: Command): Command {
  const common = withHostOptions(cmd)
    .option('--var <name=value>', 'set a variable (repeatable); a value @path reads that file', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addOption(new Option('--shard <i/n>', 'only the hosts of shard I of N, a stable partition by host name (merge the reports with "report merge")').argParser(parseShard));
  return withReportOptions(common);
}

/** -i, -F, --limit, --forks and --timeout: which hosts, how they are reached, how many at once and for how long. */
function withHostOptions(cmd: Command): Command {
  return cmd
    .option('-i, --inventory <file>', "inventory: fleetfix's YAML, an Ansible INI or YAML file, or an executable dynamic inventory (default: this machine, run locally)")
    .option('-F, --ssh-config <file>', "ssh_config to read, as ssh -F (default: ssh's own; none reads none)")
    .option('--limit <pattern>', "Ansible host patterns: names, globs, ~regex, group[0:2]; ',' joins, &x intersects, !x excludes")
    .addOption(new Option('--forks <n>', 'hosts in parallel').default(50).argParser(positiveInt('--forks')))
    .addOption(new Option('--timeout <seconds>', 'per host').default(300).argParser(positiveInt('--timeout')));
}

/** --output, --report, --no-color and -v: how a run, or a merge of runs, is reported. */
function withReportOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--output <format>', 'output format on stdout').choices(FORMATS).default('text'))
    .addOption(new Option('--report <file>', 'also write the report to FILE, in the format its extension names: .txt, .json, .xml (JUnit), .html').argParser(reportPath))
    .option('--no-color', 'no colours (also NO_COLOR)')
    .option('-v, --verbose', 'show passing checks too');
}

function positiveInt(flag: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new ConfigError(`${flag}: expected a whole number of at least 1, got "${value}"`);
    return Number(value);
  };
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('fleetfix')
    .description('Find and fix broken SSH access across a fleet of Linux hosts')
    .version(VERSION, '-V, --version', 'print the version')
    .addHelpText('after', PROGRAM_EXAMPLES)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`${escapeControls(s.replace(/\n$/, ''))}\n`) })
    .showHelpAfterError(false);

  const fleetCommand = (name: 'audit' | 'plan' | 'apply' | 'validate', description: string) => {
    const cmd = withCommonOptions(program.command(name).description(description).argument('[playbook...]', 'playbooks (default: the bundled ssh-access.yml)')).addHelpText('after', COMMAND_EXAMPLES[name]);
    if (name === 'apply') {
      cmd.option('-y, --yes', 'apply without asking');
      cmd.addOption(new Option('--confirm-timeout <seconds>', 'undo changes that can cut access unless confirmed by a fresh login within this time').default(CONFIRM_TIMEOUT_S).argParser(positiveInt('--confirm-timeout')));
    }
    cmd.action(async (playbooks: string[], opts: CommonOptions) => {
      exitCode = await runFleetCommand(name, playbooks, opts);
    });
  };
  fleetCommand('audit', 'checks only; never changes a host');
  fleetCommand('plan', 'checks and what each fix would change, as diffs; never changes a host');
  fleetCommand('apply', 'plan, confirm, apply, re-check, verify SSH access');
  fleetCommand('validate', 'parse and check the files; connects to nothing');
  withCommonOptions(program.command('diagnose').description('why SSH to each host fails, seen from this machine').argument('[host...]', 'hosts or groups (default: all)'))
    .addHelpText('after', COMMAND_EXAMPLES.diagnose)
    .action(
    async (hosts: string[], opts: CommonOptions) => {
      exitCode = await (await import('./diagnose-command.js')).runDiagnose(hosts, opts);
    },
  );
  withReportOptions(
    withHostOptions(program.command('status').description("what each host holds for fleetfix runs (a safety net armed, a lease) and its nets' log; changes nothing unless told to settle a host"))
      .option('--confirm <host...>', "settle these hosts' safety nets by keeping their changes (needs the host's own SSH login to work)")
      .option('--rollback <host...>', "settle these hosts' safety nets by undoing their changes now"),
  )
    .addHelpText('after', COMMAND_EXAMPLES.status)
    .action(async (opts: StatusOptions) => {
      exitCode = await (await import('./status-command.js')).runStatus(opts);
    });
  program
    .command('schema')
    .description('print the JSON Schema (draft-07) for editors')
    .argument('[kind]', 'playbook or inventory', 'playbook')
    .addHelpText('after', COMMAND_EXAMPLES.schema)
    .action(async (kind: string) => {
      if (kind !== 'playbook' && kind !== 'inventory') throw new ConfigError(`schema: expected "playbook" or "inventory", got "${kind}"`);
      const { inventoryJsonSchema, playbookJsonSchema } = await import('../config/json-schema.js');
      const schema = kind === 'playbook' ? playbookJsonSchema(modules) : inventoryJsonSchema();
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });

  const report = program.command('report').description('work with saved reports').addHelpText('after', COMMAND_EXAMPLES.report);
  withReportOptions(report.command('merge').description('merge the JSON reports of shards into one; summary and exit code recomputed').argument('<report...>', 'JSON reports (--output json or --report FILE.json)'))
    .addHelpText('after', COMMAND_EXAMPLES.merge)
    .action(async (files: string[], opts: CommonOptions) => {
      exitCode = await (await import('./merge-command.js')).runMerge(files, opts);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    if (err instanceof ConfigError || err instanceof ConfigErrors) {
      process.stderr.write(`fleetfix: ${err.message.split('\n').map(escapeControls).join('\nfleetfix: ')}\n`);
      return EXIT.badInput;
    }
    process.stderr.write(`fleetfix: internal error: ${escapeLines((err as Error).stack ?? String(err))}\n`);
    return EXIT.badInput;
  }
}
