// Every cause diagnose can name, with the remedy for it (after the seed article's steps), and a probe as the report's diagnosis.
import type { Diagnosis } from '../report/model.js';

export const REMEDIES = {
  ok: 'nothing to do: SSH works.',
  'not-ssh': 'nothing to do from here: the host is reached by its own transport, not SSH.',
  dns: 'fix the name in DNS or /etc/hosts, or give the host its address in the inventory.',
  'network-unreachable': "fix this machine's route to the host (ip route get ADDRESS), or the address in the inventory.",
  'host-down': 'start the host or bring its network up (its console, hypervisor or power), and check the address.',
  'firewall-drop': "allow the SSH port in the host's firewall: an ACCEPT ahead of the DROP (iptables-save | grep 'dport 22'), then save the rules.",
  'firewall-reject': "allow the SSH port in the host's firewall: an ACCEPT ahead of the REJECT (iptables-save, firewall-cmd --list-all), then save the rules.",
  'firewall-drop-or-host-down': "on the host's console: if it is up, allow the SSH port (and ICMP, to tell next time) in its firewall; if it is down, start it.",
  'port-rejected': "lift the ban of this address on the host's console (fail2ban-client set JAIL unbanip ADDRESS), or remove the REJECT; fleetfix apply with ssh_let_in does it over the console.",
  'port-refused': 'start sshd (systemctl start ssh) and enable it at boot; check Port and ListenAddress in sshd_config, and for a REJECT on the port (iptables-save).',
  'sshd-on-other-port': "connect to the port where sshd answers (the inventory's port, ssh -p), or set Port back in sshd_config and restart sshd.",
  'wrong-service': "another service answers on the port: check the inventory's port, and what listens there (ss -ltnp).",
  'tcp-wrappers': "take this address out of the /etc/hosts.deny (or hosts.allow) line that refuses sshd, on the host's console; fleetfix apply with ssh_let_in does it over the console.",
  'connection-reset': "read sshd's log (/var/log/auth.log or journalctl -u ssh) for why it hangs up: TCP wrappers (/etc/hosts.deny), or sshd failing per connection.",
  'maxstartups-full': 'raise MaxStartups in sshd_config (10:30:100 or more) and restart sshd; find what holds unauthenticated connections open.',
  'source-penalized': "wait for sshd's penalty on this address to lapse, or exempt it (PerSourcePenaltyExemptList); read sshd's log for what failed from here.",
  'dropped-in-key-exchange': "read sshd's log for why it ends the key exchange: unreadable host keys, a crash per connection, or a limit that never lets up.",
  'handshake-timeout': "read sshd's log: the host is overloaded, or packets past the banner are lost (an MTU problem on the path).",
  'no-common-algorithm': 'let sshd and the client share a key exchange, host key, cipher and MAC algorithm (KexAlgorithms, HostKeyAlgorithms, Ciphers, MACs in sshd_config).',
  'handshake-failed': "read sshd's log for this connection, and sshd -t for a configuration it rejects.",
  'host-key-unknown': "check the host's key out of band (its console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to known_hosts, or set host_key_policy: accept-new.",
  'host-key-changed': "verify the new key out of band; if the host was reinstalled, replace its line in known_hosts (ssh-keygen -R HOST); otherwise treat it as an attack.",
  'host-key-revoked': 'give the host a new host key (ssh-keygen -A after removing the revoked one) and add it to known_hosts.',
  'pubkey-disabled': 'set PubkeyAuthentication yes (and an AuthenticationMethods that allows publickey) in sshd_config, then restart sshd.',
  'key-not-accepted': "put the operator's public key in the user's ~/.ssh/authorized_keys (chmod 700 ~/.ssh, 600 authorized_keys, owned by the user), and check AllowUsers.",
  'identity-missing': "generate a key pair (ssh-keygen -t ed25519) or point the inventory's identity at the key, and install its public key on the host.",
  'identity-unprotected': 'chmod 600 the private key: ssh refuses a key that group or others can access.',
  'identity-unusable': "give the key's passphrase in the inventory (passphrase:), or generate a new pair (ssh-keygen) and install its public key on the host.",
  'identity-pub-mismatch': 'write the matching public key beside the private one (ssh-keygen -y -f KEY > KEY.pub).',
  'agent-unavailable': 'start ssh-agent (eval "$(ssh-agent)") and point SSH_AUTH_SOCK at it, or drop agent: true.',
  'agent-missing-key': 'add the key to the agent (ssh-add KEY), or drop agent: true.',
} as const;

export type Cause = keyof typeof REMEDIES;

/** What the report keeps of a probe: the cause, what was seen, and what to do. */
export function asDiagnosis(probe: { cause: Cause; detail: string }): Diagnosis {
  return { cause: probe.cause, detail: probe.detail, remedy: REMEDIES[probe.cause] };
}
