// The fleet run: every host concurrently (p-limit --forks), each bounded by --timeout; one host's failure never stops another.
import pLimit from 'p-limit';
import type { Command, HostResult } from '../report/model.js';
import type { ProgressSink } from './events.js';
import { applyHost, CONFIRM_TIMEOUT_S, planHost, releaseLease } from './host-run.js';
import { hostResult, newSession, type HostSession } from './session.js';
import type { HostJob } from './prepare.js';
import { connectHost, type ConnectFn } from './connect.js';
import { newRunId } from './host-lock.js';

export interface RunOptions {
  command: Command;
  /** How hosts are reached; the access chain by default (a benchmark substitutes a simulated fleet). */
  connect?: ConnectFn;
  forks: number;
  /** Per host, per phase (plan, then apply). */
  hostTimeoutMs: number;
  progress: ProgressSink;
  /** Seconds the on-host safety net waits for apply's confirmation before undoing the changes. */
  confirmTimeoutS?: number;
}

export class FleetRun {
  private sessions: HostSession[] = [];
  private interrupted = false;

  constructor(private readonly opts: RunOptions) {}

  /** Connect to every host, gather facts and plan. Only a host with something to apply keeps its connection open. */
  async plan(jobs: HostJob[]): Promise<HostResult[]> {
    const { command, progress, hostTimeoutMs, confirmTimeoutS = CONFIRM_TIMEOUT_S } = this.opts;
    // apply holds each host from its facts to its confirmation: the lease lasts both phases' timeouts and the net's;
    // another run's is waited for up to half the host's time (a minute at most).
    const hostTimeoutS = Math.ceil(hostTimeoutMs / 1000);
    const lease = command === 'apply' ? { runId: newRunId(), seconds: 2 * hostTimeoutS + confirmTimeoutS, waitS: Math.min(60, Math.floor(hostTimeoutS / 2)) } : undefined;
    this.sessions = jobs.map((job) => newSession(job, lease));
    await this.forEachHost(this.sessions, command === 'apply' ? 'planning' : command, async (s) => {
      await planHost(s, progress, this.opts.connect ?? connectHost);
      if (command !== 'apply' || reported(s).status !== 'drift') await release(s);
    });
    return this.sessions.map(reported);
  }

  /** Apply the planned fixes on every host with drift; returns the final results. */
  async apply(): Promise<HostResult[]> {
    const drifted = this.sessions.filter((s) => reported(s).status === 'drift');
    // From here, a host given up on reports each fix as applied, not applied, or unknown.
    for (const s of drifted) s.applying = true;
    await this.forEachHost(drifted, 'applying', async (s) => {
      await applyHost(s, this.opts.progress, this.opts.confirmTimeoutS);
      await release(s);
    });
    return this.sessions.map(reported);
  }

  /** Ctrl-C: start nothing new and drop every connection, which ends the work in flight. */
  interrupt(): void {
    this.interrupted = true;
    for (const s of this.sessions) s.abort.abort();
    void this.close();
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.transport?.close().catch(() => {})));
  }

  private async forEachHost(sessions: HostSession[], label: string, work: (s: HostSession) => Promise<void>): Promise<void> {
    const { progress, hostTimeoutMs } = this.opts;
    const limit = pLimit(Math.max(1, this.opts.forks));
    progress.start(sessions.length, label);
    await Promise.all(
      sessions.map((session) =>
        limit(async () => {
          if (this.interrupted) return this.markFailed(session, 'interrupted before it started');
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), hostTimeoutMs);
          });
          const outcome = await Promise.race([work(session).catch((err: Error) => err), timedOut]);
          clearTimeout(timer);
          if (outcome === 'timeout') {
            session.abort.abort();
            await session.transport?.close().catch(() => {});
            this.markFailed(session, `timed out after ${hostTimeoutMs / 1000} s (--timeout)`);
          } else if (outcome instanceof Error) {
            this.markFailed(session, `internal error: ${outcome.message}`);
          } else if (this.interrupted) {
            this.markFailed(session, 'interrupted');
          }
          progress.done(reported(session));
        }),
      ),
    );
    await progress.end();
  }

  /** The run gives up on the host: its report is fixed now, saying what is known of each fix, while work still in flight unwinds. */
  private markFailed(session: HostSession, error: string): void {
    session.verdict = hostResult(session, error);
  }
}

/** Close a host's connection as soon as nothing more will be done there: a large fleet never holds them all open. */
async function release(session: HostSession): Promise<void> {
  await releaseLease(session);
  const transport = session.transport;
  session.transport = undefined;
  await transport?.close().catch(() => {});
}

function reported(session: HostSession): HostResult {
  return session.verdict ?? session.report ?? hostResult(session);
}
