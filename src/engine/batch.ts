// Many scripts in one round trip: each runs in its own subshell between random markers, and its exit code is read back.
import { randomBytes } from 'node:crypto';
import type { ExecResult, Transport } from '../transport/types.js';

/** A script of a batch; `keepAs` also keeps its stdout in that shell variable, for later scripts of the batch to read. */
export type BatchScript = string | { script: string; keepAs?: string };

export interface BatchOptions {
  /** Stop at the first script that exits non-zero (apply); otherwise run them all (gather). */
  stopOnError: boolean;
  timeoutMs?: number;
}

/** Run `scripts` in one exec; returns one result per script that ran, in order. */
export async function execBatch(transport: Transport, scripts: BatchScript[], opts: BatchOptions): Promise<ExecResult[]> {
  if (scripts.length === 0) return [];
  const marker = `@@fleetfix:${randomBytes(8).toString('hex')}`;
  const body = scripts
    .map((entry, i) => {
      const { script, keepAs } = typeof entry === 'string' ? { script: entry, keepAs: undefined } : entry;
      if (keepAs !== undefined && !/^ff_fact_[0-9a-f]+$/.test(keepAs)) throw new Error(`not a fact variable: ${keepAs}`);
      const onError = opts.stopOnError ? ` [ "$ff_rc" -eq 0 ] || exit 0;` : '';
      // Each script runs in a subshell; one kept runs in a command substitution (a subshell too), and its output is printed after.
      const run = keepAs ? `${keepAs}=$(\n${script}\n)\nff_rc=$?\nprintf '%s\\n' "$${keepAs}"` : `(\n${script}\n)\nff_rc=$?`;
      return `printf '\\n${marker}:begin:${i}\\n' >&2\n${run}\nprintf '\\n${marker}:end:${i}:%s\\n' "$ff_rc"\nprintf '\\n${marker}:end:${i}\\n' >&2;${onError}`;
    })
    .join('\n');
  // The batch ends here, explicitly: the shell reads its script from stdin, and nothing after it is ever run.
  const result = await transport.exec(`${body}\nexit 0\n`, { timeoutMs: opts.timeoutMs });
  return splitBatch(result, marker, scripts.length, transport.capabilities.mergesStderr);
}

/** Pure: cut the combined output back into per-script results. */
export function splitBatch(result: ExecResult, marker: string, count: number, mergesStderr: boolean): ExecResult[] {
  // A transport that merges stderr into stdout (a console) shows the stderr markers there: they are dropped first.
  const cleaned = mergesStderr ? result.stdout.replace(new RegExp(`\\n${marker}:(?:begin|end):\\d+\\n`, 'g'), '') : result.stdout;
  const stdoutParts = cleaned.split(`\n${marker}:end:`);
  const stderrById = new Map<number, string>();
  for (const part of result.stderr.split(`\n${marker}:`)) {
    const m = /^begin:(\d+)\n([\s\S]*)$/.exec(part);
    if (m) stderrById.set(Number(m[1]), m[2]!);
  }
  const out: ExecResult[] = [];
  for (let i = 0; i < count && i < stdoutParts.length - 1; i++) {
    const stdout = i === 0 ? stdoutParts[0]! : stdoutParts[i]!.replace(/^\d+:\d+\n?/, '');
    const codeMatch = /^(\d+):(\d+)/.exec(stdoutParts[i + 1]!);
    if (!codeMatch) break;
    out.push({ code: Number(codeMatch[2]), stdout, stderr: (stderrById.get(i) ?? '').replace(/\n$/, '') });
  }
  return out;
}
