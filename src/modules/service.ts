// service module: a service is running or stopped, or is restarted/reloaded (as a handler), across init systems;
// under systemd a socket-activated service (ssh.socket) is judged, started and restarted by its socket.
import { z } from 'zod';
import { lineString } from '../config/fields.js';
import { listenerPorts, sameListeners, socketListeners, sshdListeners } from '../facts/socket-listeners.js';
import { first, parseRecords } from '../facts/records.js';
import { RC_LINKED_FN, shq } from '../util/shell.js';
import { refuseUnlessValid, restartSocketScript, socketListenFacts, SSHD_FN, SSHD_LISTEN_FACTS } from './sshd-socket.js';
import { defineFact } from '../facts/fact.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  name: lineString('a service name (letters, digits, "_", ".", "@", "-"; not "-" first)', (n) => (/^[A-Za-z0-9_.@][A-Za-z0-9_.@-]*$/.test(n) ? undefined : `got ${JSON.stringify(n)}`), 256),
  state: z.enum(['running', 'stopped', 'restarted', 'reloaded']).optional(),
  enabled: z.boolean().optional(),
});
type Params = z.output<typeof params>;

type Init = 'systemd' | 'openrc' | 'sysv';

const isSshd = (unit: string) => unit === 'ssh' || unit === 'sshd';

/** sshd's service is "ssh" on Debian and Ubuntu, "sshd" elsewhere: either name finds it. */
function candidates(name: string): string[] {
  if (name === 'ssh') return ['ssh', 'sshd'];
  if (name === 'sshd') return ['sshd', 'ssh'];
  return [name];
}

/** The state of the service `name` under the host's init system (the same for every check and handler on it). */
const serviceStateFact = defineFact<string>({
  name: 'service.state',
  script(name) {
    const names = candidates(name).map(shq).join(' ');
    // A socket unit of the same name (ssh.socket) is read too; for sshd, with where it and sshd_config listen, and
    // whether Ubuntu's sshd-socket-generator is there (socket activation is how such a host means sshd to run).
    const sshdFacts = isSshd(name)
      ? `${SSHD_FN}
      ${socketListenFacts('"$n.socket"')}
      ${SSHD_LISTEN_FACTS}
      for ff_g in /usr/lib/systemd/system-generators/sshd-socket-generator /lib/systemd/system-generators/sshd-socket-generator; do [ -x "$ff_g" ] && echo socket_generator=yes && break; done`
      : '';
    return `${RC_LINKED_FN}
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo init=systemd
  for n in ${names}; do
    if systemctl cat "$n.service" >/dev/null 2>&1; then
      echo "unit=$n"; echo "active=$(systemctl is-active "$n.service" 2>/dev/null || true)"; echo "enabled=$(systemctl is-enabled "$n.service" 2>/dev/null || true)"
      if systemctl cat "$n.socket" >/dev/null 2>&1; then
        echo "socket_active=$(systemctl is-active "$n.socket" 2>/dev/null || true)"; echo "socket_enabled=$(systemctl is-enabled "$n.socket" 2>/dev/null || true)"
        ${sshdFacts}
      fi
      break
    fi
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
      ${readPidfile('"/run/$n.pid" "/run/${n}d.pid"')}
      if [ -n "$ff_pid" ] && kill -0 "$ff_pid" 2>/dev/null; then echo active=active
      elif "/etc/init.d/$n" status >/dev/null 2>&1; then echo active=active; else echo active=inactive; fi
      if ff_rc_linked "$n"; then echo enabled=enabled; else echo enabled=disabled; fi
      break
    fi
  done
fi`;
  },
});

