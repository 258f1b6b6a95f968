// The module contract: gather facts with one shell script, plan changes with a pure function; the engine alone applies.
import type { z } from 'zod';
import type { HostSpec } from '../config/inventory.js';
import type { ExecResult, TransportError } from '../transport/types.js';

/** One change a fix makes. `script` is run by the engine on apply (sh, on stdin); it never runs in a dry run. */
export interface Change {
  summary: string;
  diff?: string;
  script: string;
  /** A read-only script run while planning (dry runs too): a non-zero exit means the host would refuse the change. */
  preflight?: string;
  /** Undoes `script` (restores the backup it made), run when the change left the host unreachable over SSH. */
  rollback?: string;
}

/** What a module concluded about one check on one host. */
export interface CheckPlan {
  /** The host is already in the wanted state. */
  ok: boolean;
  message: string;
  /** The fix, in order; empty when ok, when the check only observes, or when the module cannot fix it. */
  changes: Change[];
  /** Facts that make a fix impossible or the state unknowable (an unknown user, a symlink where a file should be). */
  error?: string;
  /** Things worth knowing that decide nothing by themselves (a log line naming a cause), shown with any status. */
  findings?: string[];
}

export interface ModuleDef<P = unknown> {
  name: string;
  summary: string;
  /** Strict schema of the module's parameters, after {{ var }} substitution. */
  params: z.ZodType<P>;
  /** Shell script whose output is this module's facts. */
  gather(params: P): string;
  /**
   * Facts gathered from this machine instead (a login as a user): when set, `gather` is never sent, and the engine
   * runs this beside the host's scripts. A check whose facts come from here must pass after apply for the host to be fixed.
   */
  probe?(params: P, host: HostSpec, signal?: AbortSignal): Promise<ExecResult>;
  /**
   * Where the probe is the very login the engine makes itself (a key login as the inventory's user, on its port, over
   * its primary path): the facts for that login's outcome (`failure` undefined when it worked), so that the engine's
   * own login answers the probe instead of a second, identical one. Undefined where the probe asks something else.
   */
  probeByLogin?(params: P, host: HostSpec): ((failure?: TransportError) => ExecResult) | undefined;
  /** Pure: decide from the facts what (if anything) must change. */
  plan(params: P, facts: ExecResult): CheckPlan;
}

/** Helper so each module keeps its parameter type while the registry holds them together. */
export function defineModule<S extends z.ZodType>(def: ModuleDef<z.output<S>> & { params: S }): ModuleDef<unknown> {
  return def as unknown as ModuleDef<unknown>;
}
