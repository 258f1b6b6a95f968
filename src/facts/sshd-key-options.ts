// An authorized_keys option list as sshd parses it (sshauthopt_parse in auth-options.c): what makes sshd skip the line.

/** Flag options in sshd's order, and whether each takes a "no-" prefix (opt_flag). */
const FLAGS: [string, boolean][] = [
  ['restrict', false],
  ['cert-authority', false],
  ['port-forwarding', true],
  ['agent-forwarding', true],
  ['x11-forwarding', true],
  ['touch-required', true],
  ['verify-required', true],
  ['pty', true],
  ['user-rc', true],
];

/** Options that take ="value" (opt_match), and what sshd demands of the value; those that may appear once. */
const VALUED: Record<string, (value: string) => string | undefined> = {
  command: () => undefined,
  principals: () => undefined,
  from: () => undefined,
  'expiry-time': (v) => (/^\d{8}(\d{4}(\d{2})?)?(Z|UTC)?$/i.test(v) ? undefined : 'invalid expires time (YYYYMMDD[HHMM[SS]][Z])'),
  environment: (v) => (/^[A-Za-z0-9_]+=/.test(v) ? undefined : 'invalid environment string (NAME=value)'),
  permitopen: (v) => (hostPort(v) ? undefined : 'invalid permission (host:port)'),
  permitlisten: (v) => (hostPort(v) || hostPort(`*:${v}`) ? undefined : 'invalid permission ([host:]port)'),
  tunnel: (v) => (/^(any|\d{1,9})$/i.test(v) ? undefined : 'invalid tun device'),
};
const ONCE = new Set(['command', 'principals', 'from']);

function hostPort(value: string): boolean {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\*|\d+)$/.exec(value);
  return !!m && (m[2] === '*' || (Number(m[2]) >= 1 && Number(m[2]) <= 65535));
}

/** A flag at `at` (its "no-" form where allowed): the index after it, or -1. */
function flagEnd(text: string, at: number): number {
  for (const [name, negatable] of FLAGS) {
    const start = negatable && text.slice(at, at + 3).toLowerCase() === 'no-' ? at + 3 : at;
    if (text.slice(start, start + name.length).toLowerCase() === name) return start + name.length;
  }
  return -1;
}

/** A double-quoted value at `at` (\" inside it is a quote): the value and the index after it, or why not (opt_dequote). */
function dequote(text: string, at: number): { value: string; end: number } | { error: string } {
  if (text[at] !== '"') return { error: 'missing start quote' };
  let value = '';
  let i = at + 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === '\\' && text[i + 1] === '"') i++;
    value += text[i];
  }
  if (i >= text.length) return { error: 'missing end quote' };
  return { value, end: i + 1 };
}

/**
 * Why sshd refuses `options` (the text before the key type, up to its first unquoted blank), as sshauthopt_parse
 * does; undefined when it accepts them. sshd then skips the whole line.
 */
export function sshdOptionsProblem(options: string): string | undefined {
  // sshd parses the line itself: the blank that ends the options is part of what it reads.
  const text = `${options} `;
  const seen = new Set<string>();
  let i = 0;
  while (i < text.length && text[i] !== ' ' && text[i] !== '\t') {
    const start = i;
    const flag = flagEnd(text, i);
    if (flag >= 0) i = flag;
    else {
      const name = Object.keys(VALUED).find((n) => text.slice(i, i + n.length + 1).toLowerCase() === `${n}=`);
      if (name) {
        const quoted = dequote(text, i + name.length + 1);
        if ('error' in quoted) return `${name}: ${quoted.error}`;
        if (ONCE.has(name) && seen.has(name)) return `more than one "${name}" option`;
        seen.add(name);
        const problem = VALUED[name]!(quoted.value);
        if (problem) return `${name}: ${problem}`;
        i = quoted.end;
      }
    }
    if (text[i] === ' ' || text[i] === '\t') break;
    // Anything but a comma after an option (or where none was read) is an option sshd does not know.
    if (text[i] !== ',') return `"${/^[^, \t]*/.exec(text.slice(start))![0] || text.slice(start, i + 1)}" is not an option sshd knows`;
    i++;
  }
  return undefined;
}
