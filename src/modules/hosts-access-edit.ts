// Pure edits of /etc/hosts.allow and /etc/hosts.deny that let one address reach sshd, and no one else.
import { sameAddress } from '../facts/address.js';
import { evaluateAccess, HOSTS_ALLOW, parseAccessFile, type AccessRule } from '../facts/hosts-access.js';

export interface AccessFile {
  path: string;
  /** Its lines as read (none for a file that does not exist). */
  lines: string[];
  /** Its sha256 as read; undefined where it does not exist. */
  sha256?: string;
}

export interface AccessEdit {
  /** Path -> new lines, for each file changed. */
  edited: Map<string, string[]>;
  /** What the edit does, in words. */
  says: string[];
}

/** Where a rule stands, in words: `/etc/hosts.deny line 3 "sshd: ALL"`. */
export const where = (rule: AccessRule) => `${rule.file} line ${rule.first + 1} ${JSON.stringify(rule.text)}`;

/** The pattern hosts_access reads as exactly `addr`: the address, an IPv6 one in brackets. */
export const addressPattern = (addr: string) => (addr.includes(':') ? `[${addr}]` : addr);

/**
 * Let `addr` reach `daemon`. Where the lines that refuse it name `addr` itself, with no options (a ban:
 * `sshd: 198.51.100.7`), that name is taken out of them, and a line left with no client is commented out; where a
 * wider pattern refuses it (ALL, a network), a line for `addr` alone goes first in hosts.allow, and the refusing line
 * stays for everyone else. Undefined where neither lets it in (a line that runs a command decides, or one fleetfix
 * cannot judge).
 */
export function letAddressIn(files: AccessFile[], daemon: string, addr: string): AccessEdit | undefined {
  return removeAddress(files, daemon, addr) ?? allowAddress(files, daemon, addr);
}

function rulesOf(files: AccessFile[]): AccessRule[] {
  return files.flatMap((f) => parseAccessFile(f.path, f.lines.join('\n')));
}

/** Take `addr` out of each simple line that refuses it by name, while one does; the edit only where that lets it in. */
function removeAddress(files: AccessFile[], daemon: string, addr: string): AccessEdit | undefined {
  const current = new Map(files.map((f) => [f.path, [...f.lines]]));
  const says: string[] = [];
  for (let round = 0; round < 64; round++) {
    const verdict = evaluateAccess(rulesOf(files.map((f) => ({ ...f, lines: current.get(f.path)! }))), daemon, addr);
    if (verdict.allowed === true) return says.length ? { edited: changedOnly(files, current), says } : undefined;
    const rule = verdict.allowed === false ? verdict.by : undefined;
    if (!rule || rule.options.length || rule.first !== rule.last || /\bEXCEPT\b/.test(rule.clients)) return undefined;
    const tokens = rule.clients.split(/[,\s]+/).filter(Boolean);
    const kept = tokens.filter((t) => !sameAddress(t.replace(/^\[(.*)\]$/, '$1'), addr));
    if (kept.length === tokens.length) return undefined;
    const lines = current.get(rule.file)!;
    const original = lines[rule.first]!;
    lines[rule.first] = kept.length ? `${rule.daemons}: ${kept.join(rule.clients.includes(',') ? ', ' : ' ')}` : `# fleetfix: ${original.trim()}`;
    says.push(kept.length ? `${where(rule)}: take out ${addr}` : `comment out ${where(rule)}`);
  }
  return undefined;
}

/** A line `daemon: addr` (with a comment saying why) first in hosts.allow; the edit only where that lets it in. */
function allowAddress(files: AccessFile[], daemon: string, addr: string): AccessEdit | undefined {
  const before = evaluateAccess(rulesOf(files), daemon, addr);
  if (before.allowed !== false || before.by.runs) return undefined;
  const allow = files.find((f) => f.path === HOSTS_ALLOW) ?? { path: HOSTS_ALLOW, lines: [] };
  const lines = [`# fleetfix: ${addr} reaches ${daemon} (${where(before.by)} refused it)`, `${daemon}: ${addressPattern(addr)}`, ...allow.lines];
  const after = evaluateAccess(rulesOf([...files.filter((f) => f.path !== HOSTS_ALLOW), { ...allow, lines }]), daemon, addr);
  if (after.allowed !== true) return undefined;
  return { edited: new Map([[HOSTS_ALLOW, lines]]), says: [`${HOSTS_ALLOW}: let ${addr} alone reach ${daemon}, ahead of ${where(before.by)}`] };
}

function changedOnly(files: AccessFile[], current: Map<string, string[]>): Map<string, string[]> {
  return new Map(files.filter((f) => current.get(f.path)!.join('\n') !== f.lines.join('\n')).map((f) => [f.path, current.get(f.path)!]));
}
