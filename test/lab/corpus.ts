// The corpus of faults that keep `deploy` out of a lab host, each with what it touches, and the combinations of them
// that can coexist on one host (pairs, and a seeded sample of triples), generated from the corpus itself.

export interface CorpusFault {
  id: string;
  /** Run as root inside the host (the lab's own access), in the corpus's order with the other faults of the host. */
  script: string;
  /** What the fault sets: two faults that set one thing cannot coexist (the second would undo or hide the first). */
  touches: string[];
  /** The fault lives in sshd's configuration: sshd is restarted once the host's faults are set (unless one stops it). */
  restart?: boolean;
}

const HOME = '/home/deploy';
const SSH = `${HOME}/.ssh`;
const CONF = '/etc/ssh/sshd_config';

/** The faults, in the order a host's are set (a fault that stops sshd comes last: nothing restarts it after). */
export const CORPUS: CorpusFault[] = [
  // The seed's own: ~/.ssh and authorized_keys.
  { id: 'ssh-dir-777', script: `chmod -R 777 ${SSH}`, touches: ['ssh-dir.mode', 'keys.mode'] },
  { id: 'keys-root-owned', script: `install -m 0600 -o root -g root ${SSH}/authorized_keys ${SSH}/k.new && mv ${SSH}/k.new ${SSH}/authorized_keys`, touches: ['keys.owner', 'keys.mode'] },
  { id: 'home-root-owned', script: `chown -R root:root ${HOME}`, touches: ['home.owner', 'ssh-dir.owner', 'keys.owner'] },
  // Group-writable by a group others are in (Debian's sshd lets a group only the user is in write the home).
  { id: 'home-group-writable', script: `chgrp users ${HOME} && chmod 0775 ${HOME}`, touches: ['home.mode', 'home.group'] },
  { id: 'ssh-dir-missing', script: `rm -rf ${SSH}`, touches: ['ssh-dir.mode', 'ssh-dir.owner', 'keys.mode', 'keys.owner', 'keys.content'] },
  { id: 'ssh-dir-other-owner', script: `chown nobody ${SSH} && chmod 0666 ${SSH}/authorized_keys`, touches: ['ssh-dir.owner', 'keys.mode'] },
  { id: 'key-bom', script: `printf '\\357\\273\\277' | cat - ${SSH}/authorized_keys > ${SSH}/k.new && cat ${SSH}/k.new > ${SSH}/authorized_keys && rm ${SSH}/k.new`, touches: ['keys.content'] },
  { id: 'key-missing', script: `printf '%s\\n' 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC alice' > ${SSH}/authorized_keys`, touches: ['keys.content'] },
  // sshd's configuration.
  { id: 'port-2222', script: `echo 'Port 2222' > /etc/ssh/sshd_config.d/10-port.conf`, touches: ['sshd.port'], restart: true },
  { id: 'listen-loopback', script: `echo 'ListenAddress 127.0.0.1' >> ${CONF}`, touches: ['sshd.listen'], restart: true },
  { id: 'pubkey-off', script: `echo 'PubkeyAuthentication no' > /etc/ssh/sshd_config.d/50-nopk.conf`, touches: ['sshd.pubkey'], restart: true },
  { id: 'allow-users-root', script: `sed -i '1i AllowUsers root' ${CONF}`, touches: ['sshd.allowusers'], restart: true },
  { id: 'deny-users-deploy', script: `sed -i '1i DenyUsers nobody deploy' ${CONF}`, touches: ['sshd.denyusers'], restart: true },
  { id: 'maxstartups', script: `echo 'MaxStartups 1:100:1' >> ${CONF}`, touches: ['sshd.maxstartups'], restart: true },
  // Beyond sshd_config: PAM's nologin, TCP wrappers (a wide pattern: hosts.allow lets this machine in).
  { id: 'nologin', script: "echo 'maintenance until noon' > /etc/nologin", touches: ['nologin'] },
  { id: 'hosts-deny', script: "echo 'sshd: 198.18.0.0/255.254.0.0' >> /etc/hosts.deny", touches: ['hosts.deny'] },
  // The firewall.
  { id: 'iptables-reject', script: 'iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset', touches: ['firewall.iptables'] },
  { id: 'nft-drop', script: `nft add table inet f && nft add chain inet f input '{ type filter hook input priority 0; policy accept; }' && nft add rule inet f input tcp dport 22 drop`, touches: ['firewall.nft'] },
  // fail2ban's iptables-multiport action, banning this machine (the hosts' default gateway), with no fail2ban running.
  {
    id: 'f2b-ban',
    script: "a=$(ip route show default | awk '{ print $3; exit }') && iptables -N f2b-sshd && iptables -A f2b-sshd -s \"$a\"/32 -j REJECT --reject-with icmp-port-unreachable && iptables -A f2b-sshd -j RETURN && iptables -I INPUT -p tcp -m multiport --dports 22 -j f2b-sshd",
    touches: ['firewall.f2b'],
  },
  // sshd itself (last: nothing restarts it after): stopped, or its host keys open to all (it will not start again).
  { id: 'host-keys-open', script: 'chmod 0644 /etc/ssh/ssh_host_*_key && /etc/init.d/ssh stop >/dev/null', touches: ['sshd.running', 'host-keys'] },
  { id: 'sshd-stopped', script: '/etc/init.d/ssh stop >/dev/null && update-rc.d ssh disable >/dev/null 2>&1', touches: ['sshd.running'] },
];

const STOPS_SSHD = new Set(['sshd-stopped', 'host-keys-open']);

/** Whether `faults` can coexist on one host: no two set the same thing. */
export function coexist(faults: CorpusFault[]): boolean {
  const touched = faults.flatMap((f) => f.touches);
  return new Set(touched).size === touched.length;
}

/**
 * The script that sets `faults` on a host: each in the corpus's order, with one restart of sshd after the last that
 * needs it (before a fault that stops sshd, so that the stopped sshd's configuration is the broken one).
 */
export function faultScript(faults: CorpusFault[]): string {
  const ordered = CORPUS.filter((f) => faults.includes(f));
  const stops = ordered.filter((f) => STOPS_SSHD.has(f.id));
  const rest = ordered.filter((f) => !STOPS_SSHD.has(f.id));
  const restart = rest.some((f) => f.restart) ? ['/etc/init.d/ssh restart >/dev/null'] : [];
  return [...rest.map((f) => f.script), ...restart, ...stops.map((f) => f.script)].join(' && ');
}

/** Every pair of corpus faults that can coexist, in corpus order. */
export function pairs(): CorpusFault[][] {
  return CORPUS.flatMap((a, i) => CORPUS.slice(i + 1).filter((b) => coexist([a, b])).map((b) => [a, b]));
}

/** `count` distinct triples that can coexist, drawn with a seeded generator (the same seed, the same triples). */
export function sampledTriples(count: number, seed: number): CorpusFault[][] {
  const all = CORPUS.flatMap((a, i) => CORPUS.slice(i + 1).flatMap((b, j) => CORPUS.slice(i + j + 2).map((c) => [a, b, c]))).filter(coexist);
  return shuffled(all, seed).slice(0, count);
}

/** `items` in an order drawn from `seed` (Fisher-Yates over mulberry32): the same seed, the same order. */
export function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
