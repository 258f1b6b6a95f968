// Where else sshd answers: the inventory's fallback ports and the usual alternatives, each asked for its banner.
import type { HostSpec } from '../config/inventory.js';
import { tcpProbe } from './tcp.js';

/** Ports sshd is often moved to, and its own (for an inventory that names another). */
export const USUAL_PORTS = [22, 2222, 2200, 22222];

/** The ports to try besides the configured one: the fallbacks' own (direct, not through a jump host), then the usual ones. */
export function otherPorts(host: HostSpec): number[] {
  const fallbacks = host.fallbacks.filter((f) => !f.jump).map((f) => f.port);
  return [...new Set([...fallbacks, ...USUAL_PORTS])].filter((p) => p !== host.ssh.port);
}

export interface SshdAt {
  port: number;
  banner: string;
}

/** The ports among `ports` where an SSH banner ("SSH-...") answers; all asked at once, so within one `timeoutMs`. */
export async function findSshd(address: string, ports: number[], timeoutMs: number): Promise<SshdAt[]> {
  const seen = await Promise.all(ports.map(async (port) => ({ port, ...(await tcpProbe(address, port, timeoutMs)) })));
  return seen.filter((s) => s.outcome === 'open' && s.banner).map((s) => ({ port: s.port, banner: s.banner! }));
}
