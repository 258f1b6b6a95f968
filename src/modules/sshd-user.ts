// sshd_user module: every rule sshd applies to one user before a key is looked up (auth.c allowed_user, auth2-pubkey.c),
// judged by sshd -T for that user's connection; fixed in sshd_config where the playbook lets fleetfix, reported otherwise.
import { z } from 'zod';
import { boolLike, lineString } from '../config/fields.js';
import { keyLineProblem, parseAuthorizedKey } from '../facts/authorized-keys.js';
import { factRecords, first } from '../facts/records.js';
import { readOrder, type ConfigFile } from '../facts/sshd-config.js';
import { addressList, wildcard, type Connection } from '../facts/sshd-match.js';
import { shq } from '../util/shell.js';
import { accountFields, userAccount } from './account-facts.js';
import { accountScript, judgeAccount } from './sshd-user-account.js';
import { FILE_READ_LIMIT } from './safe-fs.js';
import { defineFact } from '../facts/fact.js';
import { editChange, editedFiles } from './sshd-config.js';
import { editConfig, linesInEffect, replaceLines, type WantedDirective } from './sshd-config-edit.js';
import { connectionOf, connectionParams, describeConnection, judgedConnection } from './sshd-effective.js';
import { configFiles, effectiveConfig, effectiveValue, SSHD_CONFIG, sshdConfigFiles, sshdEffective } from './sshd-facts.js';
import { defineModule, type CheckPlan } from './types.js';

const params = z.strictObject({
  ...connectionParams.shape,
  /** The operator's public key: its type must be accepted and it must not be revoked. */
  key: z.preprocess((v) => (v === '' ? undefined : v), lineString('one OpenSSH public key line', keyLineProblem, 16384).optional()),
  /**
   * Let the user in where AllowUsers/DenyUsers/AllowGroups/DenyGroups or PermitRootLogin keep them out (edits
   * sshd_config). AllowGroups gets a group only the user is in, never a shared one; a change to a group list says
   * who else it lets in.
   */
  let_in: boolLike.optional(),
});
type Params = z.output<typeof params>;

/** The signature algorithms a key of each type authenticates with (an RSA key: the SHA-2 ones, as clients use). */
export function algorithmsFor(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256'];
  return [keyType];
}

/** sshd's `user@host` patterns (match_user): the user part by wildcard, the host part against the host name or address. */
export function userPatternMatches(pattern: string, c: Connection): boolean {
  const at = pattern.indexOf('@');
  if (at < 0) return wildcard(c.user, pattern);
  if (!wildcard(c.user, pattern.slice(0, at))) return false;
  const hostPattern = pattern.slice(at + 1);
  return (c.host !== undefined && wildcard(c.host.toLowerCase(), hostPattern.toLowerCase())) || (c.addr !== undefined && addressList(c.addr, hostPattern));
}

const WILDCARD = /[*?!@]/;

/** The most members listed of one group: enough to name who else a change lets in, bounded on a huge directory. */
const MEMBERS_LISTED = 20;

/**
 * The account as sshd's allowed_user() sees it (uid, shell, home, locked, expiry; `user=absent`), and whether the key is
 * in the RevokedKeys that sshd -T names for the connection.
 */
const sshdUserAccount = defineFact<Params>({
  name: 'sshd_user.account',
  after: (p) => [userAccount(p.user), sshdEffective(judgedConnection(p))],
  script(p) {
    const key = p.key ? parseAuthorizedKey(p.key) : undefined;
    return `${accountFields(userAccount(p.user))}
if [ -z "$ff_ent" ]; then echo 'user=absent'; exit 0; fi
${accountScript(p.user)}
${effectiveValue(sshdEffective(judgedConnection(p)), 'revokedkeys')}
ff_rk=\${ff_v%%[[:space:]]*}
if [ -n "$ff_rk" ] && [ "$ff_rk" != none ]; then
  if [ ! -f "$ff_rk" ]; then echo 'revoked=missing'
  elif [ "$(head -c 6 -- "$ff_rk")" = SSHKRL ]; then
    ${key ? `ff_t=$(mktemp); printf '%s\\n' ${shq(`${key.type} ${key.blob}`)} > "$ff_t"; if ssh-keygen -Q -f "$ff_rk" "$ff_t" >/dev/null 2>&1; then echo 'revoked=no'; else echo 'revoked=yes'; fi; rm -f -- "$ff_t"` : ':'}
  else ${key ? `if head -c ${FILE_READ_LIMIT} -- "$ff_rk" | grep -qF -- ${shq(key.blob)}; then echo 'revoked=yes'; else echo 'revoked=no'; fi` : ':'}
  fi
fi
${p.let_in === true ? groupMembers(p) : ''}`;
  },
});

