// Text report: a summary table of hosts, then the checks that need attention, with diffs for plan and apply.
// Every string that came from a host or an input goes through escapeControls before it is written.
import { escapeControls as safe } from './escape.js';
import type { CheckResult, Command, HostResult, RunResult } from './model.js';
import type { Style } from './style.js';

const ICON: Record<CheckResult['status'], string> = { pass: '✓', finding: '!', fail: '✗', fixed: '✓', error: '!', skipped: '-' };

export interface TextOptions {
  style: Style;
  /** Show diffs under each change (plan, apply). */
  diffs: boolean;
  verbose: boolean;
}

export function renderText(run: RunResult, opts: TextOptions): string {
  const out: string[] = [];
  out.push(table(run.hosts, opts.style));
  const details = run.hosts.map((h) => hostDetails(h, run.command, opts)).filter(Boolean);
  if (details.length) out.push('', ...details);
  out.push('', summaryLine(run, opts.style));
  return `${out.join('\n')}\n`;
}

function table(hosts: HostResult[], style: Style): string {
  const rows = hosts.map((h) => {
    const counted = h.checks.filter((c) => c.kind === 'check');
    const notOk = counted.filter((c) => c.status === 'fail' || c.status === 'error').length;
    const changes = h.checks.reduce((n, c) => n + (c.status === 'fail' || c.status === 'fixed' ? c.changes.length : 0), 0);
    return [safe(h.name), safe(h.address), h.status, safe(h.access ?? '-'), counted.length ? `${counted.length - notOk}/${counted.length} ok` : '-', String(changes)];
  });
  const header = ['HOST', 'ADDRESS', 'STATUS', 'ACCESS', 'CHECKS', 'CHANGES'];
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[], colour = false) =>
    cells
      .map((c, i) => {
        const padded = c.padEnd(widths[i]!);
        return colour && i === 2 ? padded.replace(c, style.status(c as HostResult['status'])) : padded;
      })
      .join('  ')
      .trimEnd();
  return [style.bold(fmt(header)), ...rows.map((r) => fmt(r, true))].join('\n');
}

function hostDetails(h: HostResult, command: Command, opts: TextOptions): string {
  const { style } = opts;
  const shown = h.checks.filter((c) => opts.verbose || c.status !== 'pass' || c.findings);
  if (!shown.length && !h.error && !h.diagnosis && !h.attempts) return '';
  const lines = [`${style.bold(safe(h.name))} (${safe(h.address)}): ${style.status(h.status)}${h.access ? ` via ${safe(h.access)}` : ''}`];
  if (h.error && !h.attempts) lines.push(`  ${safe(h.error)}`);
  for (const a of h.attempts ?? []) lines.push(`  ${safe(a.access)}: ${safe(a.error)}`);
  if (h.diagnosis) lines.push(`  diagnosis: ${safe(h.diagnosis.cause)}: ${safe(h.diagnosis.detail)}`);
  if (h.diagnosis?.remedy) lines.push(`  remedy: ${safe(h.diagnosis.remedy)}`);
  for (const c of shown) {
    const label = c.kind === 'handler' ? `handler ${safe(c.id)}` : safe(c.id);
    const title = c.title === c.id ? '' : ` ${safe(c.title)}`;
    const listChanges = opts.diffs && c.changes.length > 0 && (c.status === 'fail' || c.status === 'fixed' || (c.status === 'error' && command === 'apply'));
    lines.push(`  ${ICON[c.status]} ${label} [${style.status(c.status)}]${title}${listChanges && c.status !== 'error' ? '' : `: ${safe(c.message)}`}`);
    for (const f of c.findings ?? []) lines.push(`      ! ${safe(f)}`);
    if (!listChanges) continue;
    for (const change of c.changes) {
      lines.push(`      ${safe(change.summary)}`);
      // A diff's lines are its own; what is inside each line came from the host.
      if (change.diff && change.diff !== change.summary) for (const dl of change.diff.split('\n')) lines.push(`        ${style.diffLine(safe(dl))}`);
    }
  }
  return lines.join('\n');
}

function summaryLine(run: RunResult, style: Style): string {
  const s = run.summary;
  const parts = (['compliant', 'drift', 'fixed', 'unreachable', 'failed'] as const).filter((k) => s[k] > 0).map((k) => `${s[k]} ${style.status(k)}`);
  const verb = run.command === 'apply' ? 'made' : 'pending';
  const findings = s.findings ? `; ${s.findings} finding${s.findings === 1 ? '' : 's'}` : '';
  return `${s.hosts} host${s.hosts === 1 ? '' : 's'}: ${parts.join(', ') || 'none'}; ${s.changes} change${s.changes === 1 ? '' : 's'} ${verb}${findings}`;
}

/** diagnose: one line per host, the cause and what it means; the summary counts hosts by cause, "ok" first, then each cause's remedy once. */
export function renderDiagnosis(run: RunResult, style: Style): string {
  const rows = run.hosts.map((h) => [h.name, h.address, h.diagnosis?.cause ?? '-', h.diagnosis?.detail ?? h.error ?? ''].map(safe));
  const header = ['HOST', 'ADDRESS', 'CAUSE', 'DETAIL'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[], paint: (t: string) => string) => `${r.slice(0, 3).map((c, i) => (i === 2 ? paint(c.padEnd(widths[i]!)) : c.padEnd(widths[i]!))).join('  ')}  ${r[3]}`.trimEnd();
  const byCause = new Map([['ok', 0]]);
  for (const r of rows) byCause.set(r[2]!, (byCause.get(r[2]!) ?? 0) + 1);
  const counts = [...byCause].map(([cause, n]) => `${n} ${cause === 'ok' ? style.good(cause) : style.bad(cause)}`);
  const hosts = `${run.hosts.length} host${run.hosts.length === 1 ? '' : 's'}`;
  const remedies = new Map(run.hosts.flatMap((h) => (h.diagnosis?.remedy && h.diagnosis.cause !== 'ok' ? [[safe(h.diagnosis.cause), safe(h.diagnosis.remedy)] as const] : [])));
  const remedyLines = [...remedies].map(([cause, remedy]) => `  ${style.bad(cause)}: ${remedy}`);
  return `${[style.bold(line(header, (t) => t)), ...rows.map((r) => line(r, r[2] === 'ok' ? style.good : style.bad))].join('\n')}\n\n${hosts}: ${counts.join(', ')}\n${remedyLines.length ? `\nremedies:\n${remedyLines.join('\n')}\n` : ''}`;
}
