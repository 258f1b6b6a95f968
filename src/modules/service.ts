// service module: a service is running or stopped, or is restarted/reloaded (as a handler), across init systems.
import { z } from 'zod';
import { lineString } from '../config/fields.js';
import { first, parseRecords } from '../facts/records.js';
import { RC_LINKED_FN, shq } from '../util/shell.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  name: lineString('a service name (letters, digits, "_", ".", "@", "-"; not "-" first)', (n) => (/^[A-Za-z0-9_.@][A-Za-z0-9_.@-]*$/.test(n) ? undefined : `got ${JSON.stringify(n)}`), 256),
  state: z.enum(['running', 'stopped', 'restarted', 'reloaded']).optional(),
  enabled: z.boolean().optional(),
});
type Params = z.output<typeof params>;

type Init = 'systemd' | 'openrc' | 'sysv';

/** sshd's service is "ssh" on Debian and Ubuntu, "sshd" elsewhere: either name finds it. */
function candidates(name: string): string[] {
  if (name === 'ssh') return ['ssh', 'sshd'];
  if (name === 'sshd') return ['sshd', 'ssh'];
  return [name];
}

export const serviceModule = defineModule({
  name: 'service',
  summary: 'a service is running or stopped; restarted or reloaded when notified',
  params,
  gather(p: Params) {
    const names = candidates(p.name).map(shq).join(' ');
    return `${RC_LINKED_FN}
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo init=systemd
  for n in ${names}; do
    if systemctl cat "$n.service" >/dev/null 2>&1; then echo "unit=$n"; echo "active=$(systemctl is-active "$n" 2>/dev/null || true)"; echo "enabled=$(systemctl is-enabled "$n" 2>/dev/null || true)"; break; fi
  done
elif command -v rc-service >/dev/null 2>&1 && [ -d /etc/runlevels ]; then
  echo init=openrc
  for n in ${names}; do
    if [ -x "/etc/init.d/$n" ]; then echo "unit=$n"; if rc-service "$n" status >/dev/null 2>&1; then echo active=active; else echo active=inactive; fi; if rc-update show default 2>/dev/null | grep -qw "$n"; then echo enabled=enabled; else echo enabled=disabled; fi; break; fi
  done
else
  echo init=sysv
  for n in ${names}; do
    if [ -x "/etc/init.d/$n" ]; then
      echo "unit=$n"
      # A live pid in the daemon's pidfile answers at once; the init script's status (it loads the LSB library) otherwise.
      ff_pid=; for ff_f in "/run/$n.pid" "/run/\${n}d.pid"; do [ -r "$ff_f" ] && read -r ff_pid < "$ff_f" && [ -n "$ff_pid" ] && break; done
      if [ -n "$ff_pid" ] && kill -0 "$ff_pid" 2>/dev/null; then echo active=active
      elif "/etc/init.d/$n" status >/dev/null 2>&1; then echo active=active; else echo active=inactive; fi
      if ff_rc_linked "$n"; then echo enabled=enabled; else echo enabled=disabled; fi
      break
    fi
  done
fi`;
  },
  plan(p: Params, facts): CheckPlan {
    const r = parseRecords(facts.stdout);
    const init = first(r, 'init') as Init | undefined;
    const unit = first(r, 'unit');
    if (!init || !unit) return { ok: false, message: `service ${p.name} is not installed`, changes: [], error: `no service named ${candidates(p.name).join(' or ')}` };
    const running = first(r, 'active') === 'active';
    const state = p.state ?? 'running';
    const changes: Change[] = [];
    const enabled = first(r, 'enabled') === 'enabled';
    if (p.enabled !== undefined && p.enabled !== enabled) {
      changes.push({ summary: `${p.enabled ? 'enable' : 'disable'} ${unit} at boot (${init})`, diff: `${unit}: ${enabled ? 'enabled' : 'disabled'} -> ${p.enabled ? 'enabled' : 'disabled'} at boot`, script: enableScript(init, unit, p.enabled) });
    }
    const act = (action: 'start' | 'stop' | 'restart' | 'reload') => changes.push({ summary: `${action} ${unit} (${init})`, diff: `${unit}: ${action}`, script: serviceScript(init, unit, action) });
    if (state === 'running' && !running) act('start');
    if (state === 'stopped' && running) act('stop');
    if (state === 'restarted') act(running ? 'restart' : 'start');
    if (state === 'reloaded') act(running ? 'reload' : 'start');
    const now = `${unit} is ${running ? 'running' : 'stopped'}${p.enabled === undefined ? '' : `, ${enabled ? 'enabled' : 'disabled'} at boot`}`;
    if (changes.length === 0) return { ok: true, message: now, changes };
    return { ok: false, message: `${now}: ${changes.map((c) => c.summary).join('; ')}`, changes };
  },
});

function enableScript(init: Init, unit: string, enable: boolean): string {
  if (init === 'systemd') return `systemctl ${enable ? 'enable' : 'disable'} ${shq(unit)}`;
  if (init === 'openrc') return `rc-update ${enable ? 'add' : 'del'} ${shq(unit)} default`;
  return `update-rc.d ${shq(unit)} ${enable ? 'enable' : 'disable'}`;
}

/** The command for `action` under `init`; sshd's configuration must pass `sshd -t` before it is (re)started. */
export function serviceScript(init: Init, unit: string, action: 'start' | 'stop' | 'restart' | 'reload'): string {
  const validate =
    action !== 'stop' && (unit === 'ssh' || unit === 'sshd')
      ? `mkdir -p /run/sshd\nif ! ff_out=$(/usr/sbin/sshd -t 2>&1); then printf 'refusing to %s %s: sshd -t failed: %s\\n' ${shq(action)} ${shq(unit)} "$ff_out" >&2; exit 1; fi\n`
      : '';
  const command =
    init === 'systemd' ? `systemctl ${action} ${shq(unit)}` : init === 'openrc' ? `rc-service ${shq(unit)} ${action}` : `${shq(`/etc/init.d/${unit}`)} ${action}`;
  return `set -e\n${validate}${command}`;
}
