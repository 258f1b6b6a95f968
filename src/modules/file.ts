// file module: a path exists as a file or directory with the wanted mode, owner and group.
import { z } from 'zod';
import { hostPathString, modeSchema, nameString } from '../config/fields.js';
import { formatMode, parseStat, realDirScript, statPairScript, type FileStat } from '../facts/files.js';
import { first, parseRecords } from '../facts/records.js';
import { getentFields, homeOwner, shq } from '../util/shell.js';
import { accountFields, assignHostPath, hostPathAccounts, userAccount } from './account-facts.js';
import { inDirScript, splitPath } from './safe-fs.js';
import { defineFact } from '../facts/fact.js';
import { defineModule, type Change, type CheckPlan, type PlannedPath } from './types.js';

const params = z.strictObject({
  path: hostPathString,
  type: z.enum(['file', 'directory']).optional(),
  mode: modeSchema.optional(),
  /** Bits that must not be set, e.g. "0022": not group- or world-writable, whatever the rest of the mode. */
  deny_mode: modeSchema.optional(),
  /** The owner, or a list of acceptable owners (`[deploy, root]`): a fix sets the first. */
  owner: z.union([nameString('user'), z.array(nameString('user')).min(1)]).optional(),
  group: nameString('group').optional(),
});
type Params = z.output<typeof params>;

/** The owners a path may have; a fix gives it to the first. */
const ownersOf = (p: Params): string[] => (p.owner === undefined ? [] : Array.isArray(p.owner) ? p.owner : [p.owner]);

/** The facts the file check reads. */
const filePathFact = defineFact<Params>({
  name: 'file.path',
  after: (p) => {
    const [owner] = ownersOf(p);
    return [...hostPathAccounts(p.path), ...(owner && owner !== homeOwner(p.path) ? [userAccount(owner)] : [])];
  },
  script(p) {
    const [owner] = ownersOf(p);
    const lines = [
      assignHostPath('ff_path', normalizePath(p.path)),
      `ff_dir=\${ff_path%/*}; ff_dir=\${ff_dir:-/}`,
      `printf 'path=%s\\ndir=%s\\n' "$ff_path" "$ff_dir"`,
      realDirScript('dir_real', 'ff_dir'),
      statPairScript({ key: 'stat', varName: 'ff_path' }, { key: 'dir_stat', varName: 'ff_dir' }),
    ];
    // The owner is most often the user whose home the path is in: that lookup is already done.
    if (owner && owner === homeOwner(p.path)) lines.push(`printf 'owner_uid=%s\\n' "$ff_uid"`);
    else if (owner) lines.push(`${accountFields(userAccount(owner))}; printf 'owner_uid=%s\\n' "\${3:-}"`);
    if (p.group) lines.push(`${getentFields('group', p.group)}; printf 'group_gid=%s\\n' "$3"`);
    return lines.join('\n');
  },
});

export const fileModule = defineModule({
  name: 'file',
  summary: 'a path exists as a file or directory with the wanted mode, owner and group',
  params,
  facts: (p: Params) => ({ path: filePathFact(p) }),
  plan(p: Params, facts, planned): CheckPlan {
    const records = parseRecords(facts.path!.stdout);
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    const error = first(records, 'error');
    if (error) return fail(error);
    const path = first(records, 'path');
    const dir = first(records, 'dir');
    const seen = parseStat(records, 'stat');
    const dirSeen = parseStat(records, 'dir_stat');
    if (!path || !dir || !seen || !dirSeen) return fail(facts.path!.stderr.trim() || 'could not read file facts');
    for (const [key, name, what] of [['owner_uid', ownersOf(p)[0], 'user'], ['group_gid', p.group, 'group']] as const) {
      if (name && !/^\d+$/.test(name) && !first(records, key)) return { ok: false, message: `no such ${what} on the host: ${name}`, changes: [], error: `no such ${what}: ${name}` };
    }
    // What the fixes planned before this check leave, where they change the path or its directory.
    const stat = planned.get(path)?.stat ?? seen;
    const dirStat = planned.get(dir)?.stat ?? dirSeen;
    const ids = { ownerUid: first(records, 'owner_uid'), groupGid: first(records, 'group_gid') };
    const changes = stat === 'absent' ? planCreate(p, path, dir) : planAttributes(p, path, dir, stat);
    if ('error' in changes) return fail(changes.error);
    if (changes.length === 0) {
      if (stat === seen) return { ok: true, message: `${path} is as wanted`, changes };
      return { ok: false, message: `${path} is as wanted once the fixes before this check are made`, changes };
    }
    // A directory still to be made (by a fix planned before) is made where it is meant: its real path is its path.
    const dirReal = dirSeen === 'absent' ? dir : first(records, 'dir_real');
    const refusal = unsafeDirectory(p, path, dir, dirReal, dirStat, stat, ids.ownerUid);
    if (refusal) return fail(refusal);
    return { ok: false, message: changes.map((c) => c.summary).join('; '), changes, leaves: [leftAt(p, path, stat, dirStat, ids)] };
  },
});

