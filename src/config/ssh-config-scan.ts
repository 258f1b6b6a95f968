// Whether ssh_config can give hosts different values of what fleetfix reads from `ssh -G`: a scan of every file ssh
// would read, following Include (readconf.c's rules), for a keyword that sets one; anything it cannot be sure of counts.
import { readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import picomatch from 'picomatch';

/** The keywords (ssh's aliases too) whose values fleetfix reads, and those that change the HostName ssh -G prints. */
const BY_HOST_KEYWORDS = new Set([
  'hostname', 'user', 'port', 'identityfile', 'identityfile2', 'userknownhostsfile', 'stricthostkeychecking', 'proxyjump', 'proxycommand',
  'addressfamily', 'canonicaldomains', 'canonicalizefallbacklocal', 'canonicalizehostname', 'canonicalizemaxdots', 'canonicalizepermittedcnames',
]);

/** ssh's READCONF_MAX_DEPTH: a file included deeper is a fatal error. */
const MAX_INCLUDE_DEPTH = 16;
const SYSTEM_CONFIG = '/etc/ssh/ssh_config';
const SYSTEM_DIR = '/etc/ssh';

/** A file name pattern whose meaning glob(3) and picomatch agree on: "*" and "?" among plain characters, no leading ".". */
const PLAIN_PATTERN = /^[\w,:=~ *?-][\w.,:=~ *?-]*$/;
const PATTERN_OPTIONS: picomatch.PicomatchOptions = { dot: false, nobrace: true, noextglob: true, noglobstar: true, nonegate: true };

/**
 * True unless every file `ssh -G` reads with these arguments (["-F", FILE], or [] for ~/.ssh/config and the system
 * file) surely sets none of: HostName, User, Port, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking, ProxyJump,
 * ProxyCommand, AddressFamily, Canonical*. Includes are followed wherever they are, Host and Match blocks too.
 */
export function mayVaryByHost(configArgs: string[]): boolean {
  const files = configArgs[0] === '-F' ? [{ path: configArgs[1]!, user: true }] : [{ path: join(userInfo().homedir, '.ssh', 'config'), user: true }, { path: SYSTEM_CONFIG, user: false }];
  return files.some(({ path, user }) => fileMayVary(path, user, 0));
}

/** `user`: a user configuration file, whose relative Includes are in ~/.ssh (those of the system file are in /etc/ssh). */
function fileMayVary(path: string, user: boolean, depth: number): boolean {
  if (depth > MAX_INCLUDE_DEPTH) return true;
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (err) {
    // ssh skips a file that is not there; one it cannot read is an error in an Include, and skipped at the top.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  // C strings end at a NUL, so ssh would read a different line than this scan.
  if (text.includes('\0')) return true;
  return text.split('\n').some((line) => lineMayVary(line, user, depth));
}

function lineMayVary(line: string, user: boolean, depth: number): boolean {
  const parsed = keywordAndRest(line.replace(/[ \t\r\n\f]+$/, ''));
  if (!parsed) return false;
  if (BY_HOST_KEYWORDS.has(parsed.keyword)) return true;
  if (parsed.keyword !== 'include') return false;
  // Backslashes are escapes both to ssh's argument splitting and to glob(3).
  const args = parsed.rest.includes('\\') ? undefined : splitArguments(parsed.rest);
  return args === undefined || args.some((arg) => includeMayVary(arg, user, depth));
}

function includeMayVary(arg: string, user: boolean, depth: number): boolean {
  // %tokens and ${ENV} (newer ssh expands them), and names this scan might not spell as the file system does.
  if (/[%$]|[^\x20-\x7e]/.test(arg)) return true;
  // A relative path is in ~/.ssh (user files) or /etc/ssh; glob(3)'s GLOB_TILDE takes "~" from $HOME. "~user", and "~"
  // in the system file (an error there), are out.
  const home = process.env.HOME;
  let path = arg;
  if (arg.startsWith('~')) {
    if (!user || !arg.startsWith('~/') || !home) return true;
    path = home + arg.slice(1);
  } else if (!arg.startsWith('/')) {
    if (user && !home) return true;
    path = user ? `${home}/.ssh/${arg}` : `${SYSTEM_DIR}/${arg}`;
  }
  const paths = globPaths(path);
  return paths === undefined || paths.some((p) => fileMayVary(p, user, depth + 1));
}

/** The paths glob(3) gives for `path` (a pattern in its last component only), sorted as it sorts them; undefined when unsure. */
function globPaths(path: string): string[] | undefined {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  if (/[*?[]/.test(dir) || name === '') return undefined;
  if (!/[*?[]/.test(name)) return [path];
  if (!PLAIN_PATTERN.test(name)) return undefined;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? [] : undefined;
  }
  // glob(3) sorts in the C locale (ssh sets only LC_CTYPE), byte by byte: the same as JavaScript's order for ASCII.
  if (entries.some((e) => /[^\x20-\x7e]/.test(e))) return undefined;
  const matches = picomatch(name, PATTERN_OPTIONS);
  return entries.filter((e) => matches(e)).sort().map((e) => dir + e);
}

/**
 * A line's keyword (lower case) and what follows it, split as ssh's strdelim does: at blanks or one "=", a keyword in
 * quotes unquoted; undefined for a line ssh ignores (blank, a comment, an unclosed quote).
 */
function keywordAndRest(line: string): { keyword: string; rest: string } | undefined {
  let token = nextToken(line);
  if (token?.text === '') token = token.rest === undefined ? undefined : nextToken(token.rest);
  if (!token || token.text === '' || token.text.startsWith('#')) return undefined;
  return { keyword: token.text.toLowerCase(), rest: trimBlanks(token.rest ?? '') };
}

/** misc.c strdelim: the token up to a blank, a quote or "=", and the rest after the blanks (and one "=") that follow. */
function nextToken(s: string): { text: string; rest: string | undefined } | undefined {
  const at = s.search(/[ \t\r\n"=]/);
  if (at < 0) return { text: s, rest: undefined };
  if (s[at] === '"') {
    const close = s.indexOf('"', at + 1);
    return close < 0 ? undefined : { text: s.slice(0, at) + s.slice(at + 1, close), rest: trimBlanks(s.slice(close + 1)) };
  }
  const rest = trimBlanks(s.slice(at + 1));
  return { text: s.slice(0, at), rest: s[at] !== '=' && rest.startsWith('=') ? trimBlanks(rest.slice(1)) : rest };
}

function trimBlanks(s: string): string {
  return s.replace(/^[ \t\r\n]+/, '');
}

/** misc.c argv_split for a line without backslashes: words between blanks, '…' and "…" unquoted, a word starting "#" ends the line. */
function splitArguments(s: string): string[] | undefined {
  const args: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === '\t') {
      i++;
      continue;
    }
    if (s[i] === '#') break;
    let arg = '';
    let quote = '';
    for (; i < s.length && (quote || (s[i] !== ' ' && s[i] !== '\t')); i++) {
      const c = s[i]!;
      if (!quote && (c === '"' || c === "'")) quote = c;
      else if (c === quote) quote = '';
      else arg += c;
    }
    if (quote) return undefined;
    args.push(arg);
  }
  return args;
}
