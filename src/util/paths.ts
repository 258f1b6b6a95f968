// Local path helpers: ~ expansion and resolution against a base directory.
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return path;
}

/** Resolve a path written in a config file: ~ is the home directory, relative is against the file's directory. */
export function resolveFrom(baseDir: string, path: string): string {
  const expanded = expandHome(path);
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}
