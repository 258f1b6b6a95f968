// --var NAME=VALUE (repeatable); a value @path is read from that file.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { expandHome } from '../util/paths.js';

export function parseVars(specs: string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`--var ${JSON.stringify(spec)}: expected NAME=VALUE with NAME of letters, digits and _`);
    let value = spec.slice(eq + 1);
    if (value.startsWith('@')) {
      const path = expandHome(value.slice(1));
      try {
        value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new ConfigError(`--var ${name}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    vars[name] = value;
  }
  return vars;
}
