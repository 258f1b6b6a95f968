// One TCP connection to a port, read up to the first line: refused, timed out, unreachable, closed, or what answered.
import { connect as tcpConnect, type Socket } from 'node:net';
import { asProbe } from './quiet.js';

/** `host-unreachable` and `net-unreachable` are the kernel's EHOSTUNREACH and ENETUNREACH (an ICMP error, or no ARP answer). */
export type TcpOutcome = 'open' | 'refused' | 'timeout' | 'host-unreachable' | 'net-unreachable' | 'reset' | 'not-ssh';

export interface TcpSeen {
  outcome: TcpOutcome;
  /** The first line the port sent (at most 80 characters), when it sent one. */
  banner?: string;
  /** How long the port held the connection, sending nothing, before it hung up (`reset` only). */
  silentMs?: number;
}

/**
 * Connect, wait for the first line (or the close), and hang up; never longer than `timeoutMs`. With `keep`, a port
 * that answered with an SSH banner stays connected, the bytes read pushed back, for the handshake to go on over it:
 * one connection, not two (a second, right after the first, can itself fill a small MaxStartups).
 */
export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<TcpSeen>;
export function tcpProbe(address: string, port: number, timeoutMs: number, keep: true): Promise<TcpSeen & { socket?: Socket }>;
export function tcpProbe(address: string, port: number, timeoutMs: number, keep = false): Promise<TcpSeen & { socket?: Socket }> {
  return asProbe(() => connectAndRead(address, port, timeoutMs, keep));
}

function connectAndRead(address: string, port: number, timeoutMs: number, keep: boolean): Promise<TcpSeen & { socket?: Socket }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: address, port });
    let connected = false;
    let connectedAt = 0;
    let data = '';
    const chunks: Buffer[] = [];
    let settled = false;
    const firstLine = () => data.split(/\r?\n/)[0]!.slice(0, 80) || undefined;
    const done = (outcome: TcpOutcome, banner?: string, silentMs?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const seen: TcpSeen = banner === undefined ? { outcome } : { outcome, banner };
      if (silentMs !== undefined) seen.silentMs = silentMs;
      if (keep && outcome === 'open' && !socket.destroyed) {
        socket.removeAllListeners('data').removeAllListeners('close').removeAllListeners('error').removeAllListeners('connect');
        socket.pause();
        socket.unshift(Buffer.concat(chunks));
        return resolve({ ...seen, socket });
      }
      socket.destroy();
      resolve(seen);
    };
    const timer = setTimeout(() => (connected ? done(data ? 'not-ssh' : 'reset', firstLine()) : done('timeout')), timeoutMs);
    socket.on('connect', () => {
      connected = true;
      connectedAt = Date.now();
    });
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      data += d.toString('latin1');
      if (data.includes('\n') || data.length > 255) done(data.startsWith('SSH-') ? 'open' : 'not-ssh', firstLine());
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (connected) return done(data ? 'not-ssh' : 'reset', firstLine());
      done(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'EHOSTUNREACH' ? 'host-unreachable' : e.code === 'ENETUNREACH' ? 'net-unreachable' : 'timeout');
    });
    socket.on('close', () => {
      if (connected) done(data.startsWith('SSH-') ? 'open' : data ? 'not-ssh' : 'reset', firstLine(), data ? undefined : Date.now() - connectedAt);
    });
  });
}
