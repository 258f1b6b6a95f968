// Progress on stderr: plain lines, or listr2 on a TTY; both show counts and the hosts still running, never one line per host in flight.
import type { Phase, ProgressSink } from '../engine/events.js';
import { escapeControls as safe } from '../report/escape.js';
import type { Format } from '../report/formats.js';
import type { HostResult } from '../report/model.js';

/** How a command names a finished host in its progress, in that command's own terms. */
export type OutcomeOf = (result: HostResult) => string;
/** audit, plan, apply: compliant, drift, fixed, unreachable, failed. */
export const byStatus: OutcomeOf = (result) => result.status;
/** diagnose: "ok" or the cause that keeps SSH out (port-refused, key-not-accepted, ...); it knows no compliance. */
export const byCause: OutcomeOf = (result) => result.diagnosis?.cause ?? result.status;

/** Counts and the hosts in flight: the state both renderers draw. Host names are escaped where the line is made. */
export class ProgressState {
  total = 0;
  label = '';
  startedAt = Date.now();
  readonly running = new Map<string, Phase>();
  readonly counts = new Map<string, number>();
  finished = 0;

  constructor(private readonly outcomeOf: OutcomeOf = byStatus) {}

  reset(total: number, label: string): void {
    Object.assign(this, { total, label, startedAt: Date.now(), finished: 0 });
    this.running.clear();
    this.counts.clear();
  }

  /** A host is done: it leaves the running set and is counted under its outcome, which is returned. */
  finish(result: HostResult): string {
    const outcome = this.outcomeOf(result);
    this.running.delete(result.name);
    this.finished++;
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
    return outcome;
  }

  line(): string {
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(0);
    const counts = [...this.counts].map(([outcome, n]) => `${safe(outcome)} ${n}`).join(', ');
    const names = [...this.running.keys()];
    const shown = names.slice(0, 5).map(safe).join(' ') + (names.length > 5 ? ` (+${names.length - 5})` : '');
    return `${this.label} [${secs}s] ${this.finished}/${this.total} done${counts ? ` (${counts})` : ''}${names.length ? `; running: ${shown}` : ''}`;
  }
}

/** Non-TTY: a line when a phase starts, at most one status line every `intervalMs`, and each failure as it happens. */
export class PlainProgress implements ProgressSink {
  private readonly state: ProgressState;
  private lastLine = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly intervalMs = 2000,
    outcomeOf: OutcomeOf = byStatus,
  ) {
    this.state = new ProgressState(outcomeOf);
  }

  start(total: number, label: string): void {
    this.state.reset(total, label);
    this.out.write(`${label}: ${total} host${total === 1 ? '' : 's'}\n`);
  }

  phase(host: string, phase: Phase): void {
    this.state.running.set(host, phase);
    this.tick();
  }

  done(result: HostResult): void {
    const outcome = this.state.finish(result);
    if (result.status === 'unreachable' || result.status === 'failed') this.out.write(`  ${safe(result.name)}: ${safe(outcome)}${result.error ? `: ${safe(result.error)}` : ''}\n`);
    this.tick();
  }

  end(): void {
    this.out.write(`${this.state.line()}\n`);
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastLine < this.intervalMs) return;
    this.lastLine = now;
    this.out.write(`${this.state.line()}\n`);
  }
}

/** listr2 where a person watches stderr and reads text (loaded only then); plain lines for logs, pipes and JSON, JUnit or HTML on stdout. */
export async function progressFor(output: Format, outcomeOf: OutcomeOf = byStatus): Promise<ProgressSink> {
  if (!process.stderr.isTTY || output !== 'text') return new PlainProgress(process.stderr, undefined, outcomeOf);
  const { ListrProgress } = await import('./listr-progress.js');
  return new ListrProgress(outcomeOf);
}
