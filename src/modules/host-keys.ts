// host_keys module: each HostKey sshd -T names is a private key sshd loads (root's, read by no one else), or is named
// with what sshd says of it; modes and owners are fixed, and only where sshd loads none are the missing keys made,
// each new key's fingerprint named, never trusted for the operator.
import { z } from 'zod';
import { formatMode, type FileStat } from '../facts/files.js';
import { describeKey } from '../facts/ssh-key-blob.js';
import { shq } from '../util/shell.js';
import { hostKeysFact, readHostKeyFacts, type HostKeyFacts, type HostKeyFile } from './host-keys-facts.js';
import { SAFE_FS_FNS, splitPath } from './safe-fs.js';
import { connectionParams, judgedConnection } from './sshd-effective.js';
import { sshdEffective } from './sshd-facts.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  /** The connection whose sshd -T is read (HostKey is the same for every one): give the other checks' to share it. */
  for: connectionParams.optional(),
});
type Params = z.output<typeof params>;

/** The comment fleetfix gives a host key it makes: how a later run knows the key is new to the operator. */
const GENERATED = 'fleetfix-generated';

/** ssh-keygen -t for a key type named by a .pub or a file name; DSA is never made (sshd no longer offers it by default). */
function keygenType(key: HostKeyFile): string | undefined {
  const byPub: Record<string, string> = { 'ssh-ed25519': 'ed25519', 'ssh-rsa': 'rsa', 'ecdsa-sha2-nistp256': 'ecdsa -b 256', 'ecdsa-sha2-nistp384': 'ecdsa -b 384', 'ecdsa-sha2-nistp521': 'ecdsa -b 521' };
  const name = splitPath(key.path).name;
  const byName = /ed25519/.test(name) ? 'ed25519' : /ecdsa/.test(name) ? 'ecdsa -b 256' : /(^|[^d])rsa/.test(name) ? 'rsa' : undefined;
  return byName ?? (key.pubType ? byPub[key.pubType] : undefined);
}

/** A directory only root can change: what a private host key may be kept (and made, and fixed) in. */
function rootOnly(dir: FileStat | undefined): boolean {
  return dir !== undefined && dir.type === 'directory' && dir.uid === 0 && (dir.mode & 0o022) === 0;
}

interface Judged {
  key: HostKeyFile;
  /** Why sshd ignores it, or why it is unsafe, where it is a file fleetfix can fix; the mode and owner it gets. */
  fix?: { problems: string[]; mode?: string; owner?: string };
  /** sshd loads it now or after the fix (as far as was read). */
  loads: boolean;
  /** What is said of it without a fix (missing, a link, unusable). */
  note?: string;
}

/** The mode and owner a key is given (each undefined where it has it): 0600 root, or 0640 root:GROUP where sshd takes that. */
function wanted(stat: FileStat, group: number | undefined): { mode?: string; owner?: string } {
  const mode = group === undefined ? 0o600 : 0o640;
  return {
    mode: (stat.mode & 0o7777) === mode ? undefined : formatMode(mode),
    owner: stat.uid === 0 && (group === undefined || stat.gid === group) ? undefined : `0:${group ?? 0}`,
  };
}

/**
 * What sshd makes of a key (authfile.c's sshkey_perm_ok: a key of root's that group or others can read is ignored;
 * another's is not checked), and what fleetfix would change: a key sshd ignores, or that anyone but root can read,
 * gets `wanted`'s mode and owner where it lies in a directory only root can change.
 */