/**
 * Shell lines that print, where sshd -T has AllowGroups or DenyGroups, the members of each of the user's groups as
 * sshd counts them (getgrouplist: the names in the group's line, and every account whose primary group it is):
 * `group_member=GROUP:NAME`, at most MEMBERS_LISTED a group, then `group_more=GROUP` where there are more.
 */
function groupMembers(p: Params): string {
  const effective = sshdEffective(judgedConnection(p));
  return `${effectiveValue(effective, 'allowgroups')}; ff_gv=$ff_v
${effectiveValue(effective, 'denygroups')}
ff_groups=$(id -Gn ${shq(p.user)} 2>/dev/null)
if [ -n "$ff_gv$ff_v" ] && [ -n "$ff_groups" ]; then
  set -f; { getent group -- $ff_groups; echo; getent passwd; } 2>/dev/null | awk -F: -v max=${MEMBERS_LISTED} '
    function add(group, name) {
      if (name == "" || seen[group, name]++) return
      if (++listed[group] <= max) print "group_member=" group ":" name; else if (listed[group] == max + 1) print "group_more=" group
    }
    !passwd && $0 == "" { passwd = 1; next }
    !passwd { gid[$3] = $1; n = split($4, names, ","); for (i = 1; i <= n; i++) add($1, names[i]); next }
    $4 in gid { add(gid[$4], $1) }'; set +f
fi`;
}

