// Gather: every distinct fact the steps name, in one round trip (a fact another reads goes first and is kept on the
// host), and the probes from this machine beside it; each step gets its facts by the names its module gave them.
import { gatherOrder, type FactUse } from '../../facts/fact.js';
import type { Facts, ModuleDef } from '../../modules/types.js';
import { TransportError, type ExecResult, type Transport } from '../../transport/types.js';
import { execBatch, type BatchScript } from '../batch.js';
import type { PreparedStep } from '../prepare.js';

/** The scripts of one gathering, and how to hand their answers back to the steps. */
export interface FactRound {
  /** Each distinct fact, in the order gathered. */
  uses: FactUse[];
  scripts: BatchScript[];
  /** Each step's facts from the answers to `scripts` (in order), and the probes' from `probed`. */
  facts(answers: ExecResult[], probed?: Map<PreparedStep, ExecResult>): Map<PreparedStep, Facts>;
}

export function factRound(steps: PreparedStep[]): FactRound {
  const named = steps.filter((s) => !s.skip && s.module.facts).map((s) => [s, s.module.facts!(s.params)] as const);
  const order = gatherOrder(named.flatMap(([, uses]) => Object.values(uses)));
  const read = new Set(order.flatMap((u) => u.after.map((a) => a.key)));
  const scripts = order.map((u: FactUse) => (read.has(u.key) ? { script: u.script, keepAs: u.variable } : u.script));
  return {
    uses: order,
    scripts,
    facts(answers, probed) {
      const byKey = new Map(order.map((u, i) => [u.key, answers[i]!]));
      const out = new Map<PreparedStep, Facts>(named.map(([s, uses]) => [s, Object.fromEntries(Object.entries(uses).map(([name, u]) => [name, byKey.get(u.key)!]))]));
      for (const [s, result] of probed ?? []) out.set(s, { probe: result });
      return out;
    },
  };
}

/**
 * One round trip: `first` (taking the lease) ahead, then the facts of `steps`; `probed` runs beside it. Returns the
 * answer to `first` and each step's facts; a round trip cut short is a transport failure.
 */
export async function gatherFacts(transport: Transport, steps: PreparedStep[], opts: { first?: string; probed?: Promise<Map<PreparedStep, ExecResult>> } = {}): Promise<{ first?: ExecResult; facts: Map<PreparedStep, Facts> }> {
  const round = factRound(steps);
  const sent = [...(opts.first ? [opts.first] : []), ...round.scripts];
  const answers = expectAnswers(await execBatch(transport, sent, { stopOnError: false }), sent.length);
  const first = opts.first ? answers.shift() : undefined;
  return { first, facts: round.facts(answers, await opts.probed) };
}

/** The facts one check of `module` with `params` reads, gathered on its own (tools and tests that look at one module). */
export async function factsOf(transport: Transport, module: ModuleDef, params: unknown): Promise<Facts> {
  const step = { step: { id: module.name }, module, params } as PreparedStep;
  const { facts } = await gatherFacts(transport, [step]);
  return facts.get(step) ?? {};
}

/** A batch's results, when every script it sent answered; a batch cut short is a transport failure. */
export function expectAnswers(results: ExecResult[], sent: number): ExecResult[] {
  if (results.length !== sent) throw new TransportError('protocol', `the host answered ${results.length} of ${sent} scripts`);
  return results;
}
