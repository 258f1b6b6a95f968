// Verify: every check again (fixes must hold; observations get their new reading), over a fresh SSH login on the
// host's primary path where one proves the host reachable: that login's first round trip is the re-check itself.
import { TransportError, type Transport } from '../../transport/types.js';
import type { SshTransport } from '../../transport/ssh.js';
import { connectSsh } from '../connect.js';
import { runProbes } from '../probes.js';
import type { HostSession } from '../session.js';
import { gatherFacts } from './gather.js';
import { planSteps } from './plan.js';

/** Re-gather and re-plan every check over `transport`; `login` (the engine's own login's outcome) answers a probe that would be that same login. */
export async function recheck(session: HostSession, transport: Transport, login?: Promise<TransportError | undefined>): Promise<void> {
  const steps = session.checks.map((c) => c.prepared);
  const { facts } = await gatherFacts(transport, steps, { probed: runProbes(steps, session.job.host, session.abort.signal, login) });
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

/**
 * A fresh login over the primary path with the operator's key, and the re-check over it: a round trip that ran there
 * proves that the user gets in and a command runs. Returns why the login or that round trip failed (nothing is then
 * re-checked: the caller does it over the session still open), or undefined.
 */
export async function recheckOverFreshLogin(session: HostSession): Promise<TransportError | undefined> {
  let fresh: SshTransport;
  try {
    fresh = await freshLogin(session);
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return err;
  }
  // Ctrl-C or the host's --timeout drop the session's connection; this one goes with it.
  const drop = () => void fresh.close().catch(() => {});
  session.abort.signal.addEventListener('abort', drop, { once: true });
  try {
    await recheck(session, fresh, Promise.resolve(undefined));
    return undefined;
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return err;
  } finally {
    session.abort.signal.removeEventListener('abort', drop);
    await fresh.close();
  }
}

/** Waits before each new login attempt while the port refuses: a restarted sshd may not be listening yet. */
const REFUSED_RETRY_MS = [100, 200, 400, 800];

/** A fresh login over the primary path with the operator's key, running `exit 0`: why it fails, or undefined. */
export async function loginFails(session: HostSession): Promise<TransportError | undefined> {
  try {
    const fresh = await freshLogin(session);
    const probe = await fresh.exec('exit 0').finally(() => fresh.close());
    return probe.code === 0 ? undefined : new TransportError('protocol', `the verification command exited ${probe.code}`);
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return err;
  }
}

/** A new SSH connection over the primary path, tried again while the port refuses (bounded by REFUSED_RETRY_MS). */
async function freshLogin(session: HostSession): Promise<SshTransport> {
  const { host } = session.job;
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectSsh(host, host.ssh, session.abort.signal);
    } catch (err) {
      const wait = REFUSED_RETRY_MS[attempt];
      if (!(err instanceof TransportError) || err.kind !== 'connect-refused' || wait === undefined || session.abort.signal.aborted) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
