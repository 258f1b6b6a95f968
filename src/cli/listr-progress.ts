// Progress on a TTY: one listr2 task whose title carries the counts and the hosts in flight.
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { Phase, ProgressSink } from '../engine/events.js';
import type { HostResult } from '../report/model.js';
import { ProgressState, type OutcomeOf } from './progress.js';

/** One listr2 task per phase, its title (escaped by ProgressState.line) redrawn as hosts start and finish. */
export class ListrProgress implements ProgressSink {
  private readonly state: ProgressState;
  private finishTask?: () => void;
  private setTitle?: (title: string) => void;
  private rendering?: Promise<unknown>;

  constructor(outcomeOf: OutcomeOf) {
    this.state = new ProgressState(outcomeOf);
  }

  start(total: number, label: string): void {
    this.state.reset(total, label);
    // listr2 starts the task later, on its own schedule: a phase that ends first (every host done at once) must
    // still end the task, or the run waits for it forever.
    const finished = new Promise<void>((resolve) => {
      this.finishTask = resolve;
    });
    const logger = new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr) });
    const list = new Listr(
      [
        {
          title: this.state.line(),
          task: (_ctx, task) => {
            this.setTitle = (title) => {
              task.title = title;
            };
            task.title = this.state.line();
            return finished;
          },
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
    this.state.finish(result);
    this.setTitle?.(this.state.line());
  }

  async end(): Promise<void> {
    this.setTitle?.(this.state.line());
    this.finishTask?.();
    await this.rendering;
  }
}
