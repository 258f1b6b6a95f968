// Playbook loading: YAML -> checks and handlers, each naming exactly one module, with positions kept for later errors.
import { z } from 'zod';
import { ConfigErrors, type ConfigError } from './errors.js';
import { identifierSchema } from './fields.js';
import { parseWith } from './validate.js';
import { YamlSource, type ValuePath } from './yaml-source.js';

export interface Step {
  kind: 'check' | 'handler';
  id: string;
  title: string;
  module: string;
  params: unknown;
  /** Run only when this renders to a true value ("", false, "no", "0" skip the step). */
  when?: unknown;
  notify: string[];
  /** Where the step's module parameters are in the file. */
  paramsPath: ValuePath;
  playbook: Playbook;
}

export interface Playbook {
  name: string;
  file: string;
  source: YamlSource;
  vars: Record<string, unknown>;
  checks: Step[];
  handlers: Step[];
}

const stepFields = {
  id: identifierSchema,
  title: z.string().optional(),
  when: z.union([z.string(), z.boolean()]).optional(),
};

/** The playbook's shape, with module parameters left open: they are checked after {{ var }} substitution. */
export function playbookShape(moduleNames: readonly string[]) {
  const moduleKeys = Object.fromEntries(moduleNames.map((m) => [m, z.record(z.string(), z.unknown()).optional()]));
  const check = z.strictObject({ ...stepFields, notify: z.union([identifierSchema, z.array(identifierSchema)]).optional(), ...moduleKeys });
  const handler = z.strictObject({ ...stepFields, ...moduleKeys });
  return z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    checks: z.array(check).min(1, { error: 'expected at least one check' }),
    handlers: z.array(handler).optional(),
  });
}

/** A playbook is a page or two of YAML; a larger file is refused before it is parsed. */
export const MAX_PLAYBOOK_BYTES = 1024 * 1024;

export function loadPlaybook(file: string, moduleNames: readonly string[]): Playbook {
  const source = YamlSource.load(file, MAX_PLAYBOOK_BYTES);
  const raw = source.value();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw source.error([], 'expected a mapping with "name:" and "checks:"');
  const parsed = parseWith(playbookShape(moduleNames), raw, source);
  const playbook: Playbook = { name: parsed.name, file, source, vars: parsed.vars ?? {}, checks: [], handlers: [] };
  const problems: ConfigError[] = [];
  const seen = new Map<string, ValuePath>();
  const toStep = (kind: Step['kind'], entry: Record<string, unknown>, index: number): Step | undefined => {
    const section = kind === 'check' ? 'checks' : 'handlers';
    const id = entry.id as string;
    if (seen.has(id)) problems.push(source.error([section, index, 'id'], `duplicate id "${id}"`));
    seen.set(id, [section, index]);
    const used = moduleNames.filter((m) => entry[m] !== undefined);
    if (used.length !== 1) {
      problems.push(source.error([section, index], `${section}[${index}] ("${id}"): expected exactly one module (${moduleNames.join(', ')}), found ${used.length ? used.join(', ') : 'none'}`));
      return undefined;
    }
    const module = used[0]!;
    const notify = entry.notify === undefined ? [] : Array.isArray(entry.notify) ? (entry.notify as string[]) : [entry.notify as string];
    return { kind, id, title: (entry.title as string | undefined) ?? id, module, params: entry[module], when: entry.when, notify, paramsPath: [section, index, module], playbook };
  };
  playbook.checks = parsed.checks.map((c, i) => toStep('check', c, i)).filter((s): s is Step => s !== undefined);
  playbook.handlers = (parsed.handlers ?? []).map((h, i) => toStep('handler', h, i)).filter((s): s is Step => s !== undefined);
  const handlerIds = new Set(playbook.handlers.map((h) => h.id));
  parsed.checks.forEach((c, i) => {
    const notify = c.notify === undefined ? [] : Array.isArray(c.notify) ? c.notify : [c.notify];
    notify.forEach((n) => {
      if (!handlerIds.has(n)) problems.push(source.error(['checks', i, 'notify'], `notify: no handler with id "${n}" (handlers: ${[...handlerIds].join(', ') || 'none'})`));
    });
  });
  if (problems.length) throw new ConfigErrors(problems);
  return playbook;
}
