// Where a socket-activated sshd listens (the socket unit's Listen=) against where sshd_config says it should (sshd -T).

/**
 * `systemctl show -P Listen` lines ("[::]:22 (Stream)") as addr:port; a [::] socket that is not IPv6-only takes
 * IPv4 too, as sshd's pair of 0.0.0.0 and [::] listeners does.
 */
export function socketListeners(listen: string[], bindIPv6Only: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const line of listen) {
    const addr = line.replace(/\s*\([^)]*\)\s*$/, '').trim();
    if (!addr) continue;
    out.add(addr);
    const wildcard = /^\[::\]:(\d+)$/.exec(addr);
    if (wildcard && bindIPv6Only !== 'ipv6-only') out.add(`0.0.0.0:${wildcard[1]}`);
  }
  return out;
}

/** sshd -T's `listenaddress` values (0.0.0.0:22, [::]:22) as addr:port. */
export function sshdListeners(listenAddresses: string[]): Set<string> {
  return new Set(listenAddresses.map((a) => a.trim()).filter(Boolean));
}

export function sameListeners(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** The ports among addr:port listeners, sorted. */
export function listenerPorts(listeners: Set<string>): number[] {
  return [...new Set([...listeners].map((l) => Number(/:(\d+)$/.exec(l)?.[1])).filter((p) => p > 0))].sort((x, y) => x - y);
}
