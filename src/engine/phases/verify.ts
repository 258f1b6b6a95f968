// Verify: every check again (fixes must hold; observations get their new reading), beside a fresh SSH login over the
// host's primary path: only that login proves the host reachable.
import { TransportError } from '../../transport/types.js';
import { connectSsh } from '../connect.js';
import { runProbes } from '../probes.js';
import type { HostSession } from '../session.js';
import { gatherFacts } from './gather.js';
import { planSteps } from './plan.js';

/** Re-gather and re-plan every check; `login` (the fresh login in flight) answers a probe that would be that same login. */
export async function recheck(session: HostSession, login?: Promise<TransportError | undefined>): Promise<void> {
  const steps = session.checks.map((c) => c.prepared);
  const { facts } = await gatherFacts(session.transport!, steps, { probed: runProbes(steps, session.job.host, session.abort.signal, login) });
  const plans = planSteps(steps, facts);
  session.checks.forEach((c, i) => {
    const plan = plans[i]!;
    if (c.status === 'error' || c.status === 'skipped') return;
    c.plan = plan;
    c.findings = plan.findings?.length ? plan.findings : undefined;
    if (plan.ok) {
      if (c.status === 'fail') Object.assign(c, { status: 'pass', message: plan.message });
      if (c.status === 'pass' || c.status === 'finding') c.status = c.findings ? 'finding' : 'pass';
    } else if (plan.changes.length > 0 || plan.error || c.prepared.module.probe) {
      Object.assign(c, { status: 'error', message: `still not as wanted after apply: ${plan.error ?? plan.message}` });
    } else {
      Object.assign(c, { status: 'fail', message: plan.message });
    }
  });
}

/** Waits before each new login attempt while the port refuses: a restarted sshd may not be listening yet. */
const REFUSED_RETRY_MS = [100, 200, 400, 800];

/** A fresh login over the primary path with the operator's key, running `exit 0`: why it fails, or undefined. */
export async function loginFails(session: HostSession): Promise<TransportError | undefined> {
  const { host } = session.job;
  for (let attempt = 0; ; attempt++) {
    try {
      const fresh = await connectSsh(host, host.ssh, session.abort.signal);
      const probe = await fresh.exec('exit 0');
      await fresh.close();
      return probe.code === 0 ? undefined : new TransportError('protocol', `the verification command exited ${probe.code}`);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      const wait = REFUSED_RETRY_MS[attempt];
      if (err.kind !== 'connect-refused' || wait === undefined || session.abort.signal.aborted) return err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