export const serviceModule = defineModule({
  name: 'service',
  summary: 'a service is running or stopped; restarted or reloaded when notified',
  params,
  facts: (p: Params) => ({ service: serviceStateFact(p.name) }),
  plan(p: Params, facts): CheckPlan {
    const r = parseRecords(facts.service!.stdout);
    const init = first(r, 'init') as Init | undefined;
    const unit = first(r, 'unit');
    if (!init || !unit) return { ok: false, message: `service ${p.name} is not installed`, changes: [], error: `no service named ${candidates(p.name).join(' or ')}` };
    if (init === 'systemd' && socketActivated(r)) return planSocket(p, unit, r);
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

/**
 * Whether the service runs socket-activated: its socket is enabled, or active while the service is not enabled, or
 * (both off) Ubuntu's generator says that is how sshd is meant to run.
 */
function socketActivated(r: Map<string, string[]>): boolean {
  if (!r.has('socket_active')) return false;
  const serviceOn = first(r, 'enabled') === 'enabled' || first(r, 'active') === 'active';
  return first(r, 'socket_enabled') === 'enabled' || (first(r, 'socket_active') === 'active' && first(r, 'enabled') !== 'enabled') || (!serviceOn && first(r, 'socket_generator') === 'yes');
}

/**
 * A socket-activated service: "running" means its socket listens (the service starts with the first connection),
 * "enabled" that the socket will after a reboot. A restart makes the socket follow sshd_config where their listeners
 * differ (daemon-reload, restart the socket, prove the new listener); otherwise it restarts a running service.
 */
function planSocket(p: Params, unit: string, r: Map<string, string[]>): CheckPlan {
  const socket = `${unit}.socket`;
  const listening = first(r, 'socket_active') === 'active';
  const enabled = first(r, 'socket_enabled') === 'enabled';
  const serviceActive = first(r, 'active') === 'active';
  const state = p.state ?? 'running';
  const changes: Change[] = [];
  const guard = (action: string) => (isSshd(unit) && action !== 'stop' ? `${refuseUnlessValid(action, socket)}\n` : '');
  const cmd = (summary: string, diff: string, action: string, command: string) => changes.push({ summary, diff, script: `set -e\n${guard(action)}${command}` });
  if (p.enabled !== undefined && p.enabled !== enabled) {
    cmd(`${p.enabled ? 'enable' : 'disable'} ${socket} at boot (socket-activated)`, `${socket}: ${enabled ? 'enabled' : 'disabled'} -> ${p.enabled ? 'enabled' : 'disabled'} at boot`, p.enabled ? 'enable' : 'stop', `systemctl ${p.enabled ? 'enable' : 'disable'} ${shq(socket)}`);
  }
  const want = sshdListeners(r.get('sshd_listen') ?? []);
  const have = socketListeners(r.get('socket_listen') ?? [], first(r, 'socket_bind'));
  const stale = listening && want.size > 0 && !sameListeners(want, have);
  const describe = (s: Set<string>) => [...s].sort().join(', ') || 'nothing';
  if (state === 'running' && !listening) cmd(`start ${socket} (socket-activated)`, `${socket}: start`, 'start', `systemctl start ${shq(socket)}`);
  if (state === 'stopped' && (listening || serviceActive)) cmd(`stop ${socket} and ${unit}.service`, `${socket}: stop`, 'stop', `systemctl stop ${shq(socket)} ${shq(`${unit}.service`)}`);
  if (state === 'restarted' || state === 'reloaded') {
    if (!listening) cmd(`start ${socket} (socket-activated)`, `${socket}: start`, 'start', `systemctl start ${shq(socket)}`);
    else if (stale) {
      changes.push({ summary: `daemon-reload and restart ${socket}: it listens on ${describe(have)}, sshd_config says ${describe(want)}`, diff: `${socket}: listen ${describe(have)} -> ${describe(want)}`, script: restartSocketScript(unit, listenerPorts(want)) });
    } else if (serviceActive) {
      const action = state === 'restarted' ? 'restart' : 'reload';
      cmd(`${action} ${unit}.service (socket-activated)`, `${unit}.service: ${action}`, action, `systemctl ${action === 'restart' ? 'restart' : 'reload-or-restart'} ${shq(`${unit}.service`)}`);
    }
  }
  const now = `${socket} is ${listening ? `listening on ${describe(have)}` : 'stopped'}${p.enabled === undefined ? '' : `, ${enabled ? 'enabled' : 'disabled'} at boot`} (socket-activated; ${unit}.service ${serviceActive ? 'running' : 'starts on the first connection'})`;
  if (changes.length === 0) return { ok: true, message: now, changes };
  return { ok: false, message: `${now}: ${changes.map((c) => c.summary).join('; ')}`, changes };
}

function enableScript(init: Init, unit: string, enable: boolean): string {
  if (init === 'systemd') return `systemctl ${enable ? 'enable' : 'disable'} ${shq(unit)}`;
  if (init === 'openrc') return `rc-update ${enable ? 'add' : 'del'} ${shq(unit)} default`;
  return `update-rc.d ${shq(unit)} ${enable ? 'enable' : 'disable'}`;
}

/**
 * The command for `action` under `init`; sshd's configuration must pass `sshd -t` before it is (re)started. sshd's
 * reload starts it where it is not running, as a net that undid the changes needs it to (a reload that failed to
 * bind leaves no sshd to signal).
 */
export function serviceScript(init: Init, unit: string, action: 'start' | 'stop' | 'restart' | 'reload'): string {
  const validate = action !== 'stop' && isSshd(unit) ? `${refuseUnlessValid(action, unit)}\n` : '';
  const u = shq(unit);
  const sshdReload = action === 'reload' && isSshd(unit);
  const command =
    init === 'systemd'
      ? `systemctl ${sshdReload ? 'reload-or-restart' : action} ${u}`
      : init === 'openrc'
        ? sshdReload
          ? `if rc-service ${u} status >/dev/null 2>&1; then rc-service ${u} reload; else rc-service ${u} start; fi`
          : `rc-service ${u} ${action}`
        : sshdReload
          ? sysvSshdReload(unit)
          : `${shq(`/etc/init.d/${unit}`)} ${action}`;
  return `set -e\n${validate}${command}`;
}

/**
 * A shell line that sets ff_pid to the pid in the first of the pidfiles `candidates` (shell words) that names one, and
 * ff_pf to that file: a daemon "ssh" keeps /run/ssh.pid or, as Debian's does, /run/sshd.pid.
 */
function readPidfile(candidates: string): string {
  return `ff_pid=; ff_pf=; for ff_f in ${candidates}; do [ -r "$ff_f" ] && read -r ff_pid < "$ff_f" && [ -n "$ff_pid" ] && ff_pf=$ff_f && break; done`;
}

/** How many times, 10 ms apart, a reload waits for sshd to have bound its sockets again (5 s). */
const RELOAD_WAIT_ROUNDS = 500;

/**
 * sshd under SysV init, reloaded: SIGHUP to the daemon its pidfile names, which re-executes itself on the
 * configuration on disk (what the init script's reload has it do, without loading the LSB library and running sshd -t
 * once more), then a bounded wait for it to bind its sockets again: it removes its pidfile on the signal and writes it
 * once it listens (emptied first, so that the old one is never taken for the new). Without a live sshd there (it died,
 * or keeps another pidfile), the init script restarts it. Needs SSHD_FN.
 */
function sysvSshdReload(unit: string): string {
  return `${readPidfile(`${shq(`/run/${unit}.pid`)} ${shq(`/run/${unit}d.pid`)}`)}
case "$ff_pid" in *[!0-9]*) ff_pid= ;; esac
if [ -n "$ff_pid" ] && [ /proc/"$ff_pid"/exe -ef "$ff_sshd_bin" ]; then
  : > "$ff_pf"; kill -HUP "$ff_pid"; ff_n=0
  while [ "$ff_n" -lt ${RELOAD_WAIT_ROUNDS} ]; do
    ff_new=; read -r ff_new 2>/dev/null < "$ff_pf" || true
    if [ -n "$ff_new" ] || ! kill -0 "$ff_pid" 2>/dev/null; then break; fi
    sleep 0.01; ff_n=$((ff_n + 1))
  done
  [ -n "$ff_new" ] || { printf 'sshd (pid %s) did not listen again after SIGHUP: it could not start on the new configuration (see its log)\\n' "$ff_pid" >&2; exit 1; }
else
  ${shq(`/etc/init.d/${unit}`)} restart
fi`;
}
