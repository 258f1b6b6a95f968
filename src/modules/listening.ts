// listening module (check only): the SSH port is listening on an address other than loopback.
import { z } from 'zod';
import { intLike } from '../config/fields.js';
import { isLoopback, parseProcNetTcp, parseSs } from '../facts/listening.js';
import { parseRecords } from '../facts/records.js';
import { defineFact } from '../facts/fact.js';
import { defineModule, type CheckPlan } from './types.js';

const params = z.strictObject({ port: intLike(1, 65535).optional() });
type Params = z.output<typeof params>;

/** The facts the listening check reads. */
const listeningSocketsFact = defineFact<undefined>({
  name: 'listening.sockets',
  script() {
    // Without -p: naming the process walks every process's file descriptors, the costliest part of this check.
    return `if command -v ss >/dev/null 2>&1; then ss -Hltn 2>/dev/null | while IFS= read -r l; do printf 'ss=%s\\n' "$l"; done; else for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && sed '1d; s/^/proc=/' "$f"; done; fi; true`;
  },
});

export const listeningModule = defineModule({
  name: 'listening',
  summary: 'check only: the port is listening on a non-loopback address',
  params,
  facts: () => ({ sockets: listeningSocketsFact(undefined) }),
  plan(p: Params, facts): CheckPlan {
    const port = p.port ?? 22;
    const r = parseRecords(facts.sockets!.stdout);
    const all = r.has('ss') ? parseSs(r.get('ss')!) : parseProcNetTcp(r.get('proc') ?? []);
    const on = all.filter((l) => l.port === port);
    const describe = on.map((l) => l.address).join(', ');
    if (on.length === 0) return { ok: false, message: `nothing listens on tcp port ${port}`, changes: [] };
    if (on.every((l) => isLoopback(l.address))) return { ok: false, message: `port ${port} listens only on loopback: ${describe}`, changes: [] };
    return { ok: true, message: `port ${port} listens on ${describe}`, changes: [] };
  },
});
