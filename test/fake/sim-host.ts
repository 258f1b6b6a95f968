// A scripted fake host for the engine: it answers fleetfix's batches with facts recorded on a real lab host, and keeps
// the lease and the safety net as a host would. Used by the engine's unit tests and by the scale benchmark.
import { readFileSync } from 'node:fs';
import type { HostSpec } from '../../src/config/inventory.js';
import { factRound } from '../../src/engine/phases/gather.js';
import type { HostJob } from '../../src/engine/prepare.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../../src/transport/output-cap.js';
import { TransportError, type ExecResult, type Transport } from '../../src/transport/types.js';

export type SimState = 'healthy' | 'broken';
export type Facts = Record<string, ExecResult>;

/** The facts of the bundled playbook's checks on a lab host, healthy and broken, by fact key (npm run bench:record writes them). */
export const RECORDED_FACTS = new URL('../fixtures/sim-host/ssh-access-facts.json', import.meta.url);

export interface Recorded {
  vars: Record<string, string>;
  states: Record<SimState, Facts>;
}

export function loadRecorded(): Recorded {
  return JSON.parse(readFileSync(RECORDED_FACTS, 'utf8')) as Recorded;
}

/** What the engine sends, told apart by what the lease and net scripts (host-lock.ts, safety-net.ts) do. */
export type Kind = 'gather' | 'acquire' | 'renew' | 'release' | 'arm' | 'fire' | 'disarm' | 'guarded' | 'other';

function kindOf(script: string, gathers: Map<string, string>): Kind {
  if (gathers.has(script)) return 'gather';
  if (script.includes('ff_lock=/run/fleetfix-lock')) return 'acquire';
  if (script.includes('/run/fleetfix-lock/owner.new')) return 'renew';
  if (script.includes('rm -rf /run/fleetfix-lock')) return 'release';
  if (script.includes('mkdir -m 0700 /run/fleetfix-net')) return 'arm';
  if (script.includes('sh /run/fleetfix-net/fire ')) return 'fire';
  if (script.includes('mkdir /run/fleetfix-net/claimed')) return 'disarm';
  if (script.includes('/run/fleetfix-net/undo.')) return 'guarded';
  return 'other';
}

/** The quoted run id in a lease or net script (the first single-quoted run of digits or hex after `printf` or `=`). */
function runIdIn(script: string, kind: Kind): string {
  const pattern = kind === 'arm' ? /printf '%s\\n' '([0-9a-f]+)' > \/run\/fleetfix-net\/run/ : kind === 'acquire' ? /printf '%s %s %s\\n' '(\d+)'/ : /= '([0-9a-f]+)' \]/;
  return pattern.exec(script)?.[1] ?? '?';
}

export interface SimOptions {
  state: SimState;
  recorded: Recorded;
  /** Gather script -> fact key, for the facts the recording holds. */
  gathers: Map<string, string>;
  /** Milliseconds before each answer (the scale benchmark's round trip); none by default. */
  latency?: () => number;
  /** Another run's lease is on the host: taking it is refused, as host-lock.ts refuses an older run's. */
  leaseHeldBy?: string;
  /** The net fires (undoing the changes) before the confirmation comes: disarming, or firing it, finds it gone. */
  netFiresBeforeConfirm?: boolean;
  /**
   * Holds the first batch this picks (by its scripts' kinds, and those received before): it is answered once
   * `resume()` is called, and never if the connection is closed first (a host that stopped answering).
   */
  holdOn?: (kinds: Kind[], before: Kind[]) => boolean;
}

/**
 * A host that answers each script of a batch: a gather with the recorded facts of its current state; the lease and
 * net scripts by the lease and net it holds; anything else (a preflight, a fix, a handler) with success. A batch that
 * stops at the first failure and ran whole applied its fixes: the host is healthy from then on.
 */
export class SimHost implements Transport {
  readonly access = 'sim';
  readonly capabilities = { mergesStderr: false, primaryLogin: false };
  state: SimState;
  lease?: string;
  /** The armed net: its run, and the steps whose undo it recorded. */
  net?: { runId: string; steps: number[] };
  /** Every script received, by kind, in order: what the tests look at. */
  readonly received: Kind[] = [];
  closed = false;
  /** Resolves once the host holds a batch (holdOn). */
  readonly held: Promise<void>;
  private holding?: () => void;
  private resuming?: () => void;
  private closing?: () => void;

  constructor(private readonly opts: SimOptions) {
    this.state = opts.state;
    this.lease = opts.leaseHeldBy;
    this.held = new Promise((resolve) => (this.holding = resolve));
  }

  /** Answer the batch held (holdOn). */
  resume(): void {
    this.resuming?.();
  }

