// The fleet run: every host concurrently (p-limit --forks), each bounded by --timeout; one host's failure never stops
// another. Ctrl-C stops it: nothing new starts, and each host that holds something for the run settles it.
import pLimit from 'p-limit';
import type { Command, HostResult } from '../report/model.js';
import type { ProgressSink } from './events.js';
import { applyHost, CONFIRM_TIMEOUT_S, planHost, releaseLease } from './host-run.js';
import { hostResult, newSession, type HostSession } from './session.js';
import type { HostJob } from './prepare.js';
import { connectHost, type ConnectFn } from './connect.js';
import { newRunId } from './host-lock.js';

/** After Ctrl-C, how long the hosts in flight have to finish their round trip and be settled; one that has not by then is left as it is. */
export const SETTLE_MS = 30_000;

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
  /** SETTLE_MS by default. */
  settleMs?: number;
}

/** What a run still holds on its hosts: those it would leave as they are if it ended now. */
export interface Unsettled {
  /** Hosts where this run's safety net is armed: it undoes the changes under it when its time runs out. */
  netArmed: string[];
  /** Hosts where this run holds (or is taking) the lease, and no net. */
  leased: string[];
}

export class FleetRun {
  private sessions: HostSession[] = [];
  /** Aborted by Ctrl-C: every host starts nothing new (session.stop). */
  private readonly stop = new AbortController();
  /** The hosts whose phase is under way. */
  private readonly working = new Set<HostSession>();
  private settleTimer?: NodeJS.Timeout;

  constructor(private readonly opts: RunOptions) {}

  /** Connect to every host, gather facts and plan. Only a host with something to apply keeps its connection open. */
  async plan(jobs: HostJob[]): Promise<HostResult[]> {
    const { command, progress, hostTimeoutMs, confirmTimeoutS = CONFIRM_TIMEOUT_S } = this.opts;
    // apply holds each host from its facts to its confirmation: the lease lasts both phases' timeouts and the net's;
    // another run's is waited for up to half the host's time (a minute at most).
    const hostTimeoutS = Math.ceil(hostTimeoutMs / 1000);
    const lease = command === 'apply' ? { runId: newRunId(), seconds: 2 * hostTimeoutS + confirmTimeoutS, waitS: Math.min(60, Math.floor(hostTimeoutS / 2)) } : undefined;
    this.sessions = jobs.map((job) => newSession(job, this.stop.signal, lease));
    await this.forEachHost(this.sessions, command === 'apply' ? 'planning' : command, async (s) => {
      await planHost(s, progress, this.opts.connect ?? connectHost);
      // Stopped, a host is reported so, and gives back the lease it took for an apply that will not come.
      if (this.stop.signal.aborted) this.markFailed(s, 'interrupted');
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

  /**
   * Ctrl-C: start nothing new. A host that holds nothing for the run (audit, plan, or not connected yet) is dropped at
   * once; one that holds its lease finishes the round trip in flight and settles (host-run.ts). One that has not
   * within settleMs is dropped too, and left to its safety net and to its lease's end.
   */
  interrupt(): void {
    this.stop.abort();
    for (const s of this.working) if (!s.lease || !s.transport) drop(s);
    const settleMs = this.opts.settleMs ?? SETTLE_MS;
    this.settleTimer = setTimeout(() => {
      for (const s of this.working) {
        this.markFailed(s, `interrupted (Ctrl-C), and the host did not answer within ${settleMs / 1000} s: it is left to this run's safety net, if armed, and lease (fleetfix status shows them)`);
        drop(s);
      }
    }, settleMs);
  }

  unsettled(): Unsettled {
    const holding = this.sessions.filter((s) => s.net !== undefined || (s.lease && s.transport));
    return { netArmed: holding.filter((s) => s.net).map((s) => s.job.host.name), leased: holding.filter((s) => !s.net).map((s) => s.job.host.name) };
  }

  /** Give back the leases still held (taken for an apply that did not come) and close every connection, within settleMs. */
  async close(): Promise<void> {
    clearTimeout(this.settleTimer);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.settleMs ?? SETTLE_MS)));
    await Promise.race([Promise.all(this.sessions.map(release)), late]);
    clearTimeout(timer);
    for (const s of this.sessions) drop(s);
  }

  private async forEachHost(sessions: HostSession[], label: string, work: (s: HostSession) => Promise<void>): Promise<void> {
    const { progress, hostTimeoutMs } = this.opts;
    const limit = pLimit(Math.max(1, this.opts.forks));
    progress.start(sessions.length, label);
    await Promise.all(
      sessions.map((session) =>
        limit(async () => {
          if (this.stop.signal.aborted) return this.markFailed(session, 'interrupted before it started');
          this.working.add(session);
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), hostTimeoutMs);
          });
          const outcome = await Promise.race([work(session).catch((err: Error) => err), timedOut]);
          clearTimeout(timer);
          this.working.delete(session);
          if (outcome === 'timeout') {
            drop(session);
            this.markFailed(session, `timed out after ${hostTimeoutMs / 1000} s (--timeout)`);
          } else if (outcome instanceof Error) {
            this.markFailed(session, `internal error: ${outcome.message}`);
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

/** Cancel what the host is doing and drop its connection, without a word to it. */
function drop(session: HostSession): void {
  session.abort.abort();
  void session.transport?.close().catch(() => {});
}

function reported(session: HostSession): HostResult {
  return session.verdict ?? session.report ?? hostResult(session);
}
