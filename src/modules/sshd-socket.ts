// sshd as the host runs it: sshd -t/-T without side effects, the refusal to (re)start a configuration sshd -t rejects,
// and socket activation (ssh.socket), whose listeners follow sshd_config only after a daemon-reload and a restart.
import { shq } from '../util/shell.js';

/**
 * ff_sshd: sshd -t/-T as the host has it. They insist on the privilege separation directory, which is missing where
 * sshd has not run since boot; then they run in a private mount namespace with a scratch /run, so that checking
 * changes nothing on the host.
 */
export const SSHD_FN = `ff_sshd_bin=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
ff_sshd() { if [ -d /run/sshd ]; then "$ff_sshd_bin" "$@"; else unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs /run && mkdir /run/sshd && exec "$0" "$@"' "$ff_sshd_bin" "$@"; fi; }`;

/** Shell lines that end the script unless sshd -t accepts the configuration on disk: nothing (re)starts a broken sshd. */
export function refuseUnlessValid(action: string, unit: string): string {
  return `${SSHD_FN}\nif ! ff_out=$(ff_sshd -t 2>&1); then printf 'refusing to %s %s: sshd -t failed: %s\\n' ${shq(action)} ${shq(unit)} "$ff_out" >&2; exit 1; fi`;
}

/** Facts of a socket unit (`socket`: a shell word naming it): its Listen= lines and BindIPv6Only (socket_listen, socket_bind). */
export function socketListenFacts(socket: string): string {
  return `systemctl show -P Listen ${socket} 2>/dev/null | while IFS= read -r ff_l; do [ -n "$ff_l" ] && printf 'socket_listen=%s\\n' "$ff_l"; done
printf 'socket_bind=%s\\n' "$(systemctl show -P BindIPv6Only ${socket} 2>/dev/null)"`;
}

/** Where sshd_config says sshd listens (sshd -T's listenaddress), as sshd_listen records. Needs SSHD_FN. */
export const SSHD_LISTEN_FACTS = `ff_sshd -T 2>/dev/null | awk '$1 == "listenaddress" { print "sshd_listen=" $2 }'`;

/**
 * Make NAME.socket listen where sshd_config now says (its generator runs on daemon-reload), with sshd -t first: stop
 * the service that holds the old listener (its sessions live on: KillMode=process), restart the socket, and prove
 * that each of `ports` listens.
 */
export function restartSocketScript(unit: string, ports: number[]): string {
  const socket = shq(`${unit}.socket`);
  const listens = `ff_listens() { if command -v ss >/dev/null 2>&1; then [ -n "$(ss -Hltn "sport = :$1")" ]; else grep -qiE "^ *[0-9]+: [0-9A-F]+:$(printf %04X "$1") [0-9A-F:]+ 0A" /proc/net/tcp /proc/net/tcp6; fi; }`;
  return [
    'set -e',
    refuseUnlessValid('restart', `${unit}.socket`),
    'systemctl daemon-reload',
    `systemctl stop ${shq(`${unit}.service`)}`,
    `systemctl restart ${socket}`,
    listens,
    `for ff_p in ${ports.join(' ')}; do ff_listens "$ff_p" || { printf '%s restarted, but nothing listens on tcp port %s (Listen: %s)\\n' ${socket} "$ff_p" "$(systemctl show -P Listen ${socket} | tr '\\n' ' ')" >&2; exit 1; }; done`,
  ].join('\n');
}
