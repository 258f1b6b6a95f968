// --output junit: a testsuite per host, a testcase per check, for CI systems; fast-xml-parser's XMLBuilder writes the XML.
import { XMLBuilder } from 'fast-xml-parser';
import { escapeControls, escapeLines } from './escape.js';
import type { CheckResult, HostResult, RunResult } from './model.js';
import { escapeUnpaired } from './unpaired.js';

/**
 * XML 1.0 forbids C0 controls but tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF. Host text has
 * its control characters escaped first (`\x1b`, `\x00`, `\n` in one-line fields), as in the text report; what XML still
 * forbids after that becomes its `\uXXXX` escape too: visible, never dropped. This is for one-line host text.
 */
const safe = (s: string) => escapeUnpaired(escapeControls(s));
/** Host text whose lines are the caller's own (a diff). */
const safeLines = (s: string) => escapeUnpaired(escapeLines(s));

/** Attributes are written as `@name`; the builder escapes &, <, >, " and ' in them and in text. */
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', format: true, indentBy: '  ', suppressEmptyNode: true });

type Element = Record<string, unknown>;

export function renderJunit(run: RunResult): string {
  const suites = run.hosts.map((h) => hostSuite(h, run.command));
  const total = (k: keyof Counts) => suites.reduce((n, s) => n + Number(s[`@${k}`]), 0);
  const testsuites: Element = {
    '@name': `fleetfix ${run.command}`,
    '@tests': total('tests'),
    '@failures': total('failures'),
    '@errors': total('errors'),
    '@skipped': total('skipped'),
    '@time': seconds(run.hosts.reduce((n, h) => n + h.durationMs, 0)),
    testsuite: suites,
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ testsuites })}`;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** A host with no checks (diagnose, unreachable) or an error of its own gets a testcase `access`; it errs when the host is unreachable or failed. */
const hasAccessCase = (h: HostResult) => !!h.error || h.checks.length === 0;
const accessErrs = (h: HostResult) => hasAccessCase(h) && (!!h.error || h.status === 'unreachable' || h.status === 'failed');

function hostSuite(h: HostResult, command: RunResult['command']): Element {
  const of = (s: CheckResult['status']) => h.checks.filter((c) => c.status === s).length;
  const properties = [
    ['status', h.status],
    ['access', h.access],
    ['diagnosis', h.diagnosis && `${h.diagnosis.cause}: ${h.diagnosis.detail}`],
  ].flatMap(([name, value]) => (value === undefined ? [] : [{ '@name': name, '@value': safe(value) }]));
  const testcases = [...(hasAccessCase(h) ? [accessCase(h)] : []), ...h.checks.map((c) => checkCase(h, c, command))];
  return {
    '@name': safe(h.name),
    '@hostname': safe(h.address),
    '@tests': testcases.length,
    '@failures': of('fail'),
    '@errors': of('error') + (accessErrs(h) ? 1 : 0),
    '@skipped': of('skipped'),
    '@time': seconds(h.durationMs),
    properties: { property: properties },
    testcase: testcases,
  };
}

function accessCase(h: HostResult): Element {
  const message = safe(h.error ?? (h.diagnosis ? `${h.diagnosis.cause}: ${h.diagnosis.detail}` : h.status));
  // The ways in that failed and the diagnosis, one per line.
  const story = [...(h.attempts ?? []).map((a) => `${safe(a.access)}: ${safe(a.error)}`), ...(h.diagnosis ? [`diagnosis: ${safe(h.diagnosis.cause)}: ${safe(h.diagnosis.detail)}`] : []), ...(h.diagnosis?.remedy ? [`remedy: ${safe(h.diagnosis.remedy)}`] : [])].join('\n');
  const testcase: Element = { '@classname': safe(h.name), '@name': 'access' };
  if (accessErrs(h)) testcase.error = { '@message': message, '@type': h.status, '#text': story };
  else testcase['system-out'] = story || message;
  return testcase;
}

function checkCase(h: HostResult, c: CheckResult, command: RunResult['command']): Element {
  const testcase: Element = { '@classname': safe(h.name), '@name': `${c.kind === 'handler' ? 'handler ' : ''}${safe(c.id)}` };
  const body = [...c.changes.flatMap((ch) => [safe(ch.summary), ...(ch.diff && ch.diff !== ch.summary ? [safeLines(ch.diff)] : [])]), ...(c.findings ?? []).map((f) => `! ${safe(f)}`)].join('\n');
  if (c.status === 'fail') testcase.failure = { '@message': safe(c.message), '@type': FAILURE_TYPE[command] ?? 'drift', '#text': body };
  else if (c.status === 'error') testcase.error = { '@message': safe(c.message), '@type': 'error', '#text': body };
  else if (c.status === 'skipped') testcase.skipped = { '@message': safe(c.message) };
  else if (body) testcase['system-out'] = `${c.status === 'fixed' ? `fixed: ${safe(c.message)}\n` : ''}${body}`;
  return testcase;
}

/** What a failing check means, where it is not drift: after apply, a fix that did not hold; in status, something pending on the host. */
const FAILURE_TYPE: Partial<Record<RunResult['command'], string>> = { apply: 'still-failing', status: 'pending' };

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
