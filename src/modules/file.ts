// file module: a path exists as a file or directory with the wanted mode, owner and group.
import { z } from 'zod';
import { hostPathString, modeSchema, nameString } from '../config/fields.js';
import { formatMode, parseStat, statScript, type FileStat } from '../facts/files.js';
import { first, parseRecords } from '../facts/records.js';
import { assignHostPath, getentFields, homeOwner, shq } from '../util/shell.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  path: hostPathString,
  type: z.enum(['file', 'directory']).optional(),
  mode: modeSchema.optional(),
  /** Bits that must not be set, e.g. "0022": not group- or world-writable, whatever the rest of the mode. */
  deny_mode: modeSchema.optional(),
  owner: nameString('user').optional(),
  group: nameString('group').optional(),
});
type Params = z.output<typeof params>;

export const fileModule = defineModule({
  name: 'file',
  summary: 'a path exists as a file or directory with the wanted mode, owner and group',
  params,
  gather(p: Params) {
    const lines = [assignHostPath('ff_path', p.path), `printf 'path=%s\\n' "$ff_path"`, statScript('stat', 'ff_path')];
    // The owner is most often the user whose home the path is in: that lookup is already done.
    if (p.owner && p.owner === homeOwner(p.path)) lines.push(`printf 'owner_uid=%s\\n' "$ff_uid"`);
    else if (p.owner) lines.push(`${getentFields('passwd', p.owner)}; printf 'owner_uid=%s\\n' "$3"`);
    if (p.group) lines.push(`${getentFields('group', p.group)}; printf 'group_gid=%s\\n' "$3"`);
    return lines.join('\n');
  },
  plan(p: Params, facts): CheckPlan {
    const records = parseRecords(facts.stdout);
    const error = first(records, 'error');
    if (error) return { ok: false, message: error, changes: [], error };
    const path = first(records, 'path');
    const stat = parseStat(records, 'stat');
    if (!path || !stat) return { ok: false, message: 'could not read file facts', changes: [], error: facts.stderr.trim() || 'no facts' };
    for (const [key, name, what] of [['owner_uid', p.owner, 'user'], ['group_gid', p.group, 'group']] as const) {
      if (name && !/^\d+$/.test(name) && !first(records, key)) return { ok: false, message: `no such ${what} on the host: ${name}`, changes: [], error: `no such ${what}: ${name}` };
    }
    const changes = stat === 'absent' ? planCreate(p, path) : planAttributes(p, path, stat);
    if ('error' in changes) return { ok: false, message: changes.error, changes: [], error: changes.error };
    if (changes.length === 0) return { ok: true, message: `${path} is as wanted`, changes };
    return { ok: false, message: changes.map((c) => c.summary).join('; '), changes };
  },
});

function planCreate(p: Params, path: string): Change[] | { error: string } {
  if (!p.type) return { error: `${path} does not exist (set type: file or directory to create it)` };
  const mode = p.mode ?? (p.type === 'directory' ? '0755' : '0644');
  const owner = [p.owner, p.group].filter(Boolean).join(':');
  // Facts may be stale by the time this runs (an earlier check may have created the path): create only if still absent.
  const create =
    p.type === 'directory'
      ? `[ -d ${shq(path)} ] || mkdir -m ${shq(mode)} -- ${shq(path)}`
      : `[ -e ${shq(path)} ] || (umask 077 && set -C && : > ${shq(path)})`;
  const script = [`set -e`, create, p.owner || p.group ? `chown ${shq(p.owner ? owner : `:${p.group}`)} -- ${shq(path)}` : '', `chmod ${shq(mode)} -- ${shq(path)}`].filter(Boolean).join('\n');
  const attrs = [`mode ${formatMode(parseInt(mode, 8))}`, p.owner && `owner ${p.owner}`, p.group && `group ${p.group}`].filter(Boolean).join(', ');
  return [{ summary: `create ${p.type} ${path} (${attrs})`, diff: `${path}: absent -> ${p.type} (${attrs})`, script }];
}

function planAttributes(p: Params, path: string, stat: FileStat): Change[] | { error: string } {
  if (stat.type === 'symlink') return { error: `${path} is a symbolic link; not changing it` };
  if (p.type && stat.type !== p.type) return { error: `${path} is a ${stat.type === 'other' ? 'special file' : stat.type}, expected a ${p.type}; not replacing it` };
  const changes: Change[] = [];
  if (p.owner && !sameId(p.owner, stat.owner, stat.uid)) {
    changes.push({ summary: `${path}: owner ${stat.owner} -> ${p.owner}`, diff: `${path}: owner ${stat.owner} -> ${p.owner}`, script: `chown ${shq(p.owner)} -- ${shq(path)}` });
  }
  if (p.group && !sameId(p.group, stat.group, stat.gid)) {
    changes.push({ summary: `${path}: group ${stat.group} -> ${p.group}`, diff: `${path}: group ${stat.group} -> ${p.group}`, script: `chgrp ${shq(p.group)} -- ${shq(path)}` });
  }
  // chown may clear set-id bits, so the mode is set last.
  const wantedMode = p.mode ? parseInt(p.mode, 8) : stat.mode & ~parseInt(p.deny_mode ?? '0', 8);
  if (wantedMode !== stat.mode) {
    const from = formatMode(stat.mode);
    const to = formatMode(wantedMode);
    changes.push({ summary: `${path}: mode ${from} -> ${to}`, diff: `${path}: mode ${from} -> ${to}`, script: `chmod ${shq(to)} -- ${shq(path)}` });
  }
  return changes;
}

function sameId(wanted: string, name: string, id: number): boolean {
  return /^\d+$/.test(wanted) ? Number(wanted) === id : wanted === name;
}
