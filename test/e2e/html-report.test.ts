// The HTML report in a real browser: 500 hosts render as 500 rows, the filters hide what they should, host text stays text.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { renderHtml } from '../../src/report/html.js';
import { runResult, type HostResult, type HostStatus, type RunResult } from '../../src/report/model.js';
import { launchChromium } from './browser.js';

/** 500 hosts from the hostile fixture's three (fixed with a hostile name and diff, unreachable, failed) and plain ones. */
function bigRun(): RunResult {
  const base = JSON.parse(readFileSync(new URL('../fixtures/report/hostile.json', import.meta.url), 'utf8')) as RunResult;
  const [hostile, unreachable, failed] = base.hosts as [HostResult, HostResult, HostResult];
  const plain = (name: string, status: HostStatus): HostResult => ({
    ...hostile,
    name,
    status,
    checks: hostile.checks.map((c) => ({ ...c, status: status === 'drift' && c.id === 'ssh-dir' ? 'fail' : 'pass', changes: [] })),
  });
  const hosts = Array.from({ length: 500 }, (_, i): HostResult => {
    if (i === 7) return hostile;
    if (i % 50 === 3) return { ...unreachable, name: `unreachable${i}` };
    if (i % 25 === 4) return { ...failed, name: `failed${i}` };
    return plain(`host${String(i).padStart(3, '0')}`, i % 10 === 1 ? 'drift' : 'compliant');
  });
  return runResult('apply', hosts);
}

const run = bigRun();
const count = (status: HostStatus) => run.hosts.filter((h) => h.status === status).length;

describe('HTML report in headless Chromium', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetfix-html-'));
  const file = join(dir, 'report.html');
  let browser: Browser | undefined;
  let page: Page;
  const visibleHosts = () => page.locator('tbody.host:visible').count();

  before(async () => {
    writeFileSync(file, renderHtml(run));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(file).href);
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has a row per host and a cell per host and check', async () => {
    assert.ok(count('drift') > 0 && count('failed') > 0 && count('unreachable') > 0 && count('compliant') > 0, 'the page has hosts of every kind');
    assert.equal(await page.locator('tr.row').count(), 500);
    assert.equal(await visibleHosts(), 500);
    assert.equal(await page.locator('th.check').count(), 4);
    assert.equal(await page.locator('td.cell').count(), 500 * 4);
    assert.equal(await page.locator('.summary').innerText(), `${count('compliant')} compliant ${count('drift')} drift ${count('fixed')} fixed ${count('unreachable')} unreachable ${count('failed')} failed ${run.summary.changes} change${run.summary.changes === 1 ? '' : 's'} made`);
  });

  it("a host's <script> is text: no script element, the title untouched, the name shown as written", async () => {
    assert.equal(await page.evaluate(() => document.scripts.length), 0);
    assert.equal(await page.title(), 'fleetfix apply: 500 hosts');
    assert.equal(await page.locator('tr.row th.name').nth(7).innerText(), "web<script>document.title='pwned'</script>");
    assert.equal(await page.locator('img').count(), 0, 'a banner holding <img onerror> stays text');
  });

  const filters: [string, () => number][] = [
    ['drift', () => count('drift')],
    ['failed', () => count('failed') + count('unreachable')],
    ['attention', () => 500 - count('compliant')],
    ['all', () => 500],
  ];
  for (const [filter, want] of filters) {
    it(`the "${filter}" filter shows ${want()} hosts`, async () => {
      await page.locator(`label[for=filter-${filter}]`).click();
      assert.equal(await visibleHosts(), want());
      if (filter === 'drift') assert.deepEqual(new Set(await page.locator('tbody.host:visible td.status').allInnerTexts()), new Set(['drift']));
    });
  }

  it("a host's diff and diagnosis are folded under it and open on a click", async () => {
    const hostile = page.locator('tbody.host').nth(7);
    const diff = hostile.locator('pre.diff');
    assert.equal(await diff.isVisible(), false);
    await hostile.locator('summary').click();
    assert.equal(await diff.isVisible(), true);
    assert.match(await diff.innerText(), /^ ssh-rsa AAAAB3Nza evil<script>document\.title='pwned'<\/script>\\x1b\[2J\]\]>&amp;\\x00\\x0b\\ud800\\uffff\\u009b$/m);
    const unreachable = page.locator('tbody.host.s-unreachable').first();
    await unreachable.locator('summary').click();
    assert.equal(await unreachable.locator('.diagnosis').innerText(), 'diagnosis port-refused: banner "<img src=x onerror=alert(1)>" \\x1b]0;title\\x07');
  });

  it('takes a screenshot (FLEETFIX_SCREENSHOTS=DIR keeps it)', async () => {
    const png = join(dir, 'html-report.png');
    await page.screenshot({ path: png });
    assert.deepEqual([...readFileSync(png).subarray(1, 4)], [...Buffer.from('PNG')]);
    assert.ok(statSync(png).size > 10_000);
    if (process.env.FLEETFIX_SCREENSHOTS) copyFileSync(png, join(process.env.FLEETFIX_SCREENSHOTS, 'html-report.png'));
  });
});
