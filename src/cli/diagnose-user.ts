// The user diagnose judges each host's login for: ssh_user as the bundled playbook sees it (its vars, the inventory's, --var).
import { ConfigError } from '../config/errors.js';
import type { HostSpec } from '../config/inventory.js';
import { loadPlaybook } from '../config/playbook.js';
import { renderTemplates, type TemplateProblem, type Vars } from '../config/template.js';
import { hostVars } from '../engine/prepare.js';
import { modules } from '../modules/registry.js';
import { DEFAULT_PLAYBOOK } from './run-command.js';

/** ssh_user per host, or undefined where it is not set; bad input (a loop, an undefined name, not a user name) is exit 1. */
export function playbookUsers(cliVars: Vars): (host: HostSpec) => string | undefined {
  const playbook = loadPlaybook(DEFAULT_PLAYBOOK, [...modules.keys()]);
  return (host) => {
    const { scope } = hostVars(host, playbook, cliVars);
    if (!scope.names().includes('ssh_user')) return undefined;
    const problems: TemplateProblem[] = [];
    const user = renderTemplates('{{ ssh_user }}', scope, [], problems);
    const problem = [...scope.problems, ...problems][0];
    if (problem) throw new ConfigError(`ssh_user for ${host.name}: ${problem.message}`);
    if (typeof user !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(user)) throw new ConfigError(`ssh_user for ${host.name}: expected a user name, got ${JSON.stringify(user)}`);
    return user;
  };
}
