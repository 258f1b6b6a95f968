// Examples shown after `fleetfix --help` and each command's help.

const block = (title: string, lines: [string, string][]) => {
  const width = Math.max(...lines.map(([cmd]) => cmd.length));
  return `\n${title}:\n${lines.map(([cmd, what]) => `  ${cmd.padEnd(width)}  # ${what}`).join('\n')}\n`;
};

export const PROGRAM_EXAMPLES = `${block('Examples', [
  ['fleetfix audit', 'check this machine, changing nothing'],
  ['fleetfix plan -i inventory.yml --var ssh_user=deploy', 'what the fixes would change, as diffs'],
  ['fleetfix apply -i inventory.yml --limit web --yes', 'fix the web group without asking'],
  ['fleetfix diagnose -i inventory.yml db1', 'why SSH to db1 fails'],
  ['fleetfix audit -i inventory.yml --report fleet.html', 'text on the terminal, an HTML page to share'],
  ['fleetfix audit -i inventory.yml --shard 1/4 --output json', 'one controller of four'],
  ['fleetfix status -i inventory.yml', 'safety nets armed and leases held, fleet-wide'],
])}
Exit codes: 0 compliant or all fixed, 1 bad input (nothing touched), 2 drift found, 3 a host unreachable or failed, 130 interrupted.
Each command has its own help: fleetfix help COMMAND. The contract: docs/contract.md.
`;

export const COMMAND_EXAMPLES: Record<'audit' | 'plan' | 'apply' | 'validate' | 'diagnose' | 'status' | 'schema' | 'report' | 'merge', string> = {
  audit: block('Examples', [
    ['fleetfix audit -i inventory.yml', 'every host, the bundled ssh-access playbook'],
    ['fleetfix audit -i inventory.yml --limit "web*,!web3"', 'hosts matching web*, except web3'],
    ['fleetfix audit -i inventory.yml --output junit > audit.xml', 'a testsuite per host for CI'],
    ['fleetfix audit -i inventory.yml --shard 2/4 --report shard-2.json', 'the second of four shards'],
  ]),
  plan: block('Examples', [
    ['fleetfix plan -i inventory.yml --var ssh_user=deploy', 'diffs of every fix for user deploy'],
    ['fleetfix plan -i inventory.yml --var authorized_key=@~/.ssh/id_ed25519.pub', 'a variable read from a file'],
    ['fleetfix plan -i inventory.yml my-checks.yml --report plan.html', 'your own playbook; an HTML report too'],
  ]),
  apply: block('Examples', [
    ['fleetfix apply -i inventory.yml', 'show the plan, ask, then fix and verify'],
    ['fleetfix apply -i inventory.yml --limit db1 --yes', 'one host, without asking'],
    ['fleetfix apply -i inventory.yml --yes --confirm-timeout 300', 'the on-host safety net waits 5 minutes'],
  ]),
  validate: block('Examples', [
    ['fleetfix validate -i inventory.yml', 'the inventory and the bundled playbook'],
    ['fleetfix validate -i inventory.yml my-checks.yml --var ssh_user=deploy', 'your playbook, its variables resolved'],
  ]),
  diagnose: block('Examples', [
    ['fleetfix diagnose -i inventory.yml', 'every host'],
    ['fleetfix diagnose -i inventory.yml web1 db1', 'two hosts'],
    ['fleetfix diagnose -i inventory.yml --output json', 'causes as JSON'],
  ]),
  status: block('Examples', [
    ['fleetfix status -i inventory.yml', 'every host: its safety net, its lease, the last lines of its nets\' log'],
    ['fleetfix status -i inventory.yml --limit web --output json', 'the web group, as JSON'],
    ['fleetfix status -i inventory.yml --rollback db1', 'undo now what the net on db1 guards, rather than when it fires'],
    ['fleetfix status -i inventory.yml --confirm web1 web2', 'keep the changes on web1 and web2 (SSH to them works)'],
  ]),
  schema: block('Examples', [
    ['fleetfix schema playbook > playbook.schema.json', 'for an editor\'s YAML support'],
    ['fleetfix schema inventory', 'the inventory\'s schema'],
  ]),
  report: block('Examples', [['fleetfix report merge shard-*.json --report fleet.html', 'the shards as one report']]),
  merge: block('Examples', [
    ['fleetfix report merge shard-1.json shard-2.json', 'one text report; exit code as for one run'],
    ['fleetfix report merge shard-*.json --output json > fleet.json', 'one JSON report'],
    ['fleetfix report merge shard-*.json --output junit > fleet.xml', 'JUnit for CI'],
    ['fleetfix report merge shard-*.json --report fleet.html', 'text here, an HTML page there'],
  ]),
};
