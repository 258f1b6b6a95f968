// Each command's progress and summary speak that command's terms: diagnose counts "ok" and named causes, never
// audit's compliant and unreachable; audit, plan and apply count host statuses.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { byCause, byStatus, PlainProgress, type OutcomeOf } from '../../src/cli/progress.js';
import { runResult, type Command, type HostResult, type HostStatus } from '../../src/report/model.js';
import { makeStyle } from '../../src/report/style.js';
import { renderDiagnosis, renderText } from '../../src/report/text.js';

/** name, status, diagnosis cause (diagnose only). */
type Host = [string, HostStatus, string?];
const host = ([name, status, cause]: Host): HostResult => ({ name, address: name, status, durationMs: 1, checks: [], diagnosis: cause ? { cause, detail: `${cause} detail` } : undefined });

const cases: { command: Command; outcomeOf: OutcomeOf; hosts: Host[]; progress: RegExp; failures: string[]; summary: RegExp; foreign: RegExp }[] = [
  {
    command: 'diagnose',
    outcomeOf: byCause,
    hosts: [['h1', 'compliant', 'ok'], ['h2', 'unreachable', 'port-refused'], ['h3', 'unreachable', 'port-refused'], ['h4', 'unreachable', 'key-not-accepted'], ['h5', 'compliant', 'ok']],
    progress: /^diagnose \[\d+s\] 5\/5 done \(ok 2, port-refused 2, key-not-accepted 1\)$/,
    failures: ['  h2: port-refused', '  h3: port-refused', '  h4: key-not-accepted'],
    summary: /^5 hosts: 2 ok, 2 port-refused, 1 key-not-accepted$/m,
    foreign: /compliant|unreachable|drift|trouble/,
  },
  {
    command: 'diagnose',
    outcomeOf: byCause,
    hosts: [['h1', 'unreachable', 'firewall-drop-or-host-down']],
    progress: /^diagnose \[\d+s\] 1\/1 done \(firewall-drop-or-host-down 1\)$/,
    failures: ['  h1: firewall-drop-or-host-down'],
    summary: /^1 host: 0 ok, 1 firewall-drop-or-host-down$/m,
    foreign: /compliant|unreachable|drift|trouble/,
  },
  {
    command: 'audit',
    outcomeOf: byStatus,
    hosts: [['h1', 'compliant'], ['h2', 'drift'], ['h3', 'unreachable']],
    progress: /^audit \[\d+s\] 3\/3 done \(compliant 1, drift 1, unreachable 1\)$/,
    failures: ['  h3: unreachable'],
    summary: /^3 hosts: 1 compliant, 1 drift, 1 unreachable; 0 changes pending$/m,
    foreign: /\bok\b|cause/,
  },
];

function render(command: Command, hosts: HostResult[]): string {
  const run = runResult(command, hosts);
  return command === 'diagnose' ? renderDiagnosis(run, makeStyle(false)) : renderText(run, { style: makeStyle(false), diffs: false, verbose: false });
}

describe("each command's progress and summary in its own terms", () => {
  for (const c of cases) {
    it(`${c.command}: ${c.hosts.map((h) => h[2] ?? h[1]).join(', ')}`, () => {
      const lines: string[] = [];
      const out = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(...chunk.toString().split('\n').filter(Boolean));
          done();
        },
      });
      const progress = new PlainProgress(out, 60_000, c.outcomeOf);
      progress.start(c.hosts.length, c.command);
      for (const h of c.hosts) progress.done(host(h));
      progress.end();
      assert.match(lines.at(-1)!, c.progress);
      assert.deepEqual(lines.filter((l) => l.startsWith('  ')), c.failures);
      assert.doesNotMatch(lines.join('\n'), c.foreign);
      const summary = render(c.command, c.hosts.map(host)).trimEnd().split('\n').at(-1)!;
      assert.match(summary, c.summary);
      assert.doesNotMatch(summary, c.foreign);
    });
  }
});
