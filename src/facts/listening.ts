// Listening TCP sockets from `ss -ltn`, or from /proc/net/tcp{,6} where ss is missing or fails.

export interface Listener {
  address: string;
  port: number;
  /** The device the socket is bound to (SO_BINDTODEVICE) or the scope of a link-local address, as ss shows it after `%`. */
  device?: string;
}

/** `ss -ltn` lines: State Recv-Q Send-Q Local:Port Peer:Port (the header and other states are skipped). */
export function parseSs(lines: string[]): Listener[] {
  const out: Listener[] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LISTEN' || !fields[3]) continue;
    const m = /^(.*):(\d+)$/.exec(fields[3]);
    if (!m) continue;
    // 0.0.0.0%lo, [::]%lo, [fe80::1%eth0], *: the address, then the device after %
    const [address, device] = m[1]!.replace(/[[\]]/g, '').split('%');
    out.push({ address: address!, port: Number(m[2]), ...(device ? { device } : {}) });
  }
  return out;
}

/** /proc/net/tcp and tcp6 rows: little-endian hex address, hex port, state 0A is LISTEN. */
export function parseProcNetTcp(lines: string[]): Listener[] {
  const out: Listener[] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== '0A' || !fields[1]) continue;
    const [hex, port] = fields[1].split(':');
    if (!hex || !port) continue;
    out.push({ address: hex.length === 8 ? ipv4(hex) : ipv6(hex), port: parseInt(port, 16) });
  }
  return out;
}

function ipv4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let g = 0; g < 4; g++) {
    const chunk = hex.slice(g * 8, g * 8 + 8);
    const le = chunk.match(/../g)!.reverse().join('');
    words.push(le.slice(0, 4), le.slice(4, 8));
  }
  const full = words.map((w) => parseInt(w, 16).toString(16)).join(':');
  if (full === '0:0:0:0:0:0:0:0') return '::';
  if (full === '0:0:0:0:0:0:0:1') return '::1';
  return full.replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Reachable only from this host: a loopback address (IPv4-mapped too: ::ffff:127.0.0.1, ::ffff:7f00:1) or bound to lo. */
export function isLoopback(l: Listener): boolean {
  if (l.device === 'lo') return true;
  const a = l.address.toLowerCase();
  const mapped = /^::ffff:(?:(\d+)\.\d+\.\d+\.\d+|([0-9a-f]{1,4}):[0-9a-f]{1,4})$/.exec(a);
  if (mapped) return mapped[1] !== undefined ? mapped[1] === '127' : parseInt(mapped[2]!, 16) >> 8 === 127;
  return a.startsWith('127.') || a === '::1' || a === 'localhost';
}
