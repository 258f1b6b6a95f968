// The one result model: what every reporter renders and what --output json prints.

export type Command = 'audit' | 'plan' | 'apply' | 'diagnose' | 'status';
export type HostStatus = 'compliant' | 'drift' | 'fixed' | 'unreachable' | 'failed';
/** `finding`: the state is as wanted, but something worth knowing was seen (a log line naming a cause, a nologin shell). */
export type CheckStatus = 'pass' | 'finding' | 'fail' | 'fixed' | 'error' | 'skipped';

export interface ChangeResult {
  summary: string;
  diff?: string;
}

export interface CheckResult {
  id: string;
  title: string;
  kind: 'check' | 'handler';
  status: CheckStatus;
  message: string;
  changes: ChangeResult[];
  findings?: string[];
}

export interface Diagnosis {
  cause: string;
  detail: string;
  /** What to do about the cause: one sentence, the same for every host with that cause. */
  remedy?: string;
}

export interface HostResult {
  name: string;
  address: string;
  status: HostStatus;
  access?: string;
  diagnosis?: Diagnosis;
  /** The ways in that failed before `access` worked (or all of them, when unreachable), in order. */
  attempts?: { access: string; error: string }[];
  error?: string;
  durationMs: number;
  checks: CheckResult[];
  /** `status` only: what the host holds for fleetfix runs. */
  pending?: HostPending;
}

/** What a host holds for fleetfix runs, as `fleetfix status` read it; times are the host's clock, as ISO 8601. */
export interface HostPending {
  now: string;
  /** The armed safety net: the run that armed it, when it fires, and what it will undo (newest first, as it runs them). */
  net?: { run: string; firesAt?: string; firing: boolean; undo: string[] };
  /** The lease: the run that holds the host, until when, and whether the connection that run took it over is still open. */
  lease?: { run: string; until?: string; owner: 'connected' | 'gone' | 'unknown' };
  /** The last lines of the safety nets' log, /var/log/fleetfix.log, oldest first. */
  log: string[];
}

export interface RunSummary {
  hosts: number;
  compliant: number;
  drift: number;
  fixed: number;
  unreachable: number;
  failed: number;
  changes: number;
  /** Findings on every host's checks, whatever their status. */
  findings: number;
}

export interface RunResult {
  version: 1;
  command: Command;
  summary: RunSummary;
  hosts: HostResult[];
}

/** A host's status from its checks (unreachable is decided by the engine before any check runs). */
export function hostStatusFromChecks(command: Command, checks: Pick<CheckResult, 'status'>[]): HostStatus {
  if (checks.some((c) => c.status === 'error')) return 'failed';
  // After apply every fix was made (fixed) or failed (error); what still fails only observes (a log line, a port)
  // and has no fix: it is reported, but it does not fail the host.
  if (command === 'apply') return checks.some((c) => c.status === 'fixed') ? 'fixed' : 'compliant';
  return checks.some((c) => c.status === 'fail') ? 'drift' : 'compliant';
}

/**
 * The counts of a run. Its changes are what happened: on apply, those made (on fixed checks); a change planned but
 * never made (its host failed, or an earlier fix did) is not one. Elsewhere, those pending (on failing checks).
 */
export function summarize(command: Command, hosts: HostResult[]): RunSummary {
  const summary: RunSummary = { hosts: hosts.length, compliant: 0, drift: 0, fixed: 0, unreachable: 0, failed: 0, changes: 0, findings: 0 };
  const counted: CheckResult['status'] = command === 'apply' ? 'fixed' : 'fail';
  for (const h of hosts) {
    summary[h.status]++;
    for (const c of h.checks) summary.findings += c.findings?.length ?? 0;
    for (const c of h.checks) if (c.status === counted) summary.changes += c.changes.length;
  }
  return summary;
}

export const EXIT = { ok: 0, badInput: 1, drift: 2, failed: 3, interrupted: 130 } as const;

export function exitCodeFor(summary: RunSummary): number {
  if (summary.unreachable > 0 || summary.failed > 0) return EXIT.failed;
  if (summary.drift > 0) return EXIT.drift;
  return EXIT.ok;
}

export function runResult(command: Command, hosts: HostResult[]): RunResult {
  return { version: 1, command, summary: summarize(command, hosts), hosts };
}
