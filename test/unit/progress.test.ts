// Progress: plain lines stay readable at 500 hosts (counts and the hosts in flight, not a line per host); listr2 always ends.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { ListrProgress } from '../../src/cli/listr-progress.js';
import { byStatus, PlainProgress } from '../../src/cli/progress.js';
import type { HostResult, HostStatus } from '../../src/report/model.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

const result = (name: string, status: HostStatus): HostResult => ({ name, address: name, status, durationMs: 1, checks: [], error: status === 'failed' ? 'boom' : undefined });

it('500 hosts: a header, throttled status lines, one line per failure, a final count', () => {
  const { lines, stream } = capture();
  const progress = new PlainProgress(stream, 60_000);
  progress.start(500, 'audit');
  for (let i = 0; i < 500; i++) progress.phase(`h${i}`, 'connecting');
  for (let i = 0; i < 500; i++) progress.done(result(`h${i}`, i % 100 === 0 ? 'failed' : 'compliant'));
  progress.end();
  assert.equal(lines[0], 'audit: 500 hosts');
  assert.equal(lines.filter((l) => l.includes(': failed: boom')).length, 5);
  assert.ok(lines.length <= 5 + 3, `${lines.length} lines:\n${lines.join('\n')}`);
  assert.match(lines.at(-1)!, /^audit \[\d+s\] 500\/500 done \(failed 5, compliant 495\)$/);
});

it('the status line names at most five running hosts and counts the rest', () => {
  const { lines, stream } = capture();
  const progress = new PlainProgress(stream, 0);
  progress.start(50, 'plan');
  for (let i = 0; i < 50; i++) progress.phase(`h${i}`, 'checking');
  assert.match(lines.at(-1)!, /running: h0 h1 h2 h3 h4 \(\+45\)$/);
});

it('listr2: a phase whose every host is done before listr2 starts its task still ends', async () => {
  const progress = new ListrProgress(byStatus);
  progress.start(1, 'audit');
  progress.done(result('h1', 'compliant'));
  await progress.end();
});
