// IPv4 and IPv6 addresses as bits: equality, CIDR blocks and netmasks, as sshd, iptables, nftables and libwrap compare them.

/** An IPv4 or IPv6 address as a string of 32 or 128 bits; undefined when it is neither. */
export function toBits(addr: string): string | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255) ? v4.slice(1).map((o) => Number(o).toString(2).padStart(8, '0')).join('') : undefined;
  if (!addr.includes(':')) return undefined;
  const [head, tail, more] = addr.split('::');
  if (more !== undefined) return undefined;
  const parts = (s?: string) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}

/** Whether two texts name the same address ("fd00::1" and "fd00:0::1" do); false when either is no address. */
export function sameAddress(a: string, b: string): boolean {
  const x = toBits(a);
  return x !== undefined && x === toBits(b);
}

/** `addr` is in `net` (an address) with its first `bits` bits; false across families or for what does not parse. */
export function inPrefix(addr: string, net: string, bits: number): boolean {
  const a = toBits(addr);
  const n = toBits(net);
  if (!a || !n || a.length !== n.length || !Number.isInteger(bits) || bits < 0 || bits > a.length) return false;
  return a.slice(0, bits) === n.slice(0, bits);
}

/** `addr` is in `cidr` ("10.0.0.0/8", "fd00::/64"; an address alone is the one address). */
export function inCidr(addr: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const bits = bitsText === undefined ? (toBits(net!)?.length ?? -1) : /^\d+$/.test(bitsText) ? Number(bitsText) : -1;
  return inPrefix(addr, net!, bits);
}

/** `addr` & `mask` == `net` & `mask`, all IPv4 in dotted form (libwrap's and iptables' net/mask); undefined when one does not parse. */
export function inMasked(addr: string, net: string, mask: string): boolean | undefined {
  const [a, n, m] = [addr, net, mask].map(toBits);
  if (!n || !m || n.length !== 32 || m.length !== 32) return undefined;
  if (!a || a.length !== 32) return false;
  for (let i = 0; i < 32; i++) if (m[i] === '1' && a[i] !== n[i]) return false;
  return true;
}