export const sshdUserModule = defineModule({
  name: 'sshd_user',
  summary: 'sshd lets the user in: AllowUsers/DenyUsers/Groups, PermitRootLogin, AuthenticationMethods, the key type, RevokedKeys, the account',
  params,
  facts: (p: Params) => ({ account: sshdUserAccount(p), effective: sshdEffective(judgedConnection(p)), files: sshdConfigFiles(undefined) }),
  plan(p: Params, facts, planned): CheckPlan {
    const r = factRecords(facts.account!, facts.effective!, facts.files!);
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    if (first(r, 'sshd') === 'absent') return fail('sshd is not installed');
    if (first(r, 'user') === 'absent') return fail(`no such user: ${p.user}`);
    // A configuration sshd refuses is the sshd_config check's to fix; until then the per-user rules are unknown.
    if (r.has('invalid')) return { ok: false, message: `unknown: sshd -T fails (${(r.get('invalid') ?? []).join(' ')}), so the rules for ${p.user} cannot be read until the configuration passes sshd -t`, changes: [] };
    if (r.has('too_large')) return fail(`an sshd configuration file is over the ${FILE_READ_LIMIT} bytes fleetfix reads: ${first(r, 'too_large')}`);
    const conn = connectionOf(r, p.user);
    const eff = effectiveConfig(facts.effective!);
    const one = (k: string) => eff.get(k)?.[0] ?? '';
    const files = configFiles(facts.files!, planned);
    const order = readOrder(files, SSHD_CONFIG);
    const key = p.key ? parseAuthorizedKey(p.key) : undefined;
    const who = describeConnection(conn);

    const refusals: string[] = [];
    const findings: string[] = [];
    const lineEdits: { file: string; index: number; lines: string[] }[] = [];
    const directives: WantedDirective[] = [];
    const fixes: string[] = [];
    const letIn = p.let_in === true;
    const unlessLetIn = ' (let_in: true lets fleetfix change that)';

    // The account, as allowed_user() (and pam_unix's expiry) judges it; a home that is missing is the home checks' to make.
    const account = judgeAccount(r, one, p.user);
    refusals.push(...account.refusals);
    findings.push(...account.findings);

    // AllowUsers / DenyUsers / DenyGroups / AllowGroups, in allowed_user()'s order. Their lines accumulate; a user
    // must pass each list set (AllowUsers and AllowGroups both, where both are). A group named in a fix lets in every
    // member, which the fix says: `note` gives that for the names added or removed.
    const listRule = (keyword: string, deny: boolean, hit: (pattern: string) => boolean, what: string, fix: { add?: string; noAdd?: string; note?: (names: string[]) => string } = {}) => {
      const values = (eff.get(keyword) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
      const hits = values.filter(hit);
      if (deny ? hits.length === 0 : values.length === 0 || hits.length > 0) return;
      const lines = linesInEffect(order, keyword, conn);
      if (deny) {
        const problem = `${keywordName(keyword)} ${hits.join(' ')} denies ${what}`;
        const exact = hits.every((h) => !WILDCARD.test(h));
        if (!letIn || !exact) return refusals.push(`${problem}${!letIn ? unlessLetIn : ': a pattern with wildcards is not rewritten'}`);
        for (const d of lines) {
          const kept = d.args.filter((a) => !hits.includes(a));
          if (kept.length !== d.args.length) lineEdits.push({ file: d.file, index: d.index, lines: kept.length ? [`${keywordName(keyword)} ${kept.join(' ')}`] : [] });
        }
        return fixes.push(`remove ${hits.join(' ')} from ${keywordName(keyword)}${fix.note?.(hits) ?? ''}`);
      }
      const problem = `${keywordName(keyword)} ${values.join(' ')} does not let ${what} in`;
      if (!letIn || !lines[0] || !fix.add) return refusals.push(`${problem}${!letIn ? unlessLetIn : fix.noAdd ? `: ${fix.noAdd}` : ''}`);
      lineEdits.push({ file: lines[0].file, index: lines[0].index, lines: [`${keywordName(keyword)} ${[...lines[0].args, fix.add].join(' ')}`] });
      return fixes.push(`add ${fix.add} to ${keywordName(keyword)}${lines[0].match ? ` in Match ${lines[0].match.join(' ')}` : ''}${fix.note?.([fix.add]) ?? ''}`);
    };
    const groups = conn.groups ?? [];
    const othersIn = otherMembers(r, p.user);
    const privateGroup = groups.find((g) => isAlone(othersIn(g)));
    const alsoLetsIn = (names: string[]) => {
      const others = names.map(othersIn);
      if (others.every(isAlone)) return ` (${names.length === 1 ? 'a group' : 'groups'} only ${p.user} is in)`;
      return ` (also lets in: ${describeOthers({ names: [...new Set(others.flatMap((o) => o.names))], all: others.every((o) => o.all) })})`;
    };
    const noPrivateGroup = `no group holds ${p.user} alone (${groups.map((g) => `${g} also holds ${describeOthers(othersIn(g))}`).join('; ')}); create a group for ${p.user} alone (groupadd, then usermod -aG) and add it to AllowGroups, or add ${p.user} to an AllowGroups group by hand`;
    listRule('denyusers', true, (pat) => userPatternMatches(pat, conn), p.user);
    listRule('allowusers', false, (pat) => userPatternMatches(pat, conn), p.user, { add: p.user });
    listRule('denygroups', true, (pat) => groups.some((g) => wildcard(g, pat)), `${p.user} (groups ${groups.join(' ')})`, { note: alsoLetsIn });
    listRule('allowgroups', false, (pat) => groups.some((g) => wildcard(g, pat)), `${p.user} (groups ${groups.join(' ')})`, { add: privateGroup, noAdd: noPrivateGroup, note: alsoLetsIn });

    // Root.
    const prl = one('permitrootlogin');
    if (first(r, 'uid') === '0' && (prl === 'no' || prl === 'forced-commands-only')) {
      if (letIn) {
        directives.push({ keyword: 'PermitRootLogin', values: ['prohibit-password'] });
        fixes.push(`PermitRootLogin ${prl} -> prohibit-password`);
      } else refusals.push(`PermitRootLogin ${prl} refuses ${p.user}'s key${unlessLetIn}`);
    }

    // Methods: a key alone must complete one of AuthenticationMethods' lists.
    const methods = one('authenticationmethods');
    if (methods && methods !== 'any' && !methods.split(/\s+/).some((list) => list === 'publickey')) {
      refusals.push(`AuthenticationMethods ${methods} asks for more than a key (no list is "publickey" alone): the operator's key cannot log ${p.user} in; fleetfix does not lower an authentication policy`);
    }

    // The key: its type accepted, not revoked.
    if (key) {
      const accepted = one('pubkeyacceptedalgorithms').split(',').filter(Boolean);
      const needed = algorithmsFor(key.type);
      if (accepted.length && !needed.some((a) => accepted.includes(a))) {
        directives.push({ keyword: 'PubkeyAcceptedAlgorithms', values: [[...accepted, ...needed].join(',')] });
        fixes.push(`PubkeyAcceptedAlgorithms: add ${needed.join(',')}`);
      }
      const revoked = first(r, 'revoked');
      if (revoked === 'yes') refusals.push(`the key ${key.type} ${key.comment ?? ''} is in RevokedKeys ${one('revokedkeys')}: sshd refuses it; fleetfix does not un-revoke a key`.replace('  ', ' '));
      if (revoked === 'missing') refusals.push(`RevokedKeys ${one('revokedkeys')} does not exist: sshd then refuses every key; create it (empty) or unset RevokedKeys`);
    }

    if (refusals.length === 0 && fixes.length === 0 && account.unmet.length === 0) return { ok: true, message: `sshd lets ${who} in${key ? ` with ${key.type}` : ''}`, changes: [], findings: findings.length ? findings : undefined };
    const message = [...fixes, ...refusals, ...account.unmet].join('; ');
    if (refusals.length > 0) return { ok: false, message: `sshd refuses ${who}: ${message}`, changes: [], error: `sshd refuses ${who}: ${message}`, findings: findings.length ? findings : undefined };
    if (fixes.length === 0) return { ok: false, message: `for ${who}: ${message}`, changes: [], findings: findings.length ? findings : undefined };
    const edited = combinedEdit(files, lineEdits, directives, conn);
    return { ok: false, message: `for ${who}: ${message}`, changes: [editChange(files, edited, `for ${who}: ${fixes.join('; ')}`)], leaves: editedFiles(edited), findings: findings.length ? findings : undefined };
  },
});

/** A group's members besides the user, as the host listed them; `all` where that is every one of them. */
interface OtherMembers {
  names: string[];
  all: boolean;
}

/**
 * The other members of each of `user`'s groups, from the group_member and group_more records. A list is not all of
 * them where it was cut short, or where it lacks the user (a directory that getent passwd does not enumerate).
 */
function otherMembers(r: Map<string, string[]>, user: string): (group: string) => OtherMembers {
  const listed = new Map<string, string[]>();
  for (const record of r.get('group_member') ?? []) {
    const colon = record.indexOf(':');
    const group = record.slice(0, colon);
    listed.set(group, [...(listed.get(group) ?? []), record.slice(colon + 1)]);
  }
  const cut = new Set(r.get('group_more'));
  return (group) => {
    const names = listed.get(group) ?? [];
    return { names: names.filter((n) => n !== user), all: names.includes(user) && !cut.has(group) };
  };
}

/** A group that holds the user and nobody else: naming it lets in no one more. */
function isAlone(o: OtherMembers): boolean {
  return o.all && o.names.length === 0;
}

/** The other members in a message: "alice, bob", "alice, bob and more", "nobody else". */
function describeOthers(o: OtherMembers): string {
  if (o.all) return o.names.join(', ') || 'nobody else';
  return o.names.length ? `${o.names.join(', ')} and more` : 'members fleetfix could not list';
}

const NAMES: Record<string, string> = { allowusers: 'AllowUsers', denyusers: 'DenyUsers', allowgroups: 'AllowGroups', denygroups: 'DenyGroups' };

function keywordName(keyword: string): string {
  return NAMES[keyword] ?? keyword;
}

/** Line rewrites first (they keep line numbers), then directives set where their value comes from, as one edit per file. */
function combinedEdit(files: ConfigFile[], lineEdits: { file: string; index: number; lines: string[] }[], directives: WantedDirective[], conn: Connection): Map<string, string> {
  const first = lineEdits.length ? replaceLines(files, lineEdits) : new Map<string, string>();
  const after = files.map((f) => ({ path: f.path, text: first.get(f.path) ?? f.text }));
  const second = directives.length ? editConfig(after, SSHD_CONFIG, directives, conn) : new Map<string, string>();
  return new Map([...first, ...second]);
}
