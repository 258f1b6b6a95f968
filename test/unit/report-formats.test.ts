// JUnit and HTML reports from result fixtures: structure, counts, and host text escaped so it stays text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatForPath, render } from '../../src/report/formats.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import type { RunResult } from '../../src/report/model.js';
import { elements, parseXml } from '../xml.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/report/${name}`, import.meta.url), 'utf8')) as RunResult;

/** Per fixture, per host: the suite's counts and each testcase as name=outcome (pass, failure, error, skipped). */
const junitCases: { fixture: string; totals: Record<string, string>; suites: Record<string, { counts: string; cases: string[] }> }[] = [
  {
    fixture: 'run.json',
    totals: { name: 'fleetfix plan', tests: '4', failures: '2', errors: '2', skipped: '0' },
    suites: {
      web1: { counts: '3/2/1/0', cases: ['authorized-key=failure', 'sshd-log=failure', 'home-dir=error'] },
      db1: { counts: '1/0/1/0', cases: ['access=error'] },
    },
  },
  {
    fixture: 'hostile.json',
    totals: { name: 'fleetfix apply', tests: '7', failures: '1', errors: '2', skipped: '1' },
    suites: {
      "web<script>document.title='pwned'</script>": { counts: '4/0/0/1', cases: ['authorized-key=pass', 'ssh-dir=pass', 'sshd-port=skipped', 'handler restart-sshd=pass'] },
      db1: { counts: '1/0/1/0', cases: ['access=error'] },
      app1: { counts: '2/1/1/0', cases: ['ssh-dir=error', 'sshd-log=failure'] },
    },
  },
];

const outcome = (testcase: ReturnType<typeof parseXml>) => testcase.children.find((c) => ['failure', 'error', 'skipped'].includes(c.name))?.name ?? 'pass';

describe('JUnit report', () => {
  for (const c of junitCases) {
    it(`${c.fixture}: a testsuite per host, a testcase per check, parsed by a strict XML 1.0 parser`, () => {
      const root = parseXml(renderJunit(fixture(c.fixture)));
      assert.equal(root.name, 'testsuites');
      for (const [k, v] of Object.entries(c.totals)) assert.equal(root.attributes[k], v, k);
      const suites = elements(root, 'testsuite');
      assert.deepEqual(suites.map((s) => s.attributes.name), Object.keys(c.suites));
      for (const s of suites) {
        const want = c.suites[s.attributes.name!]!;
        assert.equal(['tests', 'failures', 'errors', 'skipped'].map((k) => s.attributes[k]).join('/'), want.counts, s.attributes.name);
        assert.deepEqual(elements(s, 'testcase').map((t) => `${t.attributes.name}=${outcome(t)}`), want.cases);
      }
    });
  }

  it('carries the message, the diff and the diagnosis; control and XML-forbidden characters become visible escapes', () => {
    const root = parseXml(renderJunit(fixture('hostile.json')));
    const out = elements(root, 'testcase').find((t) => t.attributes.name === 'authorized-key')!.children.find((c) => c.name === 'system-out')!.text;
    assert.ok(out.startsWith('fixed: added the key &nbsp; &amp; &#0;\nadd key ssh-ed25519 op@lab'), out);
    assert.ok(out.includes("+++ /home/deploy/.ssh/authorized_keys\n@@ -1,1 +1,2 @@\n ssh-rsa AAAAB3Nza evil<script>document.title='pwned'</script>\\x1b[2J]]>&amp;\\x00\\x0b\\ud800\\uffff\\u009b\n+ssh-ed25519"), out);
    const access = elements(root, 'testcase').find((t) => t.attributes.classname === 'db1')!.children[0]!;
    assert.equal(access.attributes.message, 'no way in: ssh, console');
    assert.equal(access.text, 'ssh: connect ECONNREFUSED 198.18.1.14:22\nconsole: login prompt never came\ndiagnosis: port-refused: banner "<img src=x onerror=alert(1)>" \\x1b]0;title\\x07');
    const error = elements(root, 'error').find((e) => e.attributes.message?.startsWith('/home/deploy'))!;
    assert.equal(error.attributes.message, '/home/deploy/.ssh is a link to \\x00/etc');
  });
});

const TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1', 'p', 'span', 'nav', 'input', 'label', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'details', 'summary', 'ul', 'li', 'b', 'code', 'div', 'pre']);

describe('HTML report', () => {
  const html = renderHtml(fixture('hostile.json'));
  const cases: [string, (page: string) => boolean][] = [
    ['is one page of known tags, none that runs or fetches (a CSP allows neither)', (p) => [...p.matchAll(/<\/?([a-zA-Z0-9]+)/g)].every((m) => TAGS.has(m[1]!.toLowerCase())) && !/@import|url\(/.test(p) && p.includes(`content="default-src 'none'; style-src 'unsafe-inline'"`)],
    ['shows a host name holding <script> as text', (p) => p.includes('web&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;')],
    ['escapes a banner meant to run', (p) => p.includes('banner &quot;&lt;img src=x onerror=alert(1)&gt;&quot; \\x1b]0;title\\x07') && !p.includes('<img')],
    ['keeps no raw control character', (p) => !/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(p)],
    ['colours each diff line by its kind', (p) => p.includes('<span class="add">+ssh-ed25519 AAAAC3Nz op@lab</span>') && p.includes('<span class="hunk">@@ -1,1 +1,2 @@</span>')],
    ['has a row per host and a cell per check column (4 checks among the hosts)', (p) => (p.match(/<tr class="row">/g) ?? []).length === 3 && (p.match(/<td class="cell /g) ?? []).length === 3 * 4],
    ['folds the details of each host that has any', (p) => (p.match(/<details>/g) ?? []).length === 3],
    ['says on the folded line what the checks came to, and the diagnosis', (p) => p.includes('<summary>app1: 1 error, 1 fail</summary>') && p.includes('<summary>db1: diagnosis: port-refused</summary>')],
    ['shows lone surrogates and U+FFFF as escapes, not as U+FFFD', (p) => p.includes('\\x0b\\ud800\\uffff\\u009b') && !/[\ud800-\udfff\uffff]/.test(p)],
  ];
  for (const [name, ok] of cases) it(name, () => assert.ok(ok(html), html));
});

describe('report formats', () => {
  const byPath: [string, string | RegExp][] = [
    ['out.json', 'json'],
    ['out.XML', 'junit'],
    ['reports/fleet.html', 'html'],
    ['fleet.htm', 'html'],
    ['fleet.txt', 'text'],
    ['fleet.pdf', /^ConfigError: --report fleet\.pdf: the format comes from the extension: \.txt \(text\), \.json \(json\), \.xml \(junit\), \.html \(html\), \.htm \(html\)$/],
    ['fleet', /--report fleet: the format comes from the extension/],
  ];
  for (const [path, want] of byPath) it(`${path} -> ${want}`, () => (want instanceof RegExp ? assert.throws(() => formatForPath(path), want) : assert.equal(formatForPath(path), want)));

  it('renders each format, text by the caller', async () => {
    const run = fixture('run.json');
    assert.equal(await render('text', run, () => 'TEXT'), 'TEXT');
    assert.deepEqual(JSON.parse(await render('json', run, () => '')), run);
    assert.match(await render('junit', run, () => ''), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
    assert.match(await render('html', run, () => ''), /^<!DOCTYPE html>/);
  });
});
