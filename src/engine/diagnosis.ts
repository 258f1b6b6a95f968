// Map a failed SSH attempt to the likely cause, in the words of the "Connection refused" checklist.
import type { Diagnosis } from '../report/model.js';
import type { TransportError } from '../transport/types.js';

const CAUSES: Record<TransportError['kind'], { cause: string; hint: string }> = {
  'connect-refused': { cause: 'sshd-not-listening', hint: 'nothing accepts connections on the SSH port: sshd stopped, a different Port/ListenAddress, or a firewall REJECT' },
  'connect-timeout': { cause: 'firewall-drop-or-host-down', hint: 'no answer on the SSH port: a firewall DROP, or the host is down' },
  unreachable: { cause: 'network-unreachable', hint: 'no route to the host' },
  dns: { cause: 'dns', hint: 'the host name does not resolve' },
  'host-key-unknown': { cause: 'host-key-unknown', hint: 'the host key is not in known_hosts' },
  'host-key-changed': { cause: 'host-key-changed', hint: 'the host key changed: a reinstalled host or a man-in-the-middle; fleetfix will not connect' },
  'auth-failed': { cause: 'key-not-accepted', hint: 'the key was not accepted: check ~/.ssh modes and ownership, authorized_keys, and PubkeyAuthentication' },
  'connection-lost': { cause: 'connection-reset', hint: 'the connection was reset: MaxStartups, TCP wrappers, or sshd crashed' },
  'command-timeout': { cause: 'command-timeout', hint: 'a command did not finish in time' },
  'become-failed': { cause: 'become-failed', hint: 'sudo -n did not work for this user' },
  protocol: { cause: 'not-ssh', hint: 'the port did not speak SSH as expected' },
};

export function diagnosisFromError(err: TransportError): Diagnosis {
  const known = CAUSES[err.kind];
  return { cause: known.cause, detail: known.hint };
}
