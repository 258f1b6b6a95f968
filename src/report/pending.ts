// `fleetfix status` in the one result model: what a host holds for fleetfix runs (its safety net, its lease, its nets'
// log) as one check each, so that every format shows it; a net armed or a lease held fails its check (the host is
// `drift`: something is pending there).
import type { CheckResult, HostPending } from './model.js';

export function pendingChecks(pending: HostPending): CheckResult[] {
  return [netCheck(pending), leaseCheck(pending), logCheck(pending)];
}

/** What `status --confirm` or `--rollback` did on the host: fixed when it settled, an error when it was refused or failed. */
export function settleCheck(action: 'confirm' | 'rollback', ok: boolean, message: string): CheckResult {
  return check('settle', `settled by hand (--${action})`, ok ? 'fixed' : 'error', message);
}

/** Keys in the contract's order. */
function check(id: string, title: string, status: CheckResult['status'], message: string, changes: CheckResult['changes'] = [], findings?: string[]): CheckResult {
  return { id, title, kind: 'check', status, message, changes, findings };
}

function netCheck({ net, now }: HostPending): CheckResult {
  const title = 'a safety net armed on the host';
  if (!net) return check('safety-net', title, 'pass', 'none armed');
  if (net.firing) return check('safety-net', title, 'fail', `the safety net of run ${net.run} is firing: it is undoing that run's changes`);
  const n = net.undo.length;
  const undo = n ? `then it undoes ${n} change${n === 1 ? '' : 's'}, newest first, and restarts sshd` : 'no change is recorded under it yet';
  return check('safety-net', title, 'fail', `armed by run ${net.run}; it fires ${when(net.firesAt, now)}; ${undo}`, net.undo.map((summary) => ({ summary: `undo: ${summary}` })));
}

function leaseCheck({ lease, net, now }: HostPending): CheckResult {
  const title = "a fleetfix run's lease on the host";
  if (!lease) return check('lease', title, 'pass', 'free');
  const lapsed = lease.until !== undefined && Date.parse(lease.until) <= Date.parse(now);
  if (lapsed) return check('lease', title, 'finding', `left by run ${lease.run}: it lapsed at ${lease.until}, and the next run takes the host`);
  if (lease.owner === 'gone' && net?.run !== lease.run) return check('lease', title, 'finding', `left by run ${lease.run}, whose connection is gone and whose safety net has fired or was never armed: the next run takes the host`);
  if (lease.owner === 'gone') return check('lease', title, 'fail', `held by run ${lease.run}, whose connection is gone: the host is free once its safety net has fired, or once settled by hand (fleetfix status --confirm or --rollback)`);
  const owner = lease.owner === 'connected' ? 'the connection that run holds it over is open' : 'the host cannot tell whether that run is still connected (a console or exec transport), so the lease stands until then';
  return check('lease', title, 'fail', `held by run ${lease.run} until ${lease.until ?? 'an unknown time'}; ${owner}`);
}

function logCheck({ log }: HostPending): CheckResult {
  const title = "the safety nets' log, /var/log/fleetfix.log";
  if (!log.length) return check('log', title, 'pass', 'empty or absent');
  return check('log', title, 'finding', `its last ${log.length} line${log.length === 1 ? '' : 's'}`, [], log);
}

/** When a time on the host's clock comes, relative to the host's `now`. */
function when(at: string | undefined, now: string): string {
  if (!at) return 'at an unknown time';
  const inS = Math.round((Date.parse(at) - Date.parse(now)) / 1000);
  return Number.isNaN(inS) ? `at ${at}` : `at ${at} (${inS >= 0 ? `in ${inS} s` : `${-inS} s overdue`})`;
}
