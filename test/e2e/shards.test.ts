// More than one controller on a real fleet: N shards, merged, equal one run; their JUnit and HTML reports read as such.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { HostResult, RunResult } from '../../src/report/model.js';
import { createFleet, type Fleet } from '../lab/fleet.js';
import { elements, parseXml } from '../xml.js';
import { launchChromium } from './browser.js';
import { fleetfix, type CliRun } from './helpers.js';

const FAULTS: Record<string, string> = {
  s1: ':',
  s2: 'chmod 0777 /home/deploy/.ssh',
  s3: ':',
  s4: 'rm -rf /home/deploy/.ssh',
  s5: 'chmod 0666 /home/deploy/.ssh/authorized_keys',
  s6: ':',
  s7: ':',
};
const SHARDS = 3;

/**
 * A host's result as two runs can agree on it: all but its duration and what sshd logged. Each run's own logins add
 * to sshd's log (ssh_login as a user the host refuses), so the sshd-log check of a later run sees more than an earlier
 * one, and an audit may or may not see its own login's line, logged while it reads the log.
 */
const comparable = (hosts: HostResult[]) =>
  [...hosts].sort((a, b) => a.name.localeCompare(b.name)).map(({ durationMs: _, checks, ...rest }) => ({ ...rest, checks: checks.filter((c) => c.id !== 'sshd-log') }));
/** A run's summary as two runs can agree on it: all but the count of findings (the log's, as above). */
const comparableSummary = ({ findings: _, ...rest }: RunResult['summary']) => rest;
const report = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as RunResult;

describe('shards: --shard I/N and report merge on a real fleet', { timeout: 600_000 }, () => {
  let fleet: Fleet;
  let inv: string[];
  let dir: string;
  let whole: CliRun;
  const shards: CliRun[] = [];
  const shardFile = (i: number) => join(dir, `shard-${i}.json`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetfix-shards-'));
    fleet = await createFleet({ hosts: Object.keys(FAULTS) });
    inv = ['-i', fleet.inventoryPath, '--var', 'ssh_user=deploy'];
    await fleet.setUp(FAULTS);
    whole = await fleetfix(['audit', ...inv, '--output', 'json']);
    for (let i = 1; i <= SHARDS; i++) shards.push(await fleetfix(['audit', ...inv, '--shard', `${i}/${SHARDS}`, '--output', 'junit', '--report', shardFile(i)]));
  });
  after(async () => {
    await fleet?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one run sees every host, drift on the faulty ones', () => {
    assert.equal(whole.code, 2, whole.stderr);
    assert.deepEqual(whole.json!.hosts.map((h) => `${h.name}=${h.status}`), Object.entries(FAULTS).map(([name, fault]) => `${name}=${fault === ':' ? 'compliant' : 'drift'}`));
  });

  it('each host is in exactly one shard', () => {
    const names = [1, 2, 3].map((i) => report(shardFile(i)).hosts.map((h) => h.name));
    assert.deepEqual(names.flat().sort(), Object.keys(FAULTS).sort());
    assert.ok(names.filter((n) => n.length > 0).length > 1, `the hosts fall in more than one shard: ${JSON.stringify(names)}`);
  });

  it('the shards merged equal the one run: every host result but durations, the summary, the exit code', async () => {
    const merged = await fleetfix(['report', 'merge', ...[1, 2, 3].map(shardFile), '--output', 'json']);
    assert.equal(merged.code, whole.code, merged.stderr);
    assert.deepEqual(comparableSummary(merged.json!.summary), comparableSummary(whole.json!.summary));
    assert.deepEqual(comparable(merged.json!.hosts), comparable(whole.json!.hosts));
    assert.equal(merged.json!.command, 'audit');
  });

  it("a shard's JUnit on stdout: a testsuite per host of the shard, a testcase per check, failures where the checks fail", () => {
    for (const [i, run] of shards.entries()) {
      const json = report(shardFile(i + 1));
      const root = parseXml(run.stdout);
      const suites = elements(root, 'testsuite');
      assert.deepEqual(suites.map((s) => s.attributes.name), json.hosts.map((h) => h.name), `shard ${i + 1}`);
      for (const [j, s] of suites.entries()) {
        const host = json.hosts[j]!;
        assert.deepEqual(elements(s, 'testcase').map((t) => t.attributes.name), host.checks.map((c) => (c.kind === 'handler' ? `handler ${c.id}` : c.id)));
        assert.deepEqual(elements(s, 'failure').length, host.checks.filter((c) => c.status === 'fail').length);
        assert.equal(Number(s.attributes.failures), host.checks.filter((c) => c.status === 'fail').length);
      }
      assert.equal(run.code, json.hosts.some((h) => h.status === 'drift') ? 2 : 0, `shard ${i + 1}: ${run.stderr}`);
    }
    const failures = shards.flatMap((r) => elements(parseXml(r.stdout), 'testsuite')).filter((s) => Number(s.attributes.failures) > 0).map((s) => s.attributes.name);
    assert.deepEqual(failures.sort(), ['s2', 's4', 's5']);
  });

  it('the merged HTML report, in headless Chromium, has a row per host', async () => {
    const html = join(dir, 'fleet.html');
    const merged = await fleetfix(['report', 'merge', ...[1, 2, 3].map(shardFile), '--report', html]);
    assert.equal(merged.code, 2, merged.stderr);
    assert.match(merged.stdout, /^7 hosts: 4 compliant, 3 drift; \d+ changes pending\b/m);
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(pathToFileURL(html).href);
      assert.deepEqual((await page.locator('tr.row th.name').allInnerTexts()).sort(), Object.keys(FAULTS));
      assert.deepEqual((await page.locator('tbody.host.s-drift th.name').allInnerTexts()).sort(), ['s2', 's4', 's5']);
    } finally {
      await browser?.close();
    }
  });

  it('merge refuses overlapping reports and reports of different commands, exit 1', async () => {
    const wholeFile = join(dir, 'whole.json');
    const planFile = join(dir, 'plan.json');
    writeFileSync(wholeFile, whole.stdout);
    writeFileSync(planFile, JSON.stringify({ ...whole.json!, command: 'plan', hosts: [] }));
    const overlap = await fleetfix(['report', 'merge', wholeFile, ...[1, 2, 3].map(shardFile)]);
    assert.equal(overlap.code, 1);
    assert.match(overlap.stderr, /^fleetfix: report merge: host "s\d" is in both .*whole\.json and .*shard-\d\.json; merged reports must cover disjoint hosts/m);
    const mixed = await fleetfix(['report', 'merge', shardFile(1), planFile]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /^fleetfix: report merge: .*shard-1\.json is a report of "audit" but .*plan\.json is of "plan"; merge reports of one command$/m);
  });
});
