// The package as users get it: `npm pack`, installed into a clean prefix with no network, runs from any directory
// with its bundled playbook and its documentation (the bundle carries its dependencies: the package has none).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { run } from '../lab/fleet.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

let work: string;
let installed: string;
/** Run the installed `fleetfix` from the work directory, outside the repository. */
const fleetfix = (...args: string[]) => run('sh', ['-c', 'cd "$1" && shift && exec "$@"', 'sh', work, join(work, 'prefix/node_modules/.bin/fleetfix'), ...args]);

describe('the packed package, installed into a clean prefix', { timeout: 300_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-pack-'));
    const pack = await run('sh', ['-c', 'cd "$1" && npm pack --silent --pack-destination "$2"', 'sh', REPO, work]);
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = join(work, pack.stdout.trim().split('\n').at(-1)!);
    const install = await run('npm', ['install', '--prefix', join(work, 'prefix'), '--offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball]);
    assert.equal(install.code, 0, install.stderr);
    installed = join(work, 'prefix/node_modules/fleetfix');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('holds the CLI, its bundle, the playbook and the contract, and needs no other package', () => {
    for (const file of ['bin/fleetfix.js', 'dist/bundle/main.js', 'playbooks/ssh-access.yml', 'docs/contract.md', 'README.md']) assert.ok(existsSync(join(installed, file)), file);
    assert.deepEqual(readdirSync(join(work, 'prefix/node_modules')).filter((n) => !n.startsWith('.')), ['fleetfix']);
  });

  it('runs from any directory: --version, validate and audit with the bundled playbook', async () => {
    const version = await fleetfix('--version');
    assert.equal(version.stdout.trim(), VERSION, version.stderr);
    const validate = await fleetfix('validate');
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /^ok: 1 host, 1 playbook, \d+ steps$/m);
    const audit = await fleetfix('audit', '--output', 'json');
    const report = JSON.parse(audit.stdout) as { command: string; hosts: { name: string; checks: { id: string }[] }[] };
    assert.equal(report.command, 'audit');
    assert.equal(report.hosts[0]!.name, 'localhost');
    assert.ok(report.hosts[0]!.checks.some((c) => c.id === 'authorized-keys-file'), 'the bundled playbook ran');
  });
});