function judge(key: HostKeyFile, facts: HostKeyFacts): Judged {
  const { stat, path } = key;
  if (!stat) return { key, loads: false, note: `${path} does not exist` };
  if (stat.type === 'symlink') return { key, loads: !facts.loadedNone, note: `${path} is a symbolic link: sshd follows it, fleetfix neither follows nor changes it` };
  if (stat.type !== 'file') return { key, loads: false, note: `${path} is not a regular file: sshd cannot load it` };
  if (key.loaded && 'unreadable' in key.loaded) return { key, loads: false, note: `${path} cannot be read: ${key.loaded.unreadable}` };
  if (key.loaded && 'unloadable' in key.loaded) return { key, loads: false, note: `${path} does not load as a private key without a passphrase (ssh-keygen: ${key.loaded.unloadable}): sshd skips it` };
  const group = facts.keysGroup?.accepted ? facts.keysGroup.gid : undefined;
  const groupRead = group !== undefined && stat.gid === group && (stat.mode & 0o077) === 0o040;
  const problems: string[] = [];
  if (stat.uid !== 0) problems.push(`owned by ${stat.owner} (uid ${stat.uid}), who can read the host's private key`);
  if ((stat.mode & 0o077) !== 0 && !groupRead) {
    const sshd = key.said.length ? ` (sshd: ${key.said.join(' ')})` : stat.uid === 0 ? ` (sshd: Permissions ${formatMode(stat.mode & 0o777)} for '${path}' are too open.)` : '';
    problems.push(`mode ${formatMode(stat.mode)}: ${stat.uid === 0 ? 'sshd ignores a private host key group or others can read' : 'group or others can read the private key'}${sshd}`);
  }
  if (problems.length === 0) return { key, loads: true };
  if (rootOnly(key.dir)) return { key, loads: true, fix: { problems, ...wanted(stat, group) } };
  const where = key.dir ? `${splitPath(path).dir}, which ${key.dir.uid === 0 ? 'group or others can write' : `${key.dir.owner} can write`}` : 'a directory that does not exist';
  return { key, loads: stat.uid !== 0, note: `${path}: ${problems.join('; ')}; it lies in ${where}, so fleetfix changes nothing there` };
}

/** The change that gives a key its mode and owner, in its directory entered without a link, never following one. */
function fixChange(j: Judged): Change {
  const { dir, name } = splitPath(j.key.path);
  const n = shq(name);
  const was = `mode ${formatMode(j.key.stat!.mode)}, owner ${j.key.stat!.owner}:${j.key.stat!.group}`;
  const now = [j.fix!.mode && `mode ${j.fix!.mode}`, j.fix!.owner && `owner ${j.fix!.owner}`].filter(Boolean).join(', ');
  return {
    summary: `host key ${j.key.path}: ${was} -> ${now}`,
    diff: `${j.key.path}: ${was} -> ${now}`,
    script: [
      'set -eu',
      SAFE_FS_FNS,
      `ff_enter ${shq(dir)}`,
      `[ "$ff_dir_uid" = 0 ] || ff_refuse "$PWD belongs to uid $ff_dir_uid; not changing a host key there"`,
      ...(j.fix!.mode ? [`ff_chmod ${n} ${j.fix!.mode} file`] : []),
      ...(j.fix!.owner ? [`ff_give ${n} ${shq(j.fix!.owner)} file`] : []),
    ].join('\n'),
  };
}

/**
 * The change that makes the missing keys, each in a directory of its own beside where it goes: ssh-keygen there,
 * then linked into place (never over a file that appeared since) and its .pub moved over any old one; mode 0600 root
 * (or Fedora's 0640 root:ssh_keys). Every key in a directory only root can change.
 */
function generateChange(keys: HostKeyFile[], facts: HostKeyFacts): Change {
  const group = facts.keysGroup?.accepted ? facts.keysGroup.gid : undefined;
  const made = keys.map((key) => ({ key, type: keygenType(key)!, ...splitPath(key.path) }));
  const kind = (type: string) => type.split(' ')[0];
  return {
    summary: `generate new host keys (${made.map((m) => `${kind(m.type)} ${m.key.path}`).join(', ')}): the host will offer keys your known_hosts does not hold, so a login that checks host keys strictly (fleetfix's own verification, ssh's) refuses them as a changed host key until you verify their fingerprints (named after apply) and put them in known_hosts`,
    diff: made.map((m) => `${m.key.path}: absent -> a new ${kind(m.type)} host key (mode ${group === undefined ? '0600' : '0640'}, owner root${group === undefined ? '' : ':ssh_keys'}), and its .pub`).join('\n'),
    script: [
      'set -eu',
      SAFE_FS_FNS,
      ...made.map(({ type, dir, name }) => {
        const n = shq(name);
        return `( ff_enter ${shq(dir)}
  [ "$ff_dir_uid" = 0 ] || ff_refuse "$PWD belongs to uid $ff_dir_uid; not making a host key there"
  if [ -e ${n} ] || [ -L ${n} ]; then ff_refuse "$PWD/"${n}" appeared since it was read; not replacing it"; fi
  ff_t=$(mktemp -d .fleetfix-hostkey.XXXXXX)
  trap 'rm -rf -- "$ff_t"' EXIT
  ssh-keygen -q -N '' -t ${type} -C "${GENERATED} $(date -u +%Y-%m-%dT%H:%M:%SZ)" -f "$ff_t/key" </dev/null >/dev/null
  ln -T -- "$ff_t/key" ${n}
  rm -f -- "$ff_t/key"
  mv -fT -- "$ff_t/key.pub" ${shq(`${name}.pub`)}${group === undefined ? '' : `\n  ff_give ${n} ${shq(`0:${group}`)} file\n  ff_chmod ${n} 0640 file`} )`;
      }),
    ].join('\n'),
  };
}

