// fleetfix status as text: a table of the hosts with their net and lease, each host's details (what its checks say,
// the undos pending and the log's last lines), and a summary. Every string that came from a host is escaped here.
import { escapeControls as safe } from './escape.js';
import type { HostResult, HostStatus, RunResult } from './model.js';
import type { Style } from './style.js';

/** What each host status means for status (whose checks never come to `fixed`). */
const MEANING: Record<Exclude<HostStatus, 'fixed'>, string> = { drift: 'something pending', compliant: 'nothing pending', unreachable: 'not reached', failed: 'failed' };

export function renderStatus(run: RunResult, style: Style, verbose: boolean): string {
  const header = ['HOST', 'ADDRESS', 'STATUS', 'NET', 'LEASE'];
  const rows = run.hosts.map((h) => [safe(h.name), safe(h.address), h.status, netCell(h), leaseCell(h)]);
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], status?: HostStatus) => cells.map((c, i) => (i === 2 && status ? style.status(status) + ' '.repeat(widths[i]! - c.length) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const table = [style.bold(line(header)), ...rows.map((r, i) => line(r, run.hosts[i]!.status))].join('\n');
  const details = run.hosts.map((h) => hostDetails(h, style, verbose)).filter(Boolean);
  const counts = (Object.keys(MEANING) as (keyof typeof MEANING)[]).flatMap((k) => (run.summary[k] ? [`${run.summary[k]} ${style.status(k)} (${MEANING[k]})`] : []));
  const summary = `${run.hosts.length} host${run.hosts.length === 1 ? '' : 's'}: ${counts.join(', ') || 'none'}`;
  return `${[table, ...(details.length ? ['', ...details] : []), '', summary].join('\n')}\n`;
}

function netCell(h: HostResult): string {
  const net = h.pending?.net;
  if (!net) return h.pending ? '-' : '';
  return net.firing ? `firing (run ${safe(net.run)})` : `armed by ${safe(net.run)}, fires ${net.firesAt ?? '?'}`;
}

function leaseCell(h: HostResult): string {
  const lease = h.pending?.lease;
  if (!lease) return h.pending ? '-' : '';
  return `${safe(lease.run)} (owner ${lease.owner})`;
}

function hostDetails(h: HostResult, style: Style, verbose: boolean): string {
  const shown = h.checks.filter((c) => verbose || c.status !== 'pass');
  if (!shown.length && !h.error) return '';
  const lines = [`${style.bold(safe(h.name))} (${safe(h.address)}): ${style.status(h.status)}${h.access ? ` via ${safe(h.access)}` : ''}`];
  if (h.error) lines.push(`  ${safe(h.error)}`);
  for (const a of h.attempts ?? []) lines.push(`  ${safe(a.access)}: ${safe(a.error)}`);
  if (h.diagnosis) lines.push(`  diagnosis: ${safe(h.diagnosis.cause)}: ${safe(h.diagnosis.detail)}`);
  for (const c of shown) {
    lines.push(`  ${safe(c.id)} [${style.status(c.status)}]: ${safe(c.message)}`);
    for (const change of c.changes) lines.push(`      ${safe(change.summary)}`);
    for (const f of c.findings ?? []) lines.push(`      ${safe(f)}`);
  }
  return lines.join('\n');
}
