// Progress on stderr: listr2 on a TTY, plain lines otherwise; both show counts and the hosts still running, never one line per host in flight.
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { Phase, ProgressSink } from '../engine/events.js';
import type { HostResult, HostStatus } from '../report/model.js';

/** Counts and the hosts in flight: the state both renderers draw. */
class ProgressState {
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

/** TTY: one listr2 task per phase whose title carries the counts and the hosts in flight. */
export class ListrProgress implements ProgressSink {
  private readonly state = new ProgressState();
  private finishTask?: () => void;
  private setTitle?: (title: string) => void;
  private rendering?: Promise<unknown>;

  start(total: number, label: string): void {
    this.state.reset(total, label);
    const logger = new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr) });
    const list = new Listr(
      [
        {
          title: this.state.line(),
          task: (_ctx, task) =>
            new Promise<void>((resolve) => {
              this.setTitle = (title) => {
                task.title = title;
              };
              this.finishTask = resolve;
            }),
        },
      ],
      { renderer: 'default', rendererOptions: { logger, collapseSubtasks: false }, registerSignalListeners: false, exitOnError: false },
    );
    this.rendering = list.run();
  }

  phase(host: string, phase: Phase): void {
    this.state.running.set(host, phase);
    this.setTitle?.(this.state.line());
  }

  done(result: HostResult): void {
    this.state.running.delete(result.name);
    this.state.finished++;
    this.state.counts.set(result.status, (this.state.counts.get(result.status) ?? 0) + 1);
    this.setTitle?.(this.state.line());
  }

  async end(): Promise<void> {
    this.setTitle?.(this.state.line());
    this.finishTask?.();
    await this.rendering;
  }
}

/** listr2 where a person watches stderr and reads text; plain lines for logs, pipes and JSON runs. */
export function progressFor(output: 'text' | 'json'): ProgressSink {
  return process.stderr.isTTY && output === 'text' ? new ListrProgress() : new PlainProgress(process.stderr);
}
