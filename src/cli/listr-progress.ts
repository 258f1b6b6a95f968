// Progress on a TTY: one listr2 task whose title carries the counts and the hosts in flight.
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { Phase, ProgressSink } from '../engine/events.js';
import type { HostResult } from '../report/model.js';
import { ProgressState } from './progress.js';

/** One listr2 task per phase, its title redrawn as hosts start and finish. */
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
