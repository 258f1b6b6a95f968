// The bound on what one script may send back: the collector, the console's buffer on a fake stream, a local command
// that never stops printing, and how the engine reports a host past the bound while the others finish.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PlainProgress } from '../../src/cli/progress.js';
import type { HostSpec } from '../../src/config/inventory.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import type { ConnectFn } from '../../src/engine/connect.js';
import { prepareJobs } from '../../src/engine/prepare.js';
import { FleetRun } from '../../src/engine/run.js';
import { modules } from '../../src/modules/registry.js';
import { CommandTransport } from '../../src/transport/command.js';
import { ConsoleBuffer, ConsoleOverflow } from '../../src/transport/console-stream.js';
import { CappedOutput, formatBytes } from '../../src/transport/output-cap.js';
import { TransportError, type Transport } from '../../src/transport/types.js';

type Chunk = ['out' | 'err', number];

const collectorCases: { name: string; limit: number; chunks: Chunk[]; overflowAfter?: number; stdout?: number; stderr?: number }[] = [
  { name: 'under the limit: everything kept', limit: 100, chunks: [['out', 40], ['err', 20], ['out', 40]], stdout: 80, stderr: 20 },
  { name: 'exactly the limit is allowed', limit: 100, chunks: [['out', 100]], stdout: 100, stderr: 0 },
  { name: 'stdout and stderr count together', limit: 100, chunks: [['out', 60], ['err', 41]], overflowAfter: 101 },
  { name: 'one chunk past the limit', limit: 100, chunks: [['out', 10], ['out', 1000]], overflowAfter: 1010 },
  { name: 'nothing counted after the overflow', limit: 10, chunks: [['err', 11], ['out', 5000], ['err', 5000]], overflowAfter: 11 },
];

describe('CappedOutput', () => {
  for (const c of collectorCases) {
    it(c.name, () => {
      const overflows: number[] = [];
      const output = new CappedOutput(c.limit, (received) => overflows.push(received));
      for (const [stream, size] of c.chunks) output[stream === 'out' ? 'stdout' : 'stderr'](Buffer.alloc(size, 'x'));
      const result = output.result(0);
      if (c.overflowAfter === undefined) {
        assert.deepEqual(overflows, []);
        assert.equal(result.stdout.length, c.stdout);
        assert.equal(result.stderr.length, c.stderr);
      } else {
        assert.deepEqual(overflows, [c.overflowAfter], 'called once, with what had arrived');
        assert.ok(output.overflowed);
        assert.deepEqual(result, { code: 0, stdout: '', stderr: '' }, 'nothing of an overflowed answer is kept');
      }
    });
  }
});

/** Each step waits for a pattern while its chunks arrive, in order, on one buffer. */
type BufferStep = { wait: RegExp; chunks: string[]; outcome: 'match' | 'overflow'; before?: string };
const bufferCases: { name: string; limit: number; steps: BufferStep[] }[] = [
  { name: 'a marker within the limit is found', limit: 64, steps: [{ wait: /END\n/, chunks: ['abc\n', 'END\n'], outcome: 'match', before: 'abc\n' }] },
  { name: 'a flood before the marker fails the wait', limit: 64, steps: [{ wait: /END\n/, chunks: ['x'.repeat(40), 'x'.repeat(40), 'END\n'], outcome: 'overflow' }] },
  {
    name: 'the count starts again after a match',
    limit: 64,
    steps: [
      { wait: /A\n/, chunks: [`${'x'.repeat(50)}A\n`], outcome: 'match', before: 'x'.repeat(50) },
      { wait: /END\n/, chunks: [`${'y'.repeat(50)}END\n`], outcome: 'match', before: 'y'.repeat(50) },
    ],
  },
];

