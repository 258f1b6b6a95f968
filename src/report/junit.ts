// --output junit: a testsuite per host, a testcase per check, for CI systems; xmlbuilder2 writes and escapes the XML.
import { create } from 'xmlbuilder2';
import { escapeControls as safe, escapeLines } from './escape.js';
import type { CheckResult, HostResult, RunResult } from './model.js';

type XMLBuilder = ReturnType<typeof create>;

/**
 * Host text has its control characters escaped first (`\x1b`, `\n` in one-line fields), as in the text report; what
 * XML 1.0 still forbids after that (lone surrogates, U+FFFE, U+FFFF) is replaced by its `\uXXXX` escape, never dropped.
 */
const visible = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

export function renderJunit(run: RunResult): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: visible });
  const counts = run.hosts.map(hostCounts);
  const total = (k: keyof Counts) => counts.reduce((n, c) => n + c[k], 0);
  const suites = doc.ele('testsuites', {
    name: `fleetfix ${run.command}`,
    tests: total('tests'),
    failures: total('failures'),
    errors: total('errors'),
    skipped: total('skipped'),
    time: seconds(run.hosts.reduce((n, h) => n + h.durationMs, 0)),
  });
  run.hosts.forEach((h, i) => hostSuite(suites, h, counts[i]!, run.command));
  return `${doc.end({ prettyPrint: true })}\n`;
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

function hostCounts(h: HostResult): Counts {
  const of = (s: CheckResult['status']) => h.checks.filter((c) => c.status === s).length;
  return { tests: h.checks.length + (hasAccessCase(h) ? 1 : 0), failures: of('fail'), errors: of('error') + (accessErrs(h) ? 1 : 0), skipped: of('skipped') };
}

function hostSuite(parent: XMLBuilder, h: HostResult, counts: Counts, command: RunResult['command']): void {
  const suite = parent.ele('testsuite', { name: safe(h.name), hostname: safe(h.address), ...counts, time: seconds(h.durationMs) });
  const props = suite.ele('properties');
  const prop = (name: string, value: string | undefined) => value !== undefined && props.ele('property', { name, value: safe(value) });
  prop('status', h.status);
  prop('access', h.access);
  prop('diagnosis', h.diagnosis && `${h.diagnosis.cause}: ${h.diagnosis.detail}`);
  if (hasAccessCase(h)) {
    const testcase = suite.ele('testcase', { classname: safe(h.name), name: 'access' });
    const message = safe(h.error ?? (h.diagnosis ? `${h.diagnosis.cause}: ${h.diagnosis.detail}` : h.status));
    if (accessErrs(h)) testcase.ele('error', { message, type: h.status }).txt(hostStory(h));
    else testcase.ele('system-out').txt(hostStory(h) || message);
  }
  for (const c of h.checks) checkCase(suite, h, c, command);
}

/** The ways in that failed and the diagnosis, one per line. */
function hostStory(h: HostResult): string {
  const lines = (h.attempts ?? []).map((a) => `${safe(a.access)}: ${safe(a.error)}`);
  if (h.diagnosis) lines.push(`diagnosis: ${safe(h.diagnosis.cause)}: ${safe(h.diagnosis.detail)}`);
  return lines.join('\n');
}

function checkCase(suite: XMLBuilder, h: HostResult, c: CheckResult, command: RunResult['command']): void {
  const testcase = suite.ele('testcase', { classname: safe(h.name), name: `${c.kind === 'handler' ? 'handler ' : ''}${safe(c.id)}` });
  const body = [...c.changes.flatMap((ch) => [safe(ch.summary), ...(ch.diff && ch.diff !== ch.summary ? [escapeLines(ch.diff)] : [])]), ...(c.findings ?? []).map((f) => `! ${safe(f)}`)].join('\n');
  if (c.status === 'fail') testcase.ele('failure', { message: safe(c.message), type: command === 'apply' ? 'still-failing' : 'drift' }).txt(body);
  else if (c.status === 'error') testcase.ele('error', { message: safe(c.message), type: 'error' }).txt(body);
  else if (c.status === 'skipped') testcase.ele('skipped', { message: safe(c.message) });
  else if (body) testcase.ele('system-out').txt(`${c.status === 'fixed' ? `fixed: ${safe(c.message)}\n` : ''}${body}`);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