  async exec(script: string): Promise<ExecResult> {
    if (this.closed) throw new TransportError('connection-lost', 'the simulated host was closed');
    const wait = this.opts.latency?.() ?? 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const marker = /@@fleetfix:[0-9a-f]+/.exec(script)![0];
    const stopOnError = script.includes('] || exit 0;');
    // Each script sits in `(\nSCRIPT\n)`, or in `VAR=$(\nSCRIPT\n)` where the batch keeps its output (batch.ts).
    const scripts = script.split(`${marker}:begin:`).slice(1).map((part) => {
      const body = part.slice(part.indexOf('\n') + 1, part.indexOf('\nff_rc=$?'));
      return /^ff_fact_[0-9a-f]+=\$\(\n/.test(body) ? body.slice(body.indexOf('\n') + 1, -'\n)'.length) : body.slice(2, -2);
    });
    const kinds = scripts.map((s) => kindOf(s, this.opts.gathers));
    const before = [...this.received];
    this.received.push(...kinds);
    const hold = this.holding;
    if (hold && this.opts.holdOn?.(kinds, before)) {
      this.holding = undefined;
      // Closed while held (Ctrl-C's settling gave up, --timeout): nothing of the batch is known to have run.
      const resumed = new Promise<void>((resolve, reject) => {
        this.resuming = resolve;
        this.closing = () => reject(new TransportError('connection-lost', 'the simulated host was closed mid-batch'));
      });
      hold();
      await resumed;
    }
    const outputs: ExecResult[] = [];
    let changed = false;
    for (const [i, s] of scripts.entries()) {
      const kind = kinds[i]!;
      const out = this.answer(s, kind);
      outputs.push(out);
      if (kind === 'guarded' || kind === 'other') changed ||= stopOnError;
      if (stopOnError && out.code !== 0) break;
    }
    if (changed && outputs.every((o) => o.code === 0)) this.state = 'healthy';
    return {
      code: 0,
      stdout: outputs.map((o, i) => `${o.stdout}\n${marker}:end:${i}:${o.code}\n`).join(''),
      stderr: outputs.map((o, i) => `\n${marker}:begin:${i}\n${o.stderr}\n${marker}:end:${i}\n`).join(''),
    };
  }

  private answer(script: string, kind: Kind): ExecResult {
    const ok = { code: 0, stdout: '', stderr: '' };
    const refuse = (code: number, stderr: string) => ({ code, stdout: '', stderr });
    switch (kind) {
      case 'gather':
        return this.opts.recorded.states[this.state][this.opts.gathers.get(script)!]!;
      case 'acquire': {
        const id = runIdIn(script, kind);
        if (this.lease && this.lease !== id) return refuse(3, `busy: another fleetfix run (${this.lease}) is changing this host; its lease lapses at 12:00:00Z`);
        this.lease = id;
        return ok;
      }
      case 'renew':
        return this.lease === runIdIn(script, kind) ? ok : refuse(3, "this run's lease on the host lapsed; nothing applied");
      case 'release':
        if (this.lease === runIdIn(script, kind)) this.lease = undefined;
        return ok;
      case 'arm':
        if (this.net) return refuse(3, `a safety net of another fleetfix run is armed on this host (${this.net.runId}); not changing anything`);
        this.net = { runId: runIdIn(script, kind), steps: [] };
        return ok;
      case 'guarded':
        this.net?.steps.push(Number(/\/run\/fleetfix-net\/undo\.(\d{4})/.exec(script)![1]));
        return ok;
      case 'fire':
      case 'disarm': {
        const net = this.net;
        const firedAlready = !net || net.runId !== runIdIn(script, kind) || this.opts.netFiresBeforeConfirm;
        this.net = undefined;
        if (firedAlready || kind === 'fire') this.state = this.opts.state;
        if (firedAlready) return refuse(4, 'the safety net fired before fleetfix confirmed: the changes were undone');
        // Fired now: each undo recorded, newest first, then the restart (safety-net.ts's `fire`).
        return kind === 'fire' ? { ...ok, stdout: [...[...net.steps].reverse().map((s) => `undone ${String(s).padStart(4, '0')}`), 'restarted', ''].join('\n') } : ok;
      }
      default:
        return ok;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing?.();
  }
}

/** Hosts reached through `exec` (no fresh SSH login to verify), named sim0..simN-1. */
export function simSpecs(count: number): HostSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `sim${i}`,
    address: `sim${i}`,
    transport: 'exec',
    exec: 'simulated',
    groups: [],
    ssh: { label: 'ssh', port: 22, user: 'root', identities: [] },
    fallbacks: [],
    knownHosts: '/dev/null',
    hostKeyPolicy: 'strict',
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 60_000,
    maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES,
    vars: {},
  }));
}

/**
 * The jobs a simulated host can answer: checks whose facts come from this machine (ssh_login's login) are left out,
 * since a simulated host has no sshd to log in to. Returns them with the map from gather script to fact key.
 */
export function simJobs(jobs: HostJob[]): { jobs: HostJob[]; gathers: Map<string, string> } {
  const kept = jobs.map((j) => ({ ...j, checks: j.checks.filter((s) => !s.module.probe) }));
  // Every simulated host renders the same scripts: one map from gather script to fact for all.
  const first = kept[0];
  const gathers = new Map(first ? factRound([...first.checks, ...first.handlers]).uses.map((u) => [u.script, u.key] as const) : []);
  return { jobs: kept, gathers };
}
