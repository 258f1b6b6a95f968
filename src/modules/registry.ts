// Every module by the key a check uses for it.
import { authorizedKeyModule } from './authorized-key.js';
import { fileModule } from './file.js';
import { firewallModule } from './firewall.js';
import { hostKeysModule } from './host-keys.js';
import { ipBanModule } from './ip-ban.js';
import { listeningModule } from './listening.js';
import { logScanModule } from './log-scan.js';
import { nologinModule } from './nologin.js';
import { pamAccountModule } from './pam-account.js';
import { serviceModule } from './service.js';
import { sshdConfigModule } from './sshd-config.js';
import { sshdUserModule } from './sshd-user.js';
import { sshLoginModule } from './ssh-login.js';
import { tcpWrappersModule } from './tcp-wrappers.js';
import type { ModuleDef } from './types.js';

export const modules: ReadonlyMap<string, ModuleDef> = new Map([fileModule, authorizedKeyModule, sshdConfigModule, firewallModule, serviceModule, listeningModule, logScanModule, sshdUserModule, sshLoginModule, tcpWrappersModule, ipBanModule, hostKeysModule, nologinModule, pamAccountModule].map((m) => [m.name, m]));
