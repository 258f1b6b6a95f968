// --shard's partition and report merge: a stable split by host name, and shard reports joined back into one run.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inShard, parseShard, shardOf } from '../../src/cli/shard.js';
import { mergeReports, readReport } from '../../src/report/merge.js';
import { exitCodeFor, type RunSummary } from '../../src/report/model.js';

describe('--shard I/N', () => {
  const parsed: [string, { index: number; count: number } | RegExp][] = [
    ['1/1', { index: 1, count: 1 }],
    ['2/4', { index: 2, count: 4 }],
    ['10/10', { index: 10, count: 10 }],
    ['0/4', /^ConfigError: --shard: expected I\/N with 1 <= I <= N \(such as 2\/4\), got "0\/4"$/],
    ['5/4', /got "5\/4"/],
    ['1/0', /got "1\/0"/],
    ['2', /got "2"/],
    ['-1/4', /got "-1\/4"/],
    ['1/4x', /got "1\/4x"/],
  ];
  for (const [value, want] of parsed) {
    it(`"${value}"`, () => (want instanceof RegExp ? assert.throws(() => parseShard(value), want) : assert.deepEqual(parseShard(value), want)));
  }

  // The first 32 bits of SHA-256, modulo N, plus one, as `printf %s NAME | sha256sum` gives them: pinned, so a change of
  // the function shows here (every controller of a split fleet must run the same one).
  const pinned: [string, number, number][] = [
    ['h1', 4, 2],
    ['h2', 4, 3],
    ['web01', 3, 1],
    ['db.example.com', 7, 3],
  ];
  for (const [name, count, want] of pinned) it(`${name} is in shard ${want} of ${count}`, () => assert.equal(shardOf(name, count), want));

  it('the shards of a fleet cover each host exactly once, whatever the order of the hosts', () => {
    const hosts = Array.from({ length: 200 }, (_, i) => ({ name: `host${i}` }));
    for (const count of [1, 2, 3, 7]) {
      const shards = Array.from({ length: count }, (_, i) => inShard(hosts, { index: i + 1, count }).map((h) => h.name));
      assert.deepEqual(shards.flat().sort(), hosts.map((h) => h.name).sort(), `${count} shards`);
      assert.deepEqual(inShard([...hosts].reverse(), { index: 1, count }).map((h) => h.name).reverse(), shards[0]);
      if (count > 1) for (const s of shards) assert.ok(s.length > 0 && s.length < hosts.length, `${count} shards: a shard of ${s.length}`);
    }
  });
});

interface MergeCase {
  name: string;
  files: string[];
  hosts?: string[];
  summary?: RunSummary;
  exit?: number;
  error?: string;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/report/merge.json', import.meta.url), 'utf8')) as { reports: Record<string, unknown>; cases: MergeCase[] };

describe('report merge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetfix-merge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, report] of Object.entries(fixture.reports)) writeFileSync(join(dir, name), typeof report === 'string' ? report : JSON.stringify(report));

  for (const c of fixture.cases) {
    it(c.name, () => {
      const merge = () => mergeReports(c.files.map((f) => readReport(join(dir, f))));
      if (c.error !== undefined) {
        assert.throws(merge, (err: Error) => {
          assert.ok(err.message.replaceAll(`${dir}/`, '').startsWith(c.error!), err.message);
          return true;
        });
        return;
      }
      const run = merge();
      assert.deepEqual(run.hosts.map((h) => h.name), c.hosts);
      // The counts the fixture names (a newer model may count more).
      assert.deepEqual(Object.fromEntries(Object.keys(c.summary!).map((k) => [k, run.summary[k as keyof RunSummary]])), c.summary);
      assert.equal(exitCodeFor(run.summary), c.exit);
    });
  }
});
