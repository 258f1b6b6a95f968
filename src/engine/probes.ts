// The facts that come from this machine (a login as each user), gathered while the host runs its scripts.
import type { HostSpec } from '../config/inventory.js';
import type { ExecResult } from '../transport/types.js';
import type { PreparedStep } from './prepare.js';

/** Starts every probe of `steps` (not skipped) at once; resolves to each one's facts. */
export async function runProbes(steps: PreparedStep[], host: HostSpec, signal?: AbortSignal): Promise<Map<PreparedStep, ExecResult>> {
  const probing = steps.filter((s) => !s.skip && s.module.probe);
  const facts = await Promise.all(probing.map((s) => s.module.probe!(s.params, host, signal)));
  return new Map(probing.map((s, i) => [s, facts[i]!]));
}
