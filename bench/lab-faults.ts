// The lab benchmark's fleet: the faults every tool meets on apply, and the firewall a healthy host has.

/** Faults both tools can fix over SSH (root still logs in): a starved MaxStartups, loose ~/.ssh and authorized_keys modes. */
export const FAULTS = "echo 'MaxStartups 1:100:1' >> /etc/ssh/sshd_config && /etc/init.d/ssh restart >/dev/null && chmod 0755 /root/.ssh && chmod 0644 /root/.ssh/authorized_keys";
/** A healthy fleet has a firewall that lets SSH in (IPv4 and IPv6): both tools read it, neither has work there. */
export const FIREWALL = 'for t in iptables ip6tables; do $t -I INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT || exit 1; done';
