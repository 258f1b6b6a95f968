// Before anything connects: render every step for every host and validate its parameters, so bad input touches nothing.
import { ConfigErrors, type ConfigError } from '../config/errors.js';
import type { HostSpec } from '../config/inventory.js';
import type { Playbook, Step } from '../config/playbook.js';
import { renderTemplates, type TemplateProblem, type Vars } from '../config/template.js';
import { parseWith } from '../config/validate.js';
import { modules } from '../modules/registry.js';
import type { ModuleDef } from '../modules/types.js';

export interface PreparedStep {
  step: Step;
  module: ModuleDef;
  params: unknown;
  /** Why the step does not run on this host (its `when` is false). */
  skip?: string;
}

export interface HostJob {
  host: HostSpec;
  checks: PreparedStep[];
  handlers: PreparedStep[];
}

/**
 * The variables a host's steps see: playbook vars, then the inventory's (defaults, groups, host), then --var, then
 * the host's own facts (host_name, host_address, host_port, host_user). A variable's value may itself use
 * {{ other }} (one level): `ssh_port: "{{ host_port }}"`.
 */
export function hostVars(host: HostSpec, playbook: Playbook, cliVars: Vars): Vars {
  const merged: Record<string, unknown> = {
    ...playbook.vars,
    ...host.vars,
    ...cliVars,
    host_name: host.name,
    host_address: host.address,
    host_port: host.ssh.port,
    host_user: host.ssh.user,
  };
  const rendered: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) rendered[k] = renderTemplates(v, merged, [], []);
  return rendered;
}

export function prepareJobs(hosts: HostSpec[], playbooks: Playbook[], cliVars: Vars): HostJob[] {
  const problems = new Map<string, { error: ConfigError; hosts: string[] }>();
  const report = (error: ConfigError, host: string) => {
    const entry = problems.get(error.message);
    if (entry) entry.hosts.push(host);
    else problems.set(error.message, { error, hosts: [host] });
  };
  const jobs = hosts.map((host) => {
    const job: HostJob = { host, checks: [], handlers: [] };
    for (const playbook of playbooks) {
      const vars = hostVars(host, playbook, cliVars);
      for (const step of [...playbook.checks, ...playbook.handlers]) {
        const prepared = prepareStep(step, vars, (error) => report(error, host.name));
        if (prepared) (step.kind === 'check' ? job.checks : job.handlers).push(prepared);
      }
    }
    return job;
  });
  if (problems.size > 0) {
    throw new ConfigErrors(
      [...problems.values()].map(({ error, hosts: names }) => {
        if (hosts.length > 1) error.message += ` (for host ${names[0]}${names.length > 1 ? ` and ${names.length - 1} more` : ''})`;
        return error;
      }),
    );
  }
  return jobs;
}

function prepareStep(step: Step, vars: Vars, report: (e: ConfigError) => void): PreparedStep | undefined {
  const module = modules.get(step.module)!;
  const source = step.playbook.source;
  const templateProblems: TemplateProblem[] = [];
  if (step.when !== undefined) {
    const condition = renderTemplates(step.when, vars, [], templateProblems);
    for (const p of templateProblems) report(source.error([...step.paramsPath.slice(0, -1), 'when'], p.message));
    if (templateProblems.length) return undefined;
    if (isFalse(condition)) return { step, module, params: undefined, skip: `when ${JSON.stringify(step.when)} is false` };
  }
  const rendered = renderTemplates(step.params, vars, [], templateProblems);
  for (const p of templateProblems) report(source.error([...step.paramsPath, ...p.path], p.message));
  if (templateProblems.length) return undefined;
  try {
    return { step, module, params: parseWith(module.params, rendered, source, step.paramsPath) };
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    err.errors.forEach(report);
    return undefined;
  }
}

function isFalse(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0) return true;
  return typeof value === 'string' && ['', 'false', 'no', '0'].includes(value.trim().toLowerCase());
}
