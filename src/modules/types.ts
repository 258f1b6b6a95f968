// The module contract: name the facts to gather (shared between checks), plan changes with a pure function; the engine alone applies.
import type { z } from 'zod';
import type { HostSpec } from '../config/inventory.js';
import type { FactUse } from '../facts/fact.js';
import type { FileStat } from '../facts/files.js';
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
  /** What the fix leaves at each path it changes: the checks planned after it plan against that (see PlannedState). */
  leaves?: PlannedPath[];
  /**
   * Planned against what the fixes of checks after it in the playbook leave too (a file in a directory a later check
   * makes safe): the fix is made after theirs. The number is the planning round that found it (1, 2, ...).
   */
  deferred?: number;
}

/** A path as a planned fix leaves it: its attributes where the fix sets them, and its whole content where it writes it. */
export interface PlannedPath {
  path: string;
  stat?: FileStat;
  content?: string;
}

/**
 * What the fixes planned before a check leave on the host, by real path: a check plans against that instead of what
 * its facts saw, so that a fix inside a directory another fix makes safe is planned, in that order, not refused.
 * Every change still re-checks the host's real state right before it is made.
 */
export type PlannedState = ReadonlyMap<string, PlannedPath>;

export interface ModuleDef<P = unknown> {
  name: string;
  summary: string;
  /** Strict schema of the module's parameters, after {{ var }} substitution. */
  params: z.ZodType<P>;
  /** The facts the plan reads, by the name it reads them under; gathered from the host in one round trip. */
  facts?(params: P): Record<string, FactUse>;
  /**
   * The fact gathered from this machine instead (a login as a user), read by the plan as `probe`: the engine runs it
   * beside the host's scripts. A check whose facts come from here must pass after apply for the host to be fixed.
   */
  probe?(params: P, host: HostSpec, signal?: AbortSignal): Promise<ExecResult>;
  /**
   * Where the probe is the very login the engine makes itself (a key login as the inventory's user, on its port, over
   * its primary path): the facts for that login's outcome (`failure` undefined when it worked), so that the engine's
   * own login answers the probe instead of a second, identical one. Undefined where the probe asks something else.
   */
  probeByLogin?(params: P, host: HostSpec): ((failure?: TransportError) => ExecResult) | undefined;
  /** Pure: decide from the facts (by the names `facts` gave them), and the fixes planned before, what must change. */
  plan(params: P, facts: Facts, planned: PlannedState): CheckPlan;
}

/** A check's facts, by the names its module gave them. */
export type Facts = Record<string, ExecResult>;

/** Helper so each module keeps its parameter type while the registry holds them together. */
export function defineModule<S extends z.ZodType>(def: ModuleDef<z.output<S>> & { params: S }): ModuleDef<unknown> {
  return def as unknown as ModuleDef<unknown>;
}
