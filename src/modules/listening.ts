// listening module (check only): the SSH port is listening on an address other than loopback.
import { z } from 'zod';
import { intLike } from '../config/fields.js';
import { isLoopback, parseProcNetTcp, parseSs, type Listener } from '../facts/listening.js';
import { first, parseRecords } from '../facts/records.js';
import { defineFact } from '../facts/fact.js';
import { linesAsRecords } from '../util/shell.js';
import { defineModule, type CheckPlan } from './types.js';

const params = z.strictObject({ port: intLike(1, 65535).optional() });
type Params = z.output<typeof params>;

/**
 * The facts the listening check reads: `from=ss` or `from=proc` names the listing that follows; `ss_error` why ss,
 * though installed, failed. Without -p: naming the process walks every process's file descriptors, the costliest part.
 */
const listeningSocketsFact = defineFact<undefined>({
  name: 'listening.sockets',
  script() {
    return [
      'ff_from=',
      `if ! command -v ss >/dev/null 2>&1; then :; elif ff_ss=$(ss -ltn 2>&1); then ff_from=ss; echo from=ss; ${linesAsRecords('ff_ss', 'ss')}; else printf 'ss_error=exit %s: %s\\n' "$?" "$(printf '%s\\n' "$ff_ss" | head -n 1)"; fi`,
      `if [ -z "$ff_from" ] && [ -r /proc/net/tcp ]; then echo from=proc; for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && sed '1d; s/^/proc=/' "$f"; done; fi`,
      'true',
    ].join('\n');
  },
});

const where = (l: Listener) => `${l.address}${l.device ? `%${l.device}` : ''}`;

export const listeningModule = defineModule({
  name: 'listening',
  summary: 'check only: the port is listening on a non-loopback address',
  params,
  facts: () => ({ sockets: listeningSocketsFact(undefined) }),
  plan(p: Params, facts): CheckPlan {
    const port = p.port ?? 22;
    const r = parseRecords(facts.sockets!.stdout);
    const from = first(r, 'from');
    const ssError = first(r, 'ss_error');
    if (!from) {
      const error = `cannot list listening sockets: ss ${ssError ? `failed (${ssError})` : 'is missing'} and /proc/net/tcp is unreadable`;
      return { ok: false, message: error, changes: [], error };
    }
    const findings = ssError ? { findings: [`ss failed (${ssError}); read /proc/net/tcp instead, which does not show a socket bound to a device`] } : {};
    const all = from === 'ss' ? parseSs(r.get('ss') ?? []) : parseProcNetTcp(r.get('proc') ?? []);
    const on = all.filter((l) => l.port === port);
    const describe = on.map(where).join(', ');
    if (on.length === 0) return { ok: false, message: `nothing listens on tcp port ${port}`, changes: [], ...findings };
    if (on.every(isLoopback)) return { ok: false, message: `port ${port} listens only on loopback: ${describe}`, changes: [], ...findings };
    return { ok: true, message: `port ${port} listens on ${describe}`, changes: [], ...findings };
  },
});
