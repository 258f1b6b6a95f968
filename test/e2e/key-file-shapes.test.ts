// authorized_keys files that look right and are not, against a real sshd: every line shape of the unit tables is
// replayed to prove what sshd does with it, and every file shape is audited and applied on a lab host of its own,
// where deploy is refused before, gets in after, and the file is then byte for byte what the table says.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { shq } from '../../src/util/shell.js';
import { fill, fixture, type EditRow, type Keys, type LineRow } from '../key-lines.js';
import { fleetfix, hostResult } from './helpers.js';

const FILE = '/home/deploy/.ssh/authorized_keys';
const lines = fixture<LineRow>('authorized-key-lines');
const edits = fixture<EditRow>('authorized-key-edits');
/** The file shapes a real sshd can tell apart (those that name the operator's key), one lab host each. */
const shapes = edits.rows.filter((row) => row.sshd).map((row, i) => ({ host: `s${i + 1}`, row }));

let fleet: Fleet;
let work: string;
let keys: Keys;
const host = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const deployLogin = async (h: LabHost) => (await fleet.sshLogin(h, 'true', { user: 'deploy' })).code === 0 ? 'accepts' : 'refuses';

/** deploy's authorized_keys made `content` (written by root, then deploy's, mode 0600). */
const writeKeys = (content: string) => `printf '%s' ${shq(content)} > ${FILE} && chown deploy:deploy ${FILE} && chmod 0600 ${FILE}`;

function playbook(name: string, options?: string): string {
  const path = join(work, `${name}.yml`);
  writeFileSync(path, `name: ${name}\nchecks:\n  - id: deploy-key\n    title: the operator's key lets deploy in\n    authorized_key: { user: deploy, key: ${JSON.stringify(fleet.operatorPublicKey.trim())}${options ? `, options: ${JSON.stringify(options)}` : ''} }\n`);
  return path;
}

describe('authorized_keys shapes, as a real sshd reads them', { timeout: 600_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetfix-key-shapes-'));
    fleet = await createFleet({ hosts: ['lines', ...shapes.map((s) => s.host)] });
    keys = { ...lines.keys, KEY: fleet.operatorPublicKey.trim() };
    await fleet.setUp(Object.fromEntries(shapes.map(({ host: name, row }) => [name, writeKeys(fill(row.content, keys))])));
  });
  after(async () => {
    await fleet?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('each line shape: sshd lets deploy in exactly where the table says', async () => {
    const h = host('lines');
    for (const row of lines.rows.filter((r) => r.sshd)) {
      const set = await h.sh(writeKeys(`${fill(row.line, keys)}\n`));
      assert.equal(set.code, 0, set.stderr);
      assert.equal(await deployLogin(h), row.sshd, row.name);
    }
  });

  it('before: deploy is kept out where the table says, and audit names why', async () => {
    for (const { host: name, row } of shapes) assert.equal(await deployLogin(host(name)), row.sshd!.before, row.name);
    const audit = await fleetfix(['audit', '-i', fleet.inventoryPath, '--limit', shapes.filter((s) => !s.row.options).map((s) => s.host).join(','), playbook('plain'), '--output', 'json']);
    for (const { host: name, row } of shapes.filter((s) => !s.row.options)) {
      const check = hostResult(audit, name).checks[0]!;
      const problems = [...(row.expect.repaired ? [row.expect.repaired.problem] : []), ...row.expect.broken.map((b) => b.problem)];
      for (const problem of problems) assert.ok(`${check.message}\n${(check.findings ?? []).join('\n')}\n${check.changes.map((c) => c.summary).join('\n')}`.includes(problem), `${row.name}: ${problem} in ${JSON.stringify(check)}`);
      assert.equal(check.status, row.expect.action === 'none' ? (row.expect.broken.length ? 'finding' : 'pass') : 'fail', row.name);
    }
  });

  it('after apply: deploy gets in, and the file is byte for byte what the table says', async () => {
    const groups = [{ book: playbook('plain'), rows: shapes.filter((s) => !s.row.options) }, ...[...new Set(shapes.flatMap((s) => s.row.options ?? []))].map((o) => ({ book: playbook(`options-${o}`, o), rows: shapes.filter((s) => s.row.options === o) }))];
    for (const { book, rows } of groups) {
      const apply = await fleetfix(['apply', '--yes', '-i', fleet.inventoryPath, '--limit', rows.map((s) => s.host).join(','), book, '--output', 'json']);
      assert.equal(apply.code, 0, `${apply.stderr}\n${apply.stdout}`);
    }
    for (const { host: name, row } of shapes) {
      assert.equal(await deployLogin(host(name)), row.sshd!.after, row.name);
      const held = await host(name).sh(`base64 -w0 ${FILE}; echo; stat -c '%U %a' ${FILE}`);
      const [content, owner] = held.stdout.split('\n');
      assert.equal(Buffer.from(content!, 'base64').toString('utf8'), fill(row.expect.after, keys), row.name);
      assert.equal(owner, 'deploy 600', row.name);
    }
  });
});
