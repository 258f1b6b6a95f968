// Host text never reaches a terminal raw: every control character a host (or an input) could put in any field of the
// report comes out as a visible escape in text, progress and error output, and as \uXXXX in JSON that parses back.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { PlainProgress, ProgressState } from '../../src/cli/progress.js';
import { unifiedDiff } from '../../src/report/diff.js';
import { escapeControls } from '../../src/report/escape.js';
import { renderJson } from '../../src/report/json.js';
import type { RunResult } from '../../src/report/model.js';
import { makeStyle } from '../../src/report/style.js';
import { renderDiagnosis, renderText } from '../../src/report/text.js';
import { rawControlBytes } from '../control-bytes.js';

/** Every C0 control, DEL, every C1 control (U+009B among them) and U+2028/2029, each followed by a letter. */
const CONTROLS = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i), 0x2028, 0x2029]
  .map((code) => `${String.fromCharCode(code)}a`)
  .join('');
/** A newline in a value must not start a line of its own that looks like the report's. */
const FORGED = '\ndb9  198.18.9.9  compliant  ssh  9/9 ok  0';
const HOSTILE = `x${CONTROLS}${FORGED}`;
/** What one line of a host's file can hold: everything but the newline that ends it. */
const IN_A_LINE = `x${CONTROLS.replace('\na', '')}`;

const fixture = JSON.parse(readFileSync(new URL('../fixtures/report/run.json', import.meta.url), 'utf8')) as RunResult;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOKdK2u8KUa7vQ1hT9GM0GJ6F5RMBeBwqZ2mJY0yXkUf';
const keyDiff = (path: string, comment: string) => unifiedDiff(path, `${KEY} ${comment}\n`, `${KEY} ${comment}\n${KEY} operator@lab\n`);

/** Where host text lands in the model, the text put there, and how. A key comment is both a change summary and a diff line. */
const FIELDS: [string, string, (run: RunResult, value: string) => void][] = [
  ['host name', HOSTILE, (r, v) => (r.hosts[0]!.name = v)],
  ['address', HOSTILE, (r, v) => (r.hosts[0]!.address = v)],
  ['access', HOSTILE, (r, v) => (r.hosts[0]!.access = v)],
  ['host error', HOSTILE, (r, v) => (r.hosts[1]!.error = v)],
  ['failed attempt', HOSTILE, (r, v) => (r.hosts[0]!.attempts![0]!.error = v)],
  ['diagnosis detail (a banner)', HOSTILE, (r, v) => (r.hosts[0]!.diagnosis!.detail = v)],
  ['check title', HOSTILE, (r, v) => (r.hosts[0]!.checks[0]!.title = v)],
  ['message (a file name)', HOSTILE, (r, v) => (r.hosts[0]!.checks[2]!.message = `${v} is not a directory`)],
  ['finding (a log line)', HOSTILE, (r, v) => (r.hosts[0]!.checks[1]!.findings = [`sshd[42]: ${v}`])],
  ['change summary (a key comment)', HOSTILE, (r, v) => (r.hosts[0]!.checks[0]!.changes[0]!.summary = `add key ssh-ed25519 ${v}`)],
  ['diff line (a key comment)', IN_A_LINE, (r, v) => (r.hosts[0]!.checks[0]!.changes[0]!.diff = keyDiff('/home/deploy/.ssh/authorized_keys', v))],
  ['diff header (a file name)', HOSTILE, (r, v) => (r.hosts[0]!.checks[0]!.changes[0]!.diff = keyDiff(`/home/${v}/authorized_keys`, 'alice'))],
];

function model(poison: (run: RunResult, value: string) => void, value: string): RunResult {
  const run = structuredClone(fixture);
  run.hosts[0]!.checks[0]!.changes[0]!.diff = keyDiff('/home/deploy/.ssh/authorized_keys', 'alice');
  poison(run, value);
  return run;
}

const forgedLine = (text: string) => text.split('\n').some((line) => line.startsWith('db9 '));
/** What the renderers' own colours write; a host's ESC is always followed by a letter here, so this never hides one. */
const SGR = /\x1b\[\d+m/g;

describe('text and JSON output of a report holding control characters', () => {
  for (const [field, value, poison] of FIELDS) {
    it(field, () => {
      const run = model(poison, value);
      const texts = [
        renderText(run, { style: makeStyle(false), diffs: true, verbose: true }),
        renderText({ ...run, command: 'audit' }, { style: makeStyle(false), diffs: false, verbose: true }),
        renderDiagnosis({ ...run, command: 'diagnose' }, makeStyle(false)),
      ];
      for (const text of texts) {
        assert.equal(rawControlBytes(text), 0, text);
        assert.ok(!forgedLine(text), text);
      }
      // The value is shown (escaped), so the counts above are about text that was really written.
      assert.ok(texts.join('').includes(escapeControls(value)), `${field} is not in the output`);

      const coloured = renderText(run, { style: makeStyle(true), diffs: true, verbose: true });
      assert.ok((coloured.match(SGR) ?? []).length > 0, 'the renderer keeps its colours');
      assert.equal(rawControlBytes(coloured.replace(SGR, '')), 0);

      const json = renderJson(run);
      assert.equal(rawControlBytes(json), 0);
      assert.deepEqual(JSON.parse(json), run);
    });
  }
});

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { text: () => chunks.join(''), stream };
}

describe('progress lines and listr2 titles', () => {
  const cases: [string, (progress: PlainProgress) => void][] = [
    ['a host in flight', (p) => p.phase(HOSTILE, 'connecting')],
    ['a failed host and its error', (p) => p.done({ ...fixture.hosts[1]!, name: HOSTILE, error: HOSTILE })],
  ];
  for (const [what, event] of cases) {
    it(what, () => {
      const { text, stream } = capture();
      const progress = new PlainProgress(stream, 0);
      progress.start(2, 'audit');
      event(progress);
      progress.end();
      assert.equal(rawControlBytes(text()), 0, text());
      assert.ok(!forgedLine(text()), text());
      assert.ok(text().includes(escapeControls(HOSTILE)), text());
    });
  }
  it('the listr2 title', () => {
    const state = new ProgressState();
    state.reset(1, 'plan');
    state.running.set(HOSTILE, 'checking');
    assert.equal(rawControlBytes(state.line()), 0);
    assert.ok(!state.line().includes('\n'));
  });
});

describe('error messages printed by the CLI', () => {
  const cases: [string, string[]][] = [
    ['--limit', ['validate', '--limit', HOSTILE]],
    ['--var', ['validate', '--var', `${HOSTILE}=1`]],
    ['schema kind', ['schema', HOSTILE]],
    ['an unknown option (commander)', ['audit', `--${HOSTILE}`]],
  ];
  for (const [what, args] of cases) {
    it(what, async () => {
      const written: string[] = [];
      const write = process.stderr.write;
      process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
      try {
        assert.equal(await main(['node', 'fleetfix', ...args]), 1);
      } finally {
        process.stderr.write = write;
      }
      const text = written.join('');
      assert.ok(text.includes('\\u009b'), `the value is not in the message: ${text}`);
      assert.equal(rawControlBytes(text), 0, text);
      assert.ok(!forgedLine(text), text);
    });
  }
});
