// What refused a TCP connection: a TCP RST, or an ICMP port-unreachable (a firewall REJECT, fail2ban's ban), told apart
// by the kernel's ICMP counters around the connect; Linux gives ECONNREFUSED for both. No privilege needed.
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { alone } from './quiet.js';

/** `icmp`: an ICMP destination-unreachable came back; `rst`: none did (a TCP RST); `unknown`: `why` says why it cannot be told. */
export type Refusal = { by: 'rst' } | { by: 'icmp' } | { by: 'unknown'; why: string };

/** Connections made to tell: every one must agree, so that an ICMP error meant for another socket cannot decide. */
const ATTEMPTS = 2;

/** Where the kernel counts the ICMP destination-unreachable messages received (this network namespace's). */
const COUNTERS = {
  4: { file: '/proc/net/snmp', read: (text: string) => tableValue(text, 'Icmp:', 'InDestUnreachs') },
  6: { file: '/proc/net/snmp6', read: (text: string) => Number(/^Icmp6InDestUnreachs\s+(\d+)$/m.exec(text)?.[1] ?? NaN) },
} as const;

/**
 * Why `address:port` refuses, from ATTEMPTS connects, each bounded by `timeoutMs`, made alone among this process's
 * probes (their ICMP errors would count); ICMP that other programs on this machine draw meanwhile can still blur it,
 * which the attempts' agreement catches.
 */
export function refusalOf(address: string, port: number, timeoutMs: number): Promise<Refusal> {
  return alone(() => measure(address, port, timeoutMs));
}

async function measure(address: string, port: number, timeoutMs: number): Promise<Refusal> {
  const counter = COUNTERS[address.includes(':') ? 6 : 4];
  const seen: boolean[] = [];
  for (let i = 0; i < ATTEMPTS; i++) {
    const before = await readCounter(counter);
    if (typeof before === 'string') return { by: 'unknown', why: before };
    const code = await connectError(address, port, timeoutMs);
    const after = await readCounter(counter);
    if (typeof after === 'string') return { by: 'unknown', why: after };
    if (code !== 'ECONNREFUSED') return { by: 'unknown', why: `a second connection did not end the same way (${code})` };
    seen.push(after > before);
  }
  if (seen.every(Boolean)) return { by: 'icmp' };
  if (!seen.some(Boolean)) return { by: 'rst' };
  return { by: 'unknown', why: 'an ICMP error came back to some connections only (other traffic on this machine)' };
}

async function readCounter(counter: (typeof COUNTERS)[4 | 6]): Promise<number | string> {
  try {
    const value = counter.read(await readFile(counter.file, 'utf8'));
    return Number.isFinite(value) ? value : `${counter.file} has no count of ICMP destination-unreachable messages`;
  } catch (err) {
    return `${counter.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): not Linux?`;
  }
}

/** A value of /proc/net/snmp: a header line and a value line per protocol. */
export function tableValue(text: string, protocol: string, field: string): number {
  const lines = text.split('\n').filter((l) => l.startsWith(`${protocol} `));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const at = names.indexOf(field);
  return at < 0 ? NaN : Number(values[at]);
}

/** How a connect ends: an error code, `connected`, or `timeout`. */
function connectError(address: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const timer = setTimeout(() => (socket.destroy(), resolve('timeout')), timeoutMs);
    socket.once('connect', () => (clearTimeout(timer), socket.destroy(), resolve('connected')));
    socket.once('error', (e: NodeJS.ErrnoException) => (clearTimeout(timer), resolve(e.code ?? e.message)));
  });
}
