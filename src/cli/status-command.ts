// fleetfix status: what each host holds for fleetfix runs (an armed safety net, a lease) and what its nets logged,
// changing nothing; with --confirm or --rollback, those hosts' nets are settled by hand first, under a lease of their own.
import pLimit from 'p-limit';
import { ConfigError } from '../config/errors.js';
import { loadCheckedInventory, type Inventory } from '../config/inventory.js';
import { limitHosts } from '../config/limit.js';
import { applySshConfig } from '../config/ssh-config.js';
import { redact } from '../config/secrets.js';
import { execBatch } from '../engine/batch.js';
import { connectHost } from '../engine/connect.js';
import { newRunId } from '../engine/host-lock.js';
import { parsePending, pendingScript, settleByHandScripts, settledByHand } from '../engine/pending.js';
import { connectPhase } from '../engine/phases/connect.js';
import { expectAnswers } from '../engine/phases/gather.js';
import { why } from '../engine/phases/text.js';
import { hostResult, newSession, type HostSession } from '../engine/session.js';
import { pendingChecks, settleCheck } from '../report/pending.js';
import { exitCodeFor, hostStatusFromChecks, runResult, type CheckResult, type HostResult } from '../report/model.js';
import { renderStatus } from '../report/status-text.js';
import { TransportError } from '../transport/types.js';
import { emitReport, type ReportOptions } from './emit.js';
import { progressFor } from './progress.js';
import { warn } from './warn.js';

export interface StatusOptions extends ReportOptions {
  inventory?: string;
  sshConfig?: string;
  limit?: string;
  forks: number;
  timeout: number;
  verbose?: boolean;
  confirm?: string[];
  rollback?: string[];
}

type Action = 'confirm' | 'rollback';

export async function runStatus(opts: StatusOptions): Promise<number> {
  const inventory = await loadCheckedInventory(opts.inventory);
  const selected = limitHosts(inventory, opts.limit, warn);
  const actions = settleActions(inventory, opts);
  const hosts = await applySshConfig(actions.size ? selected.filter((h) => actions.has(h.name)) : selected, { file: opts.sshConfig });
  const outside = [...actions.keys()].filter((name) => !hosts.some((h) => h.name === name));
  if (outside.length) throw new ConfigError(`status: ${outside.join(', ')}: not among the hosts --limit selects`);
  const progress = await progressFor(opts.output);
  const limit = pLimit(opts.forks);
  const runId = newRunId();
  // Nothing stops status but Ctrl-C, which ends the process: it reads only, and a net it settles is settled to its
  // end on the host whatever becomes of the connection (safety-net.ts).
  const stop = new AbortController().signal;
  progress.start(hosts.length, actions.size ? 'settling' : 'status');
  const results = await Promise.all(
    hosts.map((host) =>
      limit(async () => {
        progress.phase(host.name, 'connecting');
        const result = await withinTimeout(newSession({ host, checks: [], handlers: [] }, stop), opts.timeout, (s) => statusOf(s, actions.get(host.name), runId));
        progress.done(result);
        return result;
      }),
    ),
  );
  await progress.end();
  const run = runResult('status', results);
  await emitReport(run, opts, (style) => renderStatus(run, style, !!opts.verbose));
  return exitCodeFor(run.summary);
}

/** The hosts --confirm and --rollback name (as --limit patterns), each with its action; one host cannot have both. */
function settleActions(inventory: Inventory, opts: StatusOptions): Map<string, Action> {
  const actions = new Map<string, Action>();
  for (const action of ['confirm', 'rollback'] as const) {
    const patterns = opts[action] ?? [];
    if (!patterns.length) continue;
    for (const host of limitHosts(inventory, patterns.join(','), warn)) {
      if (actions.has(host.name)) throw new ConfigError(`status: ${host.name} is named by both --confirm and --rollback`);
      actions.set(host.name, action);
    }
  }
  return actions;
}

/** One host: reached as the other commands reach it, settled by hand if asked, then read. */
async function statusOf(session: HostSession, action: Action | undefined, runId: string): Promise<HostResult> {
  if (!(await connectPhase(session, connectHost))) return hostResult(session);
  const transport = session.transport!;
  try {
    const settled = action ? [await settleOn(session, action, runId)] : [];
    const [answer] = expectAnswers(await execBatch(transport, [pendingScript()], { stopOnError: false }), 1);
    const pending = parsePending(answer!.stdout);
    const checks: CheckResult[] = [...settled, ...pendingChecks(pending)];
    return { ...hostResult(session), status: hostStatusFromChecks('status', checks), durationMs: Date.now() - session.startedAt, checks, pending };
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return { ...hostResult(session), status: 'failed', error: redact(err.message), durationMs: Date.now() - session.startedAt };
  } finally {
    await transport.close().catch(() => {});
  }
}

/**
 * Settling by hand: under a lease of its own, refused while another live run holds the host. Confirming keeps
 * changes that may have locked SSH out, so it needs this very connection to be the host's own SSH login (where the
 * host is reached by SSH at all): that login working is what a run's fresh login would have proved.
 */
async function settleOn(session: HostSession, action: Action, runId: string): Promise<CheckResult> {
  const transport = session.transport!;
  if (action === 'confirm' && session.job.host.transport === 'ssh' && !transport.capabilities.primaryLogin) {
    return settleCheck(action, false, `refused: reached over ${transport.access}, not the host's own SSH login, so nothing shows that SSH works with the changes kept; --rollback undoes them`);
  }
  const answers = await execBatch(transport, settleByHandScripts(action, runId), { stopOnError: true });
  const refused = answers.find((a) => a.code !== 0);
  if (refused) return settleCheck(action, false, `refused: ${why(refused)}`);
  const [, answer] = expectAnswers(answers, 2);
  const { ok, message } = settledByHand(action, answer!.stdout);
  return settleCheck(action, ok, message);
}

/** `work` on the session, given up after `seconds` (--timeout): the host is then failed, its connection dropped. */
async function withinTimeout(session: HostSession, seconds: number, work: (s: HostSession) => Promise<HostResult>): Promise<HostResult> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), seconds * 1000)));
  const outcome = await Promise.race([work(session), timedOut]);
  clearTimeout(timer);
  if (outcome !== 'timeout') return outcome;
  session.abort.abort();
  await session.transport?.close().catch(() => {});
  return hostResult(session, `timed out after ${seconds} s (--timeout)`);
}
