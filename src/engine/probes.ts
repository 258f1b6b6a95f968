// The facts that come from this machine (a login as each user), gathered while the host runs its scripts.
import type { HostSpec } from '../config/inventory.js';
import type { ExecResult, TransportError } from '../transport/types.js';
import type { PreparedStep } from './prepare.js';

/**
 * Starts every probe of `steps` (not skipped) at once; resolves to each one's facts. `login` is a login the engine
 * makes itself over the primary path (resolving to its failure, or undefined when it worked): a probe that is that
 * same login takes its outcome instead of logging in a second time.
 */
export async function runProbes(steps: PreparedStep[], host: HostSpec, signal?: AbortSignal, login?: Promise<TransportError | undefined>): Promise<Map<PreparedStep, ExecResult>> {
  const probing = steps.filter((s) => !s.skip && s.module.probe);
  const facts = await Promise.all(
    probing.map(async (s) => {
      const byLogin = login && s.module.probeByLogin?.(s.params, host);
      return byLogin ? byLogin(await login) : s.module.probe!(s.params, host, signal);
    }),
  );
  return new Map(probing.map((s, i) => [s, facts[i]!]));
}
