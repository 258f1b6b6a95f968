// Progress on stderr: plain lines, or listr2 on a TTY; both show counts and the hosts still running, never one line per host in flight.
import type { Phase, ProgressSink } from '../engine/events.js';
import type { HostResult, HostStatus } from '../report/model.js';

/** Counts and the hosts in flight: the state both renderers draw. */
export class ProgressState {
  total = 0;
  label = '';
  startedAt = Date.now();
  readonly running = new Map<string, Phase>();
  readonly counts = new Map<HostStatus, number>();
  finished = 0;

  reset(total: number, label: string): void {
    Object.assign(this, { total, label, startedAt: Date.now(), finished: 0 });
    this.running.clear();
    this.counts.clear();
  }

  line(): string {
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(0);
    const counts = [...this.counts].map(([status, n]) => `${status} ${n}`).join(', ');
    const names = [...this.running.keys()];
    const shown = names.slice(0, 5).join(' ') + (names.length > 5 ? ` (+${names.length - 5})` : '');
    return `${this.label} [${secs}s] ${this.finished}/${this.total} done${counts ? ` (${counts})` : ''}${names.length ? `; running: ${shown}` : ''}`;
  }
}

/** Non-TTY: a line when a phase starts, at most one status line every `intervalMs`, and each failure as it happens. */
export class PlainProgress implements ProgressSink {
  private readonly state = new ProgressState();
  private lastLine = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly intervalMs = 2000,
  ) {}

  start(total: number, label: string): void {
    this.state.reset(total, label);
    this.out.write(`${label}: ${total} host${total === 1 ? '' : 's'}\n`);
  }

  phase(host: string, phase: Phase): void {
    this.state.running.set(host, phase);
    this.tick();
  }

  done(result: HostResult): void {
    this.state.running.delete(result.name);
    this.state.finished++;
    this.state.counts.set(result.status, (this.state.counts.get(result.status) ?? 0) + 1);
    if (result.status === 'unreachable' || result.status === 'failed') this.out.write(`  ${result.name}: ${result.status}${result.error ? `: ${result.error}` : ''}\n`);
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

/** listr2 where a person watches stderr and reads text (loaded only then); plain lines for logs, pipes and JSON runs. */
export async function progressFor(output: 'text' | 'json'): Promise<ProgressSink> {
  if (!process.stderr.isTTY || output !== 'text') return new PlainProgress(process.stderr);
  const { ListrProgress } = await import('./listr-progress.js');
  return new ListrProgress();
}
