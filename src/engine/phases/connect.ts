// Connect: the first path in that works (SSH, its fallbacks, the console); unreachable, with every path tried and a
// diagnosis from this machine, when none does.
import { redact } from '../../config/secrets.js';
import { asDiagnosis } from '../../diagnose/causes.js';
import { Unreachable, type AccessAttempt, type ConnectFn } from '../connect.js';
import type { HostSession } from '../session.js';

/** Whether the host was reached: then `session.transport` is its connection. */
export async function connectPhase(session: HostSession, connect: ConnectFn): Promise<boolean> {
  const { host } = session;
  try {
    const { transport, attempts, diagnosis } = await connect(session.job.host, session.abort.signal);
    session.transport = transport;
    host.access = transport.access;
    if (attempts.length) host.attempts = reportAttempts(attempts);
    if (diagnosis) host.diagnosis = asDiagnosis(await diagnosis);
    return true;
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    Object.assign(host, { status: 'unreachable', error: redact(err.message), attempts: reportAttempts(err.attempts) });
    // A connect cancelled by --timeout or Ctrl-C says nothing about the host.
    if (err.diagnosis && !session.abort.signal.aborted) host.diagnosis = asDiagnosis(await err.diagnosis);
    return false;
  }
}

function reportAttempts(attempts: AccessAttempt[]): HostSession['host']['attempts'] {
  return attempts.map((a) => ({ access: a.access, error: redact(a.error.message) }));
}
