// firewalld plan: the port (or, for 22, the ssh service) must be open; else open the port, at runtime and permanently.
import type { CheckPlan } from './types.js';

export function planFirewalld(port: number, open: string[]): CheckPlan {
  if (open.includes('port') || (port === 22 && open.includes('service'))) return { ok: true, message: `firewalld allows ${port}/tcp`, changes: [] };
  return {
    ok: false,
    message: `firewalld is running and does not allow ${port}/tcp`,
    changes: [{ summary: `firewall-cmd --add-port=${port}/tcp (runtime and permanent)`, diff: `firewalld: + port ${port}/tcp`, script: `set -e\nfirewall-cmd --add-port=${port}/tcp\nfirewall-cmd --permanent --add-port=${port}/tcp` }],
  };
}