describe('ConsoleBuffer on a fake console', () => {
  for (const c of bufferCases) {
    it(c.name, async () => {
      const stream = new PassThrough();
      const buffer = new ConsoleBuffer(stream, false, c.limit);
      for (const step of c.steps) {
        const waited = buffer.waitFor(step.wait, 5000);
        for (const chunk of step.chunks) stream.write(chunk);
        if (step.outcome === 'match') assert.equal((await waited).before, step.before);
        else await assert.rejects(waited, (err) => err instanceof ConsoleOverflow && err.received > c.limit);
      }
      stream.destroy();
    });
  }

  it('after an overflow, waits fail until the buffer is cleared', async () => {
    const stream = new PassThrough();
    const buffer = new ConsoleBuffer(stream, false, 8);
    stream.write('0123456789');
    await new Promise((r) => setImmediate(r));
    await assert.rejects(buffer.waitFor(/x/, 5000), ConsoleOverflow);
    buffer.clear();
    const next = buffer.waitFor(/ok\n/, 5000);
    stream.write('ok\n');
    assert.equal((await next).before, '');
    stream.destroy();
  });
});

describe('a local command past the limit', { timeout: 30_000 }, () => {
  const limit = 64 * 1024;
  const sh = CommandTransport.local(false, 20_000, limit, 'flood');
  const cases: { name: string; script: string; error?: RegExp; stdout?: number }[] = [
    { name: 'endless stdout is stopped and named', script: 'yes', error: /^a script on flood \(local\) sent more than the 64 KiB a script may return \(max_output\): reading stopped after \d+(\.\d)? KiB$/ },
    { name: 'endless stderr is stopped too', script: 'yes >&2', error: /sent more than the 64 KiB/ },
    { name: 'just under the limit is answered whole', script: `head -c ${limit} /dev/zero`, stdout: limit },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const run = sh.exec(c.script);
      if (c.error) await assert.rejects(run, (err) => err instanceof TransportError && err.kind === 'output-limit' && c.error!.test(err.message));
      else assert.equal((await run).stdout.length, c.stdout);
    });
  }
});

describe('the engine reports a host past the limit and finishes the others', () => {
  it('flood fails naming the limit; calm is judged as usual', async () => {
    const playbook = loadPlaybook(fileURLToPath(new URL('../fixtures/playbooks/minimal.yml', import.meta.url)), [...modules.keys()]);
    const spec = (name: string): HostSpec => ({ name, address: name, transport: 'local', groups: [], ssh: { label: 'ssh', port: 22, user: 'root', identities: [] }, fallbacks: [], knownHosts: '/dev/null', hostKeyPolicy: 'strict', connectTimeoutMs: 5000, commandTimeoutMs: 20_000, maxOutputBytes: 64 * 1024, vars: {} });
    // flood answers every script with endless output; calm runs the script with this machine's sh.
    const connect: ConnectFn = async (host) => {
      const sh = CommandTransport.local(false, host.commandTimeoutMs, host.maxOutputBytes, host.name);
      const transport: Transport = host.name === 'flood' ? { access: 'local', capabilities: { mergesStderr: false, primaryLogin: false }, exec: () => sh.exec('yes'), close: async () => {} } : sh;
      return { transport, attempts: [] };
    };
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    const run = new FleetRun({ command: 'audit', forks: 2, hostTimeoutMs: 60_000, progress: new PlainProgress(quiet), connect });
    const [flood, calm] = await run.plan(prepareJobs([spec('flood'), spec('calm')], [playbook], {}));
    await run.close();
    assert.equal(flood!.status, 'failed');
    assert.match(flood!.error!, /^a script on flood \(local\) sent more than the 64 KiB a script may return/);
    assert.notEqual(calm!.status, 'failed', calm!.error);
    assert.equal(calm!.checks.length, 1);
  });
});

describe('formatBytes', () => {
  const cases: [number, string][] = [
    [512, '512 bytes'],
    [64 * 1024, '64 KiB'],
    [8 * 1024 * 1024, '8 MiB'],
    [1.25 * 1024 * 1024 * 1024, '1280 MiB'],
  ];
  for (const [bytes, text] of cases) it(`${bytes} -> ${text}`, () => assert.equal(formatBytes(bytes), text));
});
