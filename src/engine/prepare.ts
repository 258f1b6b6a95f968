// Before anything connects: render every step for every host and validate its parameters, so bad input touches nothing.
import { ConfigError, ConfigErrors } from '../config/errors.js';
import type { HostSpec } from '../config/inventory.js';
import type { Playbook, Step } from '../config/playbook.js';
import { renderTemplates, VarScope, type TemplateProblem, type Vars } from '../config/template.js';
import { describePath, parseWith } from '../config/validate.js';
import type { ValuePath } from '../config/yaml-source.js';
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

/** Where a variable's value was set: the error for a problem at `path` inside it, and how to name it. */
interface VarOrigin {
  label: string;
  error(path: ValuePath, message: string): ConfigError;
}

/**
 * The variables a host's steps see: playbook vars, then the inventory's (defaults, groups, host), then --var, then
 * the host's own facts (host_name, host_address, host_port, host_user), with where each was set. A variable's value
 * may itself use {{ other }}, to any depth: `ssh_port: "{{ host_port }}"`.
 */
export function hostVars(host: HostSpec, playbook: Playbook, cliVars: Vars): { scope: VarScope; origins: Map<string, VarOrigin> } {
  const facts = { host_name: host.name, host_address: host.address, host_port: host.ssh.port, host_user: host.ssh.user };
  const origins = new Map<string, VarOrigin>();
  for (const name of Object.keys(playbook.vars)) {
    origins.set(name, { label: `vars.${name}`, error: (path, message) => playbook.source.error(['vars', name, ...path], `${describePath(['vars', name, ...path])}: ${message}`) });
  }
  for (const name of Object.keys(host.vars)) {
    origins.set(name, { label: `the inventory's vars.${name}`, error: (_path, message) => new ConfigError(`vars.${name}: ${message}`, host.varPosition?.(name)) });
  }
  for (const name of Object.keys(cliVars)) origins.set(name, { label: `--var ${name}`, error: (_path, message) => new ConfigError(`--var ${name}: ${message}`) });
  for (const name of Object.keys(facts)) origins.set(name, { label: `the host fact ${name}`, error: (_path, message) => new ConfigError(`${name}: ${message}`) });
  const scope = new VarScope({ ...playbook.vars, ...host.vars, ...cliVars, ...facts }, new Set(Object.keys(facts)));
  return { scope, origins };
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
      const { scope, origins } = hostVars(host, playbook, cliVars);
      for (const step of [...playbook.checks, ...playbook.handlers]) {
        const prepared = prepareStep(step, scope, origins, (error) => report(error, host.name));
        if (prepared) (step.kind === 'check' ? job.checks : job.handlers).push(prepared);
      }
      for (const p of scope.problems) report(origins.get(p.variable!)!.error(p.path, p.message), host.name);
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

function prepareStep(step: Step, scope: VarScope, origins: Map<string, VarOrigin>, report: (e: ConfigError) => void): PreparedStep | undefined {
  const module = modules.get(step.module)!;
  const source = step.playbook.source;
  const templateProblems: TemplateProblem[] = [];
  // A problem inside a variable is reported once, where the variable is set (prepareJobs).
  const reportAll = (at: (p: TemplateProblem) => ValuePath) => templateProblems.filter((p) => !p.dependent).forEach((p) => report(source.error(at(p), p.message)));
  if (step.when !== undefined) {
    const condition = renderTemplates(step.when, scope, [], templateProblems);
    reportAll(() => [...step.paramsPath.slice(0, -1), 'when']);
    if (templateProblems.length) return undefined;
    if (isFalse(condition)) return { step, module, params: undefined, skip: `when ${JSON.stringify(step.when)} is false` };
  }
  const rendered = renderTemplates(step.params, scope, [], templateProblems);
  reportAll((p) => [...step.paramsPath, ...p.path]);
  if (templateProblems.length) return undefined;
  try {
    return { step, module, params: parseWith(module.params, rendered, source, step.paramsPath, (path) => cameFrom(step.params, path, scope, origins)) };
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    err.errors.forEach(report);
    return undefined;
  }
}

/**
 * Where a bad parameter value came from, when {{ variables }} made it: " (from --var authorized_key)". Follows the
 * template found at `path` (or above it) through the variables it names, to the ones that were not templates.
 */
function cameFrom(params: unknown, path: ValuePath, scope: VarScope, origins: Map<string, VarOrigin>): string | undefined {
  let node = params;
  for (const part of path) {
    if (typeof node === 'string' || node === null || typeof node !== 'object') break;
    node = (node as Record<string | number, unknown>)[part];
  }
  const seen = new Set<string>();
  const sources: string[] = [];
  const follow = (text: unknown) => {
    if (typeof text !== 'string') return;
    for (const [, dotted] of text.matchAll(PLACEHOLDER_NAMES)) {
      const name = dotted!.split('.')[0]!;
      if (seen.has(name)) continue;
      seen.add(name);
      const raw = scope.raw(name);
      if (typeof raw === 'string' && raw.includes('{{')) follow(raw);
      else if (origins.has(name)) sources.push(origins.get(name)!.label);
    }
  };
  follow(node);
  return sources.length ? ` (from ${sources.join(', ')})` : undefined;
}

const PLACEHOLDER_NAMES = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

function isFalse(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0) return true;
  return typeof value === 'string' && ['', 'false', 'no', '0'].includes(value.trim().toLowerCase());
}
