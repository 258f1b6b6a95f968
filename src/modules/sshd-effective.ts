// sshd's effective configuration for one user and one connection (sshd -T -C), as the modules judging per-user rules read it.
import { z } from 'zod';
import { intLike, lineString, nameString } from '../config/fields.js';
import { first } from '../facts/records.js';
import type { Connection } from '../facts/sshd-match.js';
import { shq } from '../util/shell.js';

const address = lineString('an IPv4 or IPv6 address', (a) => (/^[0-9A-Fa-f.:]+$/.test(a) ? undefined : `got ${JSON.stringify(a)}`), 64);

/**
 * Whose login to judge, and over which connection: `user` always; `addr` (this machine as the host sees it), `laddr`
 * and `lport` (the host's address and port it is reached on) default to what the session fleetfix holds shows
 * (SSH_CONNECTION); `host` defaults to `addr`, which is what sshd uses with UseDNS no.
 */
export const connectionParams = z.strictObject({
  user: nameString('user'),
  host: lineString('a host name', (h) => (/^[A-Za-z0-9.:_-]+$/.test(h) ? undefined : `got ${JSON.stringify(h)}`), 255).optional(),
  addr: address.optional(),
  laddr: address.optional(),
  lport: intLike(1, 65535).optional(),
});
export type ConnectionParams = z.output<typeof connectionParams>;

/** The connection fields of a check's parameters: the key of the sshd -T it shares with the other checks of that connection. */
export function judgedConnection(p: ConnectionParams): ConnectionParams {
  return { user: p.user, host: p.host, addr: p.addr, laddr: p.laddr, lport: p.lport };
}

/**
 * Shell lines that set the positional parameters to the session's SSH_CONNECTION (client address and port, host
 * address and port; none without one): its own, or an ancestor's where sudo cleared it; only address characters taken.
 */
export const SESSION_CONNECTION = `ff_c=\${SSH_CONNECTION:-}; ff_p=$PPID
while [ -z "$ff_c" ] && [ "\${ff_p:-0}" -gt 1 ] 2>/dev/null; do
  ff_c=$(tr '\\0' '\\n' < /proc/$ff_p/environ 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p' | head -n 1)
  ff_p=$(awk '/^PPid:/ { print $2 }' /proc/$ff_p/status 2>/dev/null)
done
case "$ff_c" in *[!0-9A-Fa-f.:\\ ]*) ff_c= ;; esac
set -f; set -- $ff_c; set +f`;

/**
 * Shell lines (needing SSHD_FN) that print the connection as `conn_*` records and the user's groups, and set ff_spec
 * to the `-C` spec for sshd -T. The session's SSH_CONNECTION is its own, or an ancestor's where sudo cleared it; only
 * address characters are taken from it.
 */
export function connectionFacts(p: ConnectionParams): string {
  return `${SESSION_CONNECTION}
ff_addr=${p.addr ? shq(p.addr) : '${1:-}'} ff_laddr=${p.laddr ? shq(p.laddr) : '${3:-}'} ff_lport=${p.lport ? shq(p.lport) : '${4:-}'} ff_host=${p.host ? shq(p.host) : '$ff_addr'}
printf 'conn_addr=%s\\nconn_laddr=%s\\nconn_lport=%s\\nconn_host=%s\\n' "$ff_addr" "$ff_laddr" "$ff_lport" "$ff_host"
printf 'groups=%s\\n' "$(id -Gn ${shq(p.user)} 2>/dev/null)"
ff_spec=user=${shq(p.user)}
for ff_kv in "host=$ff_host" "addr=$ff_addr" "laddr=$ff_laddr" "lport=$ff_lport"; do [ -n "\${ff_kv#*=}" ] && ff_spec="$ff_spec,$ff_kv"; done`;
}

/** The connection the records describe (connectionFacts), for judging Match blocks as sshd did. */
export function connectionOf(r: Map<string, string[]>, user: string): Connection {
  const opt = (k: string) => first(r, k) || undefined;
  const lport = opt('conn_lport');
  return { user, groups: (first(r, 'groups') ?? '').split(/\s+/).filter(Boolean), host: opt('conn_host'), addr: opt('conn_addr'), laddr: opt('conn_laddr'), lport: lport ? Number(lport) : undefined };
}

/** How the connection reads in a message: "deploy from 198.18.1.1 to 198.18.1.11:22". */
export function describeConnection(c: Connection): string {
  return `${c.user}${c.addr ? ` from ${c.addr}` : ''}${c.laddr ? ` to ${c.laddr}${c.lport ? `:${c.lport}` : ''}` : c.lport ? ` on port ${c.lport}` : ''}`;
}