/** The path as the fix leaves it: created as the directory's owner, then given to the owner and group asked for, with the mode asked for. */
function leftAt(p: Params, path: string, stat: FileStat | 'absent', dirStat: FileStat | 'absent', ids: { ownerUid?: string; groupGid?: string }): PlannedPath {
  const [owner] = ownersOf(p);
  const base: FileStat = stat !== 'absent' ? stat : { type: p.type!, mode: parseInt(p.mode ?? (p.type === 'directory' ? '0755' : '0644'), 8), owner: dirStat === 'absent' ? 'root' : dirStat.owner, group: dirStat === 'absent' ? 'root' : dirStat.group, uid: dirStat === 'absent' ? 0 : dirStat.uid, gid: dirStat === 'absent' ? 0 : dirStat.gid };
  const keeps = owner === undefined || (stat !== 'absent' && ownersOf(p).some((o) => sameId(o, stat.owner, stat.uid)));
  const left: FileStat = {
    ...base,
    ...(keeps ? {} : { owner: owner!, uid: Number(/^\d+$/.test(owner!) ? owner : ids.ownerUid) }),
    ...(p.group ? { group: p.group, gid: Number(/^\d+$/.test(p.group) ? p.group : ids.groupGid) } : {}),
    mode: p.mode ? parseInt(p.mode, 8) : base.mode & ~parseInt(p.deny_mode ?? '0', 8),
  };
  return stat === 'absent' && p.type === 'file' ? { path, stat: left, content: '' } : { path, stat: left };
}

/** `path` without repeated or trailing slashes, as the host's real paths are compared with it. */
function normalizePath(path: string): string {
  return path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
}

/**
 * Why fleetfix must not change `path`, when it must not: its directory is reached through a link, is writable by
 * group or others, or belongs to a user who would not own `path` afterwards (in a user's directory fleetfix acts as
 * that user, and gives nothing there to anyone else).
 */
function unsafeDirectory(p: Params, path: string, dir: string, dirReal: string | undefined, dirStat: FileStat | 'absent', stat: FileStat | 'absent', ownerUid: string | undefined): string | undefined {
  // A directory an earlier check creates: the fix enters it when it runs, with the same refusals.
  if (dirStat === 'absent') return undefined;
  if (dirReal !== dir) return `${dir} leads through a symbolic link${dirReal ? ` (to ${dirReal})` : ''}; not changing ${path}`;
  if (dirStat.mode & 0o022) return `${dir} is writable by group or others (mode ${formatMode(dirStat.mode)}); not changing ${path}`;
  if (dirStat.uid === 0) return undefined;
  const owners = ownersOf(p);
  const keeps = stat !== 'absent' && (owners.length === 0 || owners.some((o) => sameId(o, stat.owner, stat.uid)));
  const finalOwner = keeps ? stat.uid : owners[0] ? Number(/^\d+$/.test(owners[0]) ? owners[0] : ownerUid) : dirStat.uid;
  if (finalOwner !== dirStat.uid) return `${path} would be owned by ${keeps ? stat.owner : owners[0]} inside ${dir}, which ${dirStat.owner} can write; fleetfix changes it only as ${dirStat.owner}`;
  return undefined;
}

function planCreate(p: Params, path: string, dir: string): Change[] | { error: string } {
  if (!p.type) return { error: `${path} does not exist (set type: file or directory to create it)` };
  const mode = p.mode ?? (p.type === 'directory' ? '0755' : '0644');
  const { name } = splitPath(path);
  const n = shq(name);
  // Facts may be stale by the time this runs (an earlier check may have created the path): create only if still absent.
  const create = p.type === 'directory' ? `ff_as_owner mkdir -m ${shq(mode)} -- ${n}` : `ff_as_owner sh -c 'umask 077; set -C; : > "$1"' sh ${n}`;
  const [wantedOwner] = ownersOf(p);
  const owner = wantedOwner || p.group ? [`ff_give ${n} ${shq([wantedOwner ?? '', p.group].filter((x) => x !== undefined).join(':'))} ${p.type}`] : [];
  const script = inDirScript(dir, [`[ -e ${n} ] || [ -L ${n} ] || ${create}`, ...owner, `ff_chmod ${n} ${shq(mode)} ${p.type}`]);
  const attrs = [`mode ${formatMode(parseInt(mode, 8))}`, wantedOwner && `owner ${wantedOwner}`, p.group && `group ${p.group}`].filter(Boolean).join(', ');
  return [{ summary: `create ${p.type} ${path} (${attrs})`, diff: `${path}: absent -> ${p.type} (${attrs})`, script }];
}

function planAttributes(p: Params, path: string, dir: string, stat: FileStat): Change[] | { error: string } {
  if (stat.type === 'symlink') return { error: `${path} is a symbolic link; not changing it` };
  if (stat.type === 'other') return { error: `${path} is a special file; not changing it` };
  if (p.type && stat.type !== p.type) return { error: `${path} is a ${stat.type}, expected a ${p.type}; not replacing it` };
  const n = shq(splitPath(path).name);
  const change = (summary: string, line: string): Change => ({ summary, diff: summary, script: inDirScript(dir, [line]) });
  const changes: Change[] = [];
  const owners = ownersOf(p);
  if (owners.length && !owners.some((o) => sameId(o, stat.owner, stat.uid))) changes.push(change(`${path}: owner ${stat.owner} -> ${owners[0]}`, `ff_give ${n} ${shq(owners[0]!)} ${stat.type}`));
  if (p.group && !sameId(p.group, stat.group, stat.gid)) changes.push(change(`${path}: group ${stat.group} -> ${p.group}`, `ff_give ${n} ${shq(`:${p.group}`)} ${stat.type}`));
  // chown may clear set-id bits, so the mode is set last.
  const wantedMode = p.mode ? parseInt(p.mode, 8) : stat.mode & ~parseInt(p.deny_mode ?? '0', 8);
  if (wantedMode !== stat.mode) {
    const to = formatMode(wantedMode);
    changes.push(change(`${path}: mode ${formatMode(stat.mode)} -> ${to}`, `ff_chmod ${n} ${shq(to)} ${stat.type}`));
  }
  return changes;
}

function sameId(wanted: string, name: string, id: number): boolean {
  return /^\d+$/.test(wanted) ? Number(wanted) === id : wanted === name;
}
