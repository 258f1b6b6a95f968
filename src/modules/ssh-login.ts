// ssh_login module (check only, run from this machine): a fresh SSH authentication as the user with the operator's key.
import { z } from 'zod';
import { intLike, nameString } from '../config/fields.js';
import { connectSsh } from '../engine/connect.js';
import { first, parseRecords } from '../facts/records.js';
import { TransportError } from '../transport/types.js';
import { defineModule, type CheckPlan } from './types.js';

const params = z.strictObject({
  user: nameString('user'),
  /** The port logins come to; the inventory's by default. */
  port: intLike(1, 65535).optional(),
});
type Params = z.output<typeof params>;

/** Waits before each new attempt while the port refuses or sshd hangs up before authentication. */
const REFUSED_RETRY_MS = [100, 200, 400, 800];

/** The facts of a login that worked, or that failed with `err`. */
function loginFacts(err?: TransportError) {
  return err ? { code: 0, stdout: `login=failed\nkind=${err.kind}\nwhy=${err.message.replace(/\n/g, ' ')}\n`, stderr: '' } : { code: 0, stdout: 'login=ok\n', stderr: '' };
}

export const sshLoginModule = defineModule({
  name: 'ssh_login',
  summary: "check only: a fresh SSH login as the user with the operator's key works (authentication only, nothing run)",
  params,
  /** Authenticates with the inventory's keys and agent (never its password) and host key checks, then hangs up. */
  async probe(p: Params, host, signal) {
    const access = { ...host.ssh, label: `ssh as ${p.user}`, user: p.user, port: p.port ?? host.ssh.port, password: undefined };
    for (let attempt = 0; ; attempt++) {
      try {
        const session = await connectSsh({ ...host, become: undefined }, access, signal);
        await session.close();
        return loginFacts();
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        // Right after apply restarted sshd, the port may refuse for a moment; and a low MaxStartups may drop this
        // login while fleetfix's own session, beside it, is still counted as unauthenticated. A few tries decide.
        const wait = REFUSED_RETRY_MS[attempt];
        if ((err.kind === 'connect-refused' || err.kind === 'connection-lost') && wait !== undefined && !signal?.aborted) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        return loginFacts(err);
      }
    }
  },
  /** The inventory's own user and port, keys only (no password), with no sudo in between: the engine's login is this one. */
  probeByLogin(p: Params, host) {
    const same = p.user === host.ssh.user && (p.port ?? host.ssh.port) === host.ssh.port && !host.ssh.password && (host.become !== 'sudo' || p.user === 'root');
    return same ? loginFacts : undefined;
  },
  plan(p: Params, facts): CheckPlan {
    const r = parseRecords(facts.probe!.stdout);
    const at = `${p.user}@ on port ${p.port ?? 'the inventory\'s'}`.replace('@ on', ' on');
    if (first(r, 'login') === 'ok') return { ok: true, message: `a fresh SSH login as ${at} with the operator's key works`, changes: [] };
    return { ok: false, message: `a fresh SSH login as ${at} with the operator's key fails (${first(r, 'kind') ?? 'unknown'}): ${first(r, 'why') ?? 'no answer'}`, changes: [] };
  },
});
