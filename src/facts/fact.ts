// Named facts (pyinfra's FactBase): a shell script whose output checks read; a fact two checks name alike is gathered once.
import { createHash } from 'node:crypto';

/** A kind of fact: its name, and the script that prints it for given arguments. */
export interface Fact<A> {
  name: string;
  script(args: A): string;
  /** Facts this one's script reads on the host, from their `variable`: gathered first, in the same round trip. */
  after?(args: A): FactUse[];
}

/** One fact for given arguments, as a check names it: what the engine gathers (once per key) and hands to the plan. */
export interface FactUse {
  /** The fact's name and arguments: two uses with one key are one fact. */
  readonly key: string;
  readonly script: string;
  readonly after: FactUse[];
  /** The shell variable that holds its output on the host, for a later fact of the same round trip that reads it. */
  readonly variable: string;
}

/** Names `fact` for given arguments; its script, what it reads and its variable are made only when asked for. */
export function defineFact<A>(fact: Fact<A>): (args: A) => FactUse {
  return (args) => new NamedFact(fact, args, args === undefined ? fact.name : `${fact.name} ${stableJson(args)}`);
}

class NamedFact<A> implements FactUse {
  private made?: { script: string; after: FactUse[] };

  constructor(
    private readonly fact: Fact<A>,
    private readonly args: A,
    readonly key: string,
  ) {}

  get script(): string {
    return (this.made ??= this.make()).script;
  }

  get after(): FactUse[] {
    return (this.made ??= this.make()).after;
  }

  get variable(): string {
    return `ff_fact_${createHash('sha256').update(this.key).digest('hex').slice(0, 16)}`;
  }

  private make(): { script: string; after: FactUse[] } {
    return { script: this.fact.script(this.args), after: this.fact.after?.(this.args) ?? [] };
  }
}

/** Every fact `uses` need, each once, a fact after those it reads: the order a round trip gathers them in. */
export function gatherOrder(uses: FactUse[]): FactUse[] {
  const ordered = new Map<string, FactUse>();
  const visit = (use: FactUse) => {
    if (ordered.has(use.key)) return;
    use.after.forEach(visit);
    ordered.set(use.key, use);
  };
  uses.forEach(visit);
  return [...ordered.values()];
}

/** JSON with object keys sorted and undefined left out: one text for equal arguments. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
