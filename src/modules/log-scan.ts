// log_scan module (check only): recent sshd log lines that name a cause of refused logins, reported as findings with
// the line. Findings decide nothing: a log keeps describing a fault after it is fixed, and the other checks judge the state.
import { z } from 'zod';
import { intLike } from '../config/fields.js';
import { scanLog } from '../facts/auth-log.js';
import { first, parseRecords } from '../facts/records.js';
import { BASE64, shq } from '../util/shell.js';
import { defineModule, type CheckPlan } from './types.js';

const params = z.strictObject({
  files: z.array(z.string().startsWith('/')).min(1).optional(),
  lines: intLike(10, 100000).optional(),
});
type Params = z.output<typeof params>;

export const logScanModule = defineModule({
  name: 'log_scan',
  summary: 'check only: recent sshd log lines matched against known causes, reported as findings',
  params,
  gather(p: Params) {
    const n = p.lines ?? 2000;
    const files = (p.files ?? ['/var/log/auth.log', '/var/log/secure']).map(shq).join(' ');
    return `for f in ${files}; do if [ -r "$f" ]; then printf 'source=%s\\n' "$f"; printf 'log=%s\\n' "$(tail -n ${n} "$f" | ${BASE64})"; exit 0; fi; done
if command -v journalctl >/dev/null 2>&1; then echo source=journal; printf 'log=%s\\n' "$(journalctl -u ssh -u sshd -n ${n} --no-pager -o cat 2>/dev/null | ${BASE64})"; fi; true`;
  },
  plan(_p: Params, facts): CheckPlan {
    const r = parseRecords(facts.stdout);
    const source = first(r, 'source');
    if (!source) return { ok: true, message: 'no sshd log found to scan', changes: [] };
    const findings = scanLog(Buffer.from(first(r, 'log') ?? '', 'base64').toString('utf8').split('\n'));
    if (findings.length === 0) return { ok: true, message: `${source}: nothing of note since sshd started`, changes: [] };
    return { ok: true, message: `${source}: ${findings.length} finding${findings.length === 1 ? '' : 's'} since sshd started`, changes: [], findings: findings.map((f) => `${f.cause}: ${f.line}`) };
  },
});
