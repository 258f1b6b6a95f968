// Listening TCP sockets from `ss -Hltn`, or from /proc/net/tcp{,6} where ss is missing.

export interface Listener {
  address: string;
  port: number;
}

/** `ss -Hltn` lines: State Recv-Q Send-Q Local:Port Peer:Port. */
export function parseSs(lines: string[]): Listener[] {
  const out: Listener[] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LISTEN' || !fields[3]) continue;
    const m = /^(.*):(\d+)$/.exec(fields[3]);
    if (!m) continue;
    out.push({ address: m[1]!.replace(/^\[|\]$/g, '').replace(/%\S+$/, ''), port: Number(m[2]) });
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

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}
