// {{ var }} substitution in playbook values and in variables themselves, with an error for every undefined name or loop.
import type { ValuePath } from './yaml-source.js';

export type Vars = Readonly<Record<string, unknown>>;

export interface TemplateProblem {
  path: ValuePath;
  message: string;
  /** Set when the problem lies in this variable's own value; `path` is then inside that value. */
  variable?: string;
  /** A consequence of a problem already reported in a variable: not worth a line of its own. */
  dependent?: boolean;
}

/** Variables may use variables, this many deep. */
export const MAX_VAR_DEPTH = 32;
/** No rendered string may be longer: a few variables that each repeat another cannot grow without end. */
export const MAX_RENDERED = 1024 * 1024;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}$/;
/** Stands for the value of a variable that could not be rendered. */
const BROKEN = Symbol('broken');

/**
 * Variables whose values may hold {{ placeholders }} of their own. Each is rendered once, when first used, to any
 * depth up to MAX_VAR_DEPTH; a loop or an undefined name is a problem of the variable that holds it, in `problems`.
 * Names in `literal` are taken as they are (facts about the host).
 */
export class VarScope {
  readonly problems: TemplateProblem[] = [];
  private readonly rendered = new Map<string, unknown>();
  private readonly resolving: string[] = [];

  constructor(
    private readonly values: Vars,
    private readonly literal: ReadonlySet<string> = new Set(),
  ) {}

  names(): string[] {
    return Object.keys(this.values);
  }

  /** The variable's value as it was set, before rendering. */
  raw(name: string): unknown {
    return Object.hasOwn(this.values, name) ? this.values[name] : undefined;
  }

  /** The variable's rendered value: undefined when it is not defined, BROKEN when its value has a problem. */
  get(name: string): unknown {
    if (!Object.hasOwn(this.values, name)) return undefined;
    if (this.literal.has(name)) return this.values[name];
    if (this.rendered.has(name)) return this.rendered.get(name);
    const loop = this.resolving.indexOf(name);
    if (loop >= 0 || this.resolving.length >= MAX_VAR_DEPTH) {
      const chain = [...this.resolving.slice(Math.max(loop, 0)), name].join(' -> ');
      const message = loop >= 0 ? `variables refer to each other in a loop: ${chain}` : `variables nest more than ${MAX_VAR_DEPTH} deep: ${chain}`;
      this.problems.push({ path: [], message, variable: name });
      this.rendered.set(name, BROKEN);
      return BROKEN;
    }
    this.resolving.push(name);
    const own: TemplateProblem[] = [];
    const value = render(this.values[name], this, [], own);
    this.resolving.pop();
    for (const p of own) if (!p.dependent) this.problems.push({ ...p, variable: name });
    // A loop through this variable was found (and reported) while rendering it: keep that verdict.
    if (!this.rendered.has(name)) this.rendered.set(name, own.length > 0 ? BROKEN : value);
    return this.rendered.get(name);
  }
}

/**
 * Render every string in `value`. A string that is exactly one placeholder takes the variable's own
 * type (a number stays a number); otherwise values are interpolated as text.
 */
export function renderTemplates(value: unknown, vars: Vars | VarScope, path: ValuePath = [], problems: TemplateProblem[] = []): unknown {
  return render(value, vars instanceof VarScope ? vars : new VarScope(vars), path, problems);
}

function render(value: unknown, scope: VarScope, path: ValuePath, problems: TemplateProblem[]): unknown {
  if (typeof value === 'string') return renderString(value, scope, path, problems);
  if (Array.isArray(value)) return value.map((v, i) => render(v, scope, [...path, i], problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = render(v, scope, [...path, k], problems);
    return out;
  }
  return value;
}

function renderString(text: string, scope: VarScope, path: ValuePath, problems: TemplateProblem[]): unknown {
  if (!text.includes('{{')) return text;
  const value = (name: string): unknown => {
    const v = lookup(scope, name);
    if (v === BROKEN) problems.push({ path, message: `uses "${name}", which cannot be rendered`, dependent: true });
    else if (v === undefined) problems.push({ path, message: undefinedMessage(name, scope) });
    return v;
  };
  const whole = WHOLE.exec(text);
  if (whole) {
    const v = value(whole[1]!);
    return v === undefined || v === BROKEN ? text : v;
  }
  let length = 0;
  const rendered = text.replace(PLACEHOLDER, (match, name: string) => {
    if (length > MAX_RENDERED) return '';
    const v = value(name);
    const piece = v === undefined || v === BROKEN ? match : typeof v === 'object' ? JSON.stringify(v) : String(v);
    length += piece.length;
    return piece;
  });
  if (length > MAX_RENDERED) {
    problems.push({ path, message: `${JSON.stringify(text.slice(0, 80))} renders to more than ${MAX_RENDERED} characters` });
    return text;
  }
  if (rendered.includes('{{')) {
    const rest = rendered.replace(PLACEHOLDER, '');
    if (rest.includes('{{')) problems.push({ path, message: `malformed placeholder in ${JSON.stringify(text)}: expected {{ name }}` });
  }
  return rendered;
}

function lookup(scope: VarScope, dotted: string): unknown {
  const [name, ...rest] = dotted.split('.');
  let node: unknown = scope.get(name!);
  if (node === BROKEN) return BROKEN;
  for (const part of rest) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function undefinedMessage(name: string, scope: VarScope): string {
  const names = scope.names().sort();
  return `undefined variable "${name}" (defined: ${names.length ? names.join(', ') : 'none'}; set it in the playbook's vars, the inventory, or with --var ${name}=VALUE)`;
}
