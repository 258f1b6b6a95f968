// {{ var }} substitution in playbook values, with an error for every undefined variable.
import type { ValuePath } from './yaml-source.js';

export type Vars = Readonly<Record<string, unknown>>;

export interface TemplateProblem {
  path: ValuePath;
  message: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}$/;

/**
 * Render every string in `value`. A string that is exactly one placeholder takes the variable's own
 * type (a number stays a number); otherwise values are interpolated as text.
 */
export function renderTemplates(value: unknown, vars: Vars, path: ValuePath = [], problems: TemplateProblem[] = []): unknown {
  if (typeof value === 'string') return renderString(value, vars, path, problems);
  if (Array.isArray(value)) return value.map((v, i) => renderTemplates(v, vars, [...path, i], problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderTemplates(v, vars, [...path, k], problems);
    return out;
  }
  return value;
}

function renderString(text: string, vars: Vars, path: ValuePath, problems: TemplateProblem[]): unknown {
  if (!text.includes('{{')) return text;
  const whole = WHOLE.exec(text);
  if (whole) {
    const v = lookup(vars, whole[1]!);
    if (v === undefined) problems.push({ path, message: undefinedMessage(whole[1]!, vars) });
    return v ?? text;
  }
  const rendered = text.replace(PLACEHOLDER, (match, name: string) => {
    const v = lookup(vars, name);
    if (v === undefined) {
      problems.push({ path, message: undefinedMessage(name, vars) });
      return match;
    }
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
  if (rendered.includes('{{')) {
    const rest = rendered.replace(PLACEHOLDER, '');
    if (rest.includes('{{')) problems.push({ path, message: `malformed placeholder in ${JSON.stringify(text)}: expected {{ name }}` });
  }
  return rendered;
}

function lookup(vars: Vars, dotted: string): unknown {
  let node: unknown = vars;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function undefinedMessage(name: string, vars: Vars): string {
  const names = Object.keys(vars).sort();
  return `undefined variable "${name}" (defined: ${names.length ? names.join(', ') : 'none'}; set it in the playbook's vars, the inventory, or with --var ${name}=VALUE)`;
}
