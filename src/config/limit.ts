// --limit: host or group names, globs and comma lists; a leading ! excludes.
import { ConfigError } from './errors.js';
import type { HostSpec, Inventory } from './inventory.js';

/** What --limit understands, said with every term that matches nothing (Ansible's [1-9] classes and ~regex are not among it). */
const SUPPORTED = 'supported: host and group names, * and ? globs, comma-separated terms, !TERM to exclude; other characters, such as [1-9] or ~regex, are matched literally';

export function limitHosts(inventory: Inventory, pattern: string | undefined): HostSpec[] {
  if (!pattern) return inventory.hosts;
  const terms = pattern.split(',').map((t) => t.trim()).filter(Boolean);
  const includes = terms.filter((t) => !t.startsWith('!'));
  const excludes = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  const matches = (host: HostSpec, term: string) => {
    const re = globToRegExp(term);
    return re.test(host.name) || host.groups.some((g) => re.test(g));
  };
  const unmatched = [...includes, ...excludes].filter((t) => !inventory.hosts.some((h) => matches(h, t)) && !inventory.groups.has(t));
  if (unmatched.length) throw new ConfigError(`--limit: no host or group matches ${unmatched.map((t) => `"${t}"`).join(', ')} (${SUPPORTED})`);
  const selected = inventory.hosts.filter((h) => (includes.length === 0 || includes.some((t) => matches(h, t))) && !excludes.some((t) => matches(h, t)));
  if (selected.length === 0) throw new ConfigError(`--limit "${pattern}" leaves no hosts`);
  return selected;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}
