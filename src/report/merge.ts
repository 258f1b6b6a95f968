// fleetfix report merge: the JSON reports of shards (or of any runs over disjoint hosts) as one, summary recomputed.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { runResult, type RunResult } from './model.js';

/**
 * What merge needs of a report, checked before it is trusted: the envelope and each host's name and status (the
 * summary is counted from them). Other fields pass through as they are, so a report with more in it still merges.
 */
const HOST_STATUS = z.enum(['compliant', 'drift', 'fixed', 'unreachable', 'failed']);
const REPORT = z.looseObject({
  version: z.literal(1),
  command: z.enum(['audit', 'plan', 'apply', 'diagnose']),
  hosts: z.array(
    z.looseObject({
      name: z.string(),
      status: HOST_STATUS,
      checks: z.array(z.looseObject({ status: z.string(), changes: z.array(z.looseObject({})) })),
    }),
  ),
});

export interface NamedReport {
  path: string;
  run: RunResult;
}

export function readReport(path: string): NamedReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`report merge: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`report merge: ${path} is not JSON (${(err as Error).message}); merge reads the reports of --output json or --report FILE.json`);
  }
  const parsed = REPORT.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`report merge: ${path} is not a fleetfix report: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return { path, run: parsed.data as unknown as RunResult };
}

/** One report of every host, in the order given; refused when the reports are of different commands or share a host. */
export function mergeReports(reports: NamedReport[]): RunResult {
  const first = reports[0];
  if (!first) throw new ConfigError('report merge: name at least one JSON report');
  const other = reports.find((r) => r.run.command !== first.run.command);
  if (other) throw new ConfigError(`report merge: ${first.path} is a report of "${first.run.command}" but ${other.path} is of "${other.run.command}"; merge reports of one command`);
  const seen = new Map<string, string>();
  for (const { path, run } of reports) {
    for (const h of run.hosts) {
      const before = seen.get(h.name);
      if (before !== undefined) throw new ConfigError(`report merge: host "${h.name}" is in both ${before} and ${path}; merged reports must cover disjoint hosts (one report per shard)`);
      seen.set(h.name, path);
    }
  }
  return runResult(first.run.command, reports.flatMap((r) => r.run.hosts));
}