/** A key fleetfix made, named with its fingerprint while the host is not reached over SSH (the operator's known_hosts does not hold it yet). */
function newKeyFinding(key: HostKeyFile): string | undefined {
  if (!key.loaded || !('public' in key.loaded)) return undefined;
  const [, blob, ...comment] = key.loaded.public.split(' ');
  if (!blob || !comment.join(' ').startsWith(GENERATED)) return undefined;
  return `${key.path} is a new host key fleetfix generated (${comment.join(' ').slice(GENERATED.length).trim()}): ${describeKey(Buffer.from(blob, 'base64'))}. A login that checks host keys strictly (fleetfix's, ssh's) refuses it as a changed host key until your known_hosts holds it: compare this fingerprint with "ssh-keygen -lf ${key.path}.pub" on the host's console, then replace the host's old key in your known_hosts (ssh-keygen -R HOST, then add the new key)`;
}

export const hostKeysModule = defineModule({
  name: 'host_keys',
  summary: "sshd's host keys: each HostKey sshd -T names is root's and read by no one else; where sshd loads none, the missing ones are made",
  params,
  facts: (p: Params) => {
    const conn = judgedConnection(p.for ?? { user: 'root' });
    return { keys: hostKeysFact(conn), effective: sshdEffective(conn) };
  },
  plan(_p: Params, facts): CheckPlan {
    const read = readHostKeyFacts(facts.keys!, facts.effective!);
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    if (read === 'absent') return fail('sshd is not installed');
    // A configuration sshd refuses is the sshd_config check's to fix; until then the keys sshd would load are unknown.
    if (!read) return { ok: false, message: 'unknown: sshd -T fails (see the sshd_config check), so the host keys it would load are unknown until the configuration passes sshd -t', changes: [] };
    const judged = read.keys.map((key) => judge(key, read));
    const changes = judged.filter((j) => j.fix).map(fixChange);
    const noneLoads = read.loadedNone && !judged.some((j) => j.loads);
    const made = noneLoads && !read.agent ? judged.flatMap((j) => (!j.key.stat && rootOnly(j.key.dir) && keygenType(j.key) ? [j.key] : [])) : [];
    if (made.length) changes.push(generateChange(made, read));
    const notes = judged.filter((j) => j.note && !made.includes(j.key)).map((j) => `${j.note}${j.key.stat ? '' : ': sshd skips it'}`);
    const newKeys = read.overSsh ? [] : read.keys.flatMap((key) => newKeyFinding(key) ?? []);
    const findings = [...notes, ...newKeys];
    const none = 'sshd loads no host key, and will not start ("sshd: no hostkeys available -- exiting.")';
    if (noneLoads && changes.length === 0) {
      const why = read.agent ? 'HostKeyAgent is set, so fleetfix makes no key' : 'fleetfix can fix none of them';
      return { ok: false, message: `${none}; ${why}: ${notes.join('; ')}`, changes, error: `${none}; ${why}`, findings };
    }
    if (changes.length === 0) return { ok: true, message: `sshd loads its host keys: ${judged.filter((j) => j.loads).map((j) => j.key.path).join(', ')}`, changes, findings };
    const problems = judged.flatMap((j) => (j.fix ? [`${j.key.path}: ${j.fix.problems.join('; ')}`] : []));
    const missing = made.length ? [`${none}: ${made.map((k) => k.path).join(', ')} ${made.length === 1 ? 'is' : 'are'} missing`] : [];
    return { ok: false, message: [...problems, ...missing].join('; '), changes, findings };
  },
});
