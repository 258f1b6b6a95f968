// This machine's address as a host sees it, for the checks that judge rules by client address (TCP wrappers, bans).
import { z } from 'zod';
import { lineString } from '../config/fields.js';
import { sameAddress, toBits } from '../facts/address.js';
import { first } from '../facts/records.js';
import { shq } from '../util/shell.js';
import { SESSION_CONNECTION } from './sshd-effective.js';

/**
 * `addr`: this machine's address as the host sees it (behind NAT, the address the host sees). Empty or unset: the
 * client address of the session fleetfix holds (SSH_CONNECTION); over a console or a local run there is none.
 */
export const controllerAddressParam = z.preprocess((v) => (v === '' ? undefined : v), lineString('an IPv4 or IPv6 address', (a) => (toBits(a) ? undefined : `got ${JSON.stringify(a)}`), 64).optional());

/**
 * Shell lines that set ff_addr to the address judged and print it (`conn_addr=`), and the session's own client
 * address (`session_addr=`) where there is a session.
 */
export function controllerAddressFacts(addr: string | undefined): string {
  return `${SESSION_CONNECTION}
if [ -n "\${1:-}" ]; then printf 'session_addr=%s\\n' "$1"; fi
ff_addr=${addr ? shq(addr) : '${1:-}'}
if [ -n "$ff_addr" ]; then printf 'conn_addr=%s\\n' "$ff_addr"; fi`;
}

export interface ControllerAddress {
  addr?: string;
  /** The address is the session's own: the host let this very connection in from it. */
  fromSession: boolean;
}

/** The address the records name (controllerAddressFacts); none where a host sent something that is no address. */
export function controllerAddress(r: Map<string, string[]>): ControllerAddress {
  const addr = first(r, 'conn_addr');
  return addr && toBits(addr) ? { addr, fromSession: sameAddress(addr, first(r, 'session_addr') ?? '') } : { fromSession: false };
}

/** What a check says where it has no address to judge by. */
export const NO_ADDRESS = "reached without SSH, so this machine's address as the host sees it is unknown: set addr (the bundled playbook: --var ssh_from=ADDRESS) to judge it";
