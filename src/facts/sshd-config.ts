// sshd_config as sshd reads it: Include expanded in place, Match blocks scoping what follows, first value wins.

export interface ConfigFile {
  path: string;
  text: string;
}

/** One directive line, where it is and whether a Match block scopes it. */
export interface Directive {
  file: string;
  /** 0-based line index in its file. */
  index: number;
  keyword: string;
  args: string[];
  inMatch: boolean;
  /** The arguments of the Match line that scopes it (undefined outside Match blocks). */
  match?: string[];
}

/** Split a config line into keyword and arguments ("Key value", "Key=value", quoted arguments); undefined for blanks and comments. */
export function parseLine(line: string): { keyword: string; args: string[] } | undefined {
  const text = line.trim();
  if (!text || text.startsWith('#')) return undefined;
  const m = /^([A-Za-z0-9]+)(?:\s*=\s*|\s+)(.*)$/.exec(text) ?? /^([A-Za-z0-9]+)()$/.exec(text);
  if (!m) return undefined;
  const args: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let a: RegExpExecArray | null;
  const rest = m[2]!.replace(/\s+#.*$/, '');
  while ((a = re.exec(rest))) args.push(a[1] ?? a[2]!);
  return { keyword: m[1]!.toLowerCase(), args };
}

/** Files an Include pattern names, in the sorted order sshd's glob(3) gives them. */
export function includeMatches(pattern: string, files: ConfigFile[]): ConfigFile[] {
  const absolute = pattern.startsWith('/') ? pattern : `/etc/ssh/${pattern}`;
  const re = new RegExp(`^${absolute.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return files.filter((f) => re.test(f.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every directive in the order sshd reads them, Includes expanded where they stand. */
export function readOrder(files: ConfigFile[], main: string): Directive[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const out: Directive[] = [];
  const walk = (file: ConfigFile, inherited: string[] | undefined, depth: number) => {
    let match = inherited;
    file.text.split('\n').forEach((line, index) => {
      const parsed = parseLine(line);
      if (!parsed) return;
      if (parsed.keyword === 'match') {
        match = parsed.args.length === 1 && parsed.args[0]!.toLowerCase() === 'all' ? undefined : parsed.args;
        return;
      }
      if (parsed.keyword === 'include') {
        if (depth < 8) for (const pattern of parsed.args) for (const inc of includeMatches(pattern, files)) walk(inc, match, depth + 1);
        return;
      }
      out.push({ file: file.path, index, keyword: parsed.keyword, args: parsed.args, inMatch: match !== undefined, match });
    });
  };
  const root = byPath.get(main);
  if (root) walk(root, undefined, 0);
  return out;
}

/**
 * The configuration as one file, for `sshd -t -f /dev/stdin`: each Include replaced by the files it names,
 * and a `Match all` after an included file that ends inside a Match block, so its scope does not leak.
 */
export function flatten(files: ConfigFile[], main: string): string {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const render = (file: ConfigFile, depth: number): string[] => {
    const lines: string[] = [];
    let inMatch = false;
    for (const line of file.text.split('\n')) {
      const parsed = parseLine(line);
      if (parsed?.keyword === 'match') inMatch = !(parsed.args.length === 1 && parsed.args[0]!.toLowerCase() === 'all');
      if (parsed?.keyword === 'include' && depth < 8) {
        lines.push(`# ${line.trim()}`);
        for (const pattern of parsed.args) for (const inc of includeMatches(pattern, files)) lines.push(...render(inc, depth + 1));
        continue;
      }
      lines.push(line);
    }
    if (depth > 0 && inMatch) lines.push('Match all');
    return lines;
  };
  const root = byPath.get(main);
  return root ? `${render(root, 0).join('\n')}\n` : '';
}

/** `sshd -T` output: lowercase keyword -> every value it printed. */
export function parseEffective(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const key = line.slice(0, sp).toLowerCase();
    out.set(key, [...(out.get(key) ?? []), line.slice(sp + 1).trim()]);
  }
  return out;
}

export interface MaxStartups {
  start: number;
  rate: number;
  full: number;
}

export function parseMaxStartups(value: string): MaxStartups | undefined {
  const m = /^(\d+)(?::(\d+):(\d+))?$/.exec(value.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  return m[2] === undefined ? { start, rate: 100, full: start } : { start, rate: Number(m[2]), full: Number(m[3]) };
}
