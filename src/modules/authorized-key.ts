// authorized_key module: a public key is present in (or absent from) a user's authorized_keys, other lines untouched.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { hostPathString, lineString, nameString } from '../config/fields.js';
import { appendKeyLine, keyLineProblem, keyOptionsProblem, parseAuthorizedKey, removeKey, sameKey } from '../facts/authorized-keys.js';
import { parseStat, statScript } from '../facts/files.js';
import { first, parseRecords } from '../facts/records.js';
import { fingerprint } from '../util/fingerprint.js';
import { assignHostPath, BASE64, lookupUser, shq } from '../util/shell.js';
import { unifiedDiff } from '../report/diff.js';
import { atomicWriteScript } from './scripts.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  user: nameString('user'),
  /** Exactly one public key line: TYPE BLOB [COMMENT], no options (they go in `options`). */
  key: lineString('one OpenSSH public key line ("ssh-ed25519 AAAA... comment"; set authorized_key, e.g. --var authorized_key=@~/.ssh/id_ed25519.pub)', keyLineProblem, 16384),
  state: z.enum(['present', 'absent']).optional(),
  path: hostPathString.optional(),
  /** The options the key's line must carry exactly (e.g. 'from="198.51.100.0/24"'); none when unset. */
  options: lineString('authorized_keys options like from="198.51.100.0/24",no-pty', keyOptionsProblem, 16384).optional(),
});
type Params = z.output<typeof params>;

export const authorizedKeyModule = defineModule({
  name: 'authorized_key',
  summary: "a public key is present in (or absent from) a user's authorized_keys",
  params,
  gather(p: Params) {
    return [
      lookupUser(p.user, `echo 'user=absent'; exit 0`),
      `printf 'uid=%s\\ngid=%s\\n' "$ff_uid" "$ff_gid"`,
      assignHostPath('ff_file', p.path ?? '~/.ssh/authorized_keys', p.user),
      `ff_dir=\${ff_file%/*}; ff_dir=\${ff_dir:-/}`,
      `printf 'file=%s\\ndir=%s\\n' "$ff_file" "$ff_dir"`,
      statScript('dir_stat', 'ff_dir'),
      statScript('file_stat', 'ff_file'),
      `if [ -f "$ff_file" ]; then printf 'content=%s\\n' "$(${BASE64} < "$ff_file")"; fi`,
    ].join('\n');
  },
  plan(p: Params, facts): CheckPlan {
    const r = parseRecords(facts.stdout);
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    if (first(r, 'user') === 'absent') return fail(`no such user: ${p.user}`);
    if (first(r, 'error')) return fail(first(r, 'error')!);
    const file = first(r, 'file');
    const dir = first(r, 'dir');
    const dirStat = parseStat(r, 'dir_stat');
    const fileStat = parseStat(r, 'file_stat');
    if (!file || !dir || !dirStat || !fileStat) return fail(facts.stderr.trim() || 'could not read authorized_keys facts');
    const key = parseAuthorizedKey(p.key)!;
    const wantPresent = (p.state ?? 'present') === 'present';
    const label = `${key.type} ${key.comment ?? fingerprint(Buffer.from(key.blob, 'base64'))}`;
    const owner = `${first(r, 'uid')}:${first(r, 'gid')}`;

    if (fileStat !== 'absent' && fileStat.type !== 'file') return fail(`${file} is not a regular file; not touching it`);
    if (dirStat !== 'absent' && dirStat.type !== 'directory') return fail(`${dir} is not a directory; not touching it`);
    const raw = fileStat === 'absent' ? Buffer.alloc(0) : Buffer.from(first(r, 'content') ?? '', 'base64');
    const before = raw.toString('utf8');
    const present = before.split('\n').some((line) => {
      const parsed = parseAuthorizedKey(line);
      return parsed !== undefined && sameKey(parsed, key);
    });
    if (present === wantPresent) return { ok: true, message: `key ${label} is ${wantPresent ? 'present' : 'absent'} in ${file}`, changes: [] };

    const changes: Change[] = [];
    if (wantPresent && dirStat === 'absent') {
      changes.push({
        summary: `create directory ${dir} (mode 0700, owner ${p.user})`,
        diff: `${dir}: absent -> directory (mode 0700, owner ${p.user})`,
        script: `set -e\nif [ ! -d ${shq(dir)} ]; then mkdir -m 0700 -- ${shq(dir)} && chown ${shq(owner)} -- ${shq(dir)}; fi`,
      });
    }
    const after = wantPresent ? appendKeyLine(before, p.key) : removeKey(before, key);
    changes.push({
      summary: wantPresent ? (fileStat === 'absent' ? `create ${file} with key ${label}` : `add key ${label} to ${file}`) : `remove key ${label} from ${file}`,
      diff: unifiedDiff(file, before, after, fileStat === 'absent'),
      script: atomicWriteScript({ path: file, content: after, expectSha256: fileStat === 'absent' ? null : createHash('sha256').update(raw).digest('hex'), createMode: '0600', createOwner: owner }),
    });
    return { ok: false, message: changes.map((c) => c.summary).join('; '), changes };
  },
});
