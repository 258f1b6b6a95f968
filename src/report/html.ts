// --output html: one self-contained page, a fleet matrix of hosts x checks with each host's details folded under it.
// Every string that came from a host or an input is control-escaped, then HTML-escaped (escape-html), where it is placed.
// Host text never leaves a tag or an attribute; the page has no script, and its CSP would run none.
import escapeHtml from 'escape-html';
import { escapeControls, escapeLines } from './escape.js';
import { HTML_STYLE } from './html-style.js';
import type { CheckResult, HostResult, RunResult } from './model.js';
import { escapeUnpaired } from './unpaired.js';

const text = (s: string) => escapeHtml(escapeUnpaired(escapeControls(s)));
const SYMBOL: Record<CheckResult['status'], string> = { pass: '✓', finding: '!', fail: '✗', fixed: '✓', error: '!', skipped: '–' };
/** The filters: a radio button each; the stylesheet hides the hosts a checked one leaves out (no script on the page). */
const FILTERS = [
  ['all', 'all hosts'],
  ['attention', 'not OK'],
  ['drift', 'drift'],
  ['failed', 'failed or unreachable'],
] as const;

export function renderHtml(run: RunResult): string {
  const columns = checkColumns(run.hosts);
  const title = `fleetfix ${run.command}: ${run.summary.hosts} host${run.summary.hosts === 1 ? '' : 's'}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${HTML_STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="summary">${summary(run)}</p>
<nav class="filters">${FILTERS.map(([id, label], i) => `<input type="radio" name="filter" id="filter-${id}"${i === 0 ? ' checked' : ''}><label for="filter-${id}">${label}</label>`).join('')}</nav>
</header>
<table class="matrix">
<thead><tr><th class="name">host</th><th>address</th><th>status</th><th>access</th>${columns.map((c) => `<th class="check" title="${text(c.title)}"><span>${text(c.id)}</span></th>`).join('')}</tr></thead>
${run.hosts.map((h) => hostRows(h, columns, run.command)).join('\n')}
</table>
</body>
</html>
`;
}

interface Column {
  id: string;
  title: string;
}

/** Every check (not handler) id of the run, in the order hosts first list them. */
function checkColumns(hosts: HostResult[]): Column[] {
  const seen = new Map<string, Column>();
  for (const h of hosts) for (const c of h.checks) if (c.kind === 'check' && !seen.has(c.id)) seen.set(c.id, { id: c.id, title: c.title });
  return [...seen.values()];
}

function summary(run: RunResult): string {
  const s = run.summary;
  const parts = (['compliant', 'drift', 'fixed', 'unreachable', 'failed'] as const).map((k) => `<span class="count s-${k}">${s[k]} ${k}</span>`);
  return `${parts.join(' ')} <span class="count">${s.changes} change${s.changes === 1 ? '' : 's'} ${run.command === 'apply' ? 'made' : 'pending'}</span>`;
}

/** A host is a tbody: its matrix row and, when there is anything to say, a folded row of details. */
function hostRows(h: HostResult, columns: Column[], command: RunResult['command']): string {
  const byId = new Map(h.checks.filter((c) => c.kind === 'check').map((c) => [c.id, c]));
  const cells = columns.map((col) => {
    const c = byId.get(col.id);
    return c ? `<td class="cell c-${c.status}" title="${text(`${c.id}: ${c.status}: ${c.message}`)}">${SYMBOL[c.status]}</td>` : '<td class="cell c-none"></td>';
  });
  const details = hostDetails(h, command);
  const row = `<tr class="row"><th class="name" scope="row">${text(h.name)}</th><td>${text(h.address)}</td><td class="status s-${h.status}">${h.status}</td><td>${text(h.access ?? '–')}</td>${cells.join('')}</tr>`;
  const folded = details ? `\n<tr class="details"><td colspan="${4 + columns.length}"><details><summary>${detailsLabel(h)}</summary>${details}</details></td></tr>` : '';
  return `<tbody class="host s-${h.status}${h.status === 'compliant' ? '' : ' attention'}">${row}${folded}</tbody>`;
}

/** The folded row's one line: the host, what its checks came to (but pass), and its diagnosis or error. */
function detailsLabel(h: HostResult): string {
  const byStatus = new Map<string, number>();
  for (const c of h.checks) if (c.status !== 'pass') byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
  const error = h.error && h.error.length > 100 ? `${h.error.slice(0, 100)}…` : h.error;
  const parts = [...[...byStatus].map(([status, n]) => `${n} ${status}`), h.diagnosis ? `diagnosis: ${text(h.diagnosis.cause)}` : '', error && !h.diagnosis ? text(error) : ''];
  return `${text(h.name)}: ${parts.filter(Boolean).join(', ')}`;
}

function hostDetails(h: HostResult, command: RunResult['command']): string {
  const out: string[] = [];
  if (h.error) out.push(`<p class="error">${text(h.error)}</p>`);
  if (h.attempts?.length) out.push(`<ul class="attempts">${h.attempts.map((a) => `<li><b>${text(a.access)}</b>: ${text(a.error)}</li>`).join('')}</ul>`);
  if (h.diagnosis) out.push(`<p class="diagnosis"><b>diagnosis</b> <code>${text(h.diagnosis.cause)}</code>: ${text(h.diagnosis.detail)}</p>`);
  if (h.diagnosis?.remedy) out.push(`<p class="remedy"><b>remedy</b> ${text(h.diagnosis.remedy)}</p>`);
  const shown = h.checks.filter((c) => c.status !== 'pass' || c.findings?.length);
  if (shown.length) out.push(`<ul class="checks">${shown.map((c) => checkDetails(c, command)).join('')}</ul>`);
  return out.join('');
}

function checkDetails(c: CheckResult, command: RunResult['command']): string {
  const label = `${c.kind === 'handler' ? 'handler ' : ''}${text(c.id)}`;
  const findings = (c.findings ?? []).map((f) => `<li class="finding">${text(f)}</li>`).join('');
  const listChanges = c.status === 'fail' || c.status === 'fixed' || (c.status === 'error' && command === 'apply');
  const changes = listChanges ? c.changes.map((ch) => `<div class="change"><p>${text(ch.summary)}</p>${ch.diff && ch.diff !== ch.summary ? diffBlock(ch.diff) : ''}</div>`).join('') : '';
  return `<li class="check c-${c.status}"><span class="badge c-${c.status}">${c.status}</span> <b>${label}</b> ${text(c.title === c.id ? '' : c.title)}<div class="message">${text(c.message)}</div>${findings ? `<ul class="findings">${findings}</ul>` : ''}${changes}</li>`;
}

/** A diff's lines are its own; what is inside each line came from the host. */
function diffBlock(diff: string): string {
  const lines = escapeUnpaired(escapeLines(diff))
    .split('\n')
    .map((l) => `<span class="${l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : l.startsWith('@@') ? 'hunk' : 'ctx'}">${escapeHtml(l)}</span>`);
  return `<pre class="diff">${lines.join('\n')}</pre>`;
}
