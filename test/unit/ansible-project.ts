// The parts of a HostSpec an inventory decides, with machine-specific paths written portably: the fixtures' folder as
// ".", the home directory as "~", the local user as "<local user>".
import { homedir, userInfo } from 'node:os';
import type { Inventory } from '../../src/config/inventory.js';

export function project(inv: Inventory, dir: string) {
  const local = userInfo().username;
  const path = (p: string) => p.replace(dir, '.').replace(homedir(), '~');
  const user = (u: string) => (u === local ? '<local user>' : u);
  return {
    hosts: Object.fromEntries(
      inv.hosts.map((h) => [
        h.name,
        {
          address: h.address,
          transport: h.transport,
          port: h.ssh.port,
          user: user(h.ssh.user),
          groups: h.groups,
          ...(h.become ? { become: h.become } : {}),
          knownHosts: path(h.knownHosts),
          hostKeyPolicy: h.hostKeyPolicy,
          identities: h.ssh.identities.map(path),
          ...(h.ssh.password !== undefined ? { password: 'set' } : {}),
          ...(h.ssh.jump ? { jump: { address: h.ssh.jump.address, port: h.ssh.jump.port, user: user(h.ssh.jump.user) } } : {}),
          vars: h.vars,
          ...(h.sshConfig ? { sshConfig: h.sshConfig } : {}),
        },
      ]),
    ),
    groups: Object.fromEntries(inv.groups),
  };
}
