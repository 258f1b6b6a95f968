// nologin module: /etc/nologin and /run/nologin, which refuse every user but root (pam_nologin, or sshd itself without
// PAM), named with their text; moved aside only where the playbook says so (`remove: true`).
import { z } from 'zod';
import { boolLike } from '../config/fields.js';
import { argValue, describeLine, failureWeight, type FailureWeight } from '../facts/pam-stack.js';
import { unifiedDiff } from '../report/diff.js';
import { shq } from '../util/shell.js';
import { pamAccountFacts, readPamContext, type PamFacts } from './pam-facts.js';
import { inDirScript, splitPath } from './safe-fs.js';
import { connectionParams, judgedConnection } from './sshd-effective.js';
import { sshdEffective } from './sshd-facts.js';
import { defineModule, type Change, type CheckPlan } from './types.js';

const params = z.strictObject({
  ...connectionParams.shape,
  /** Move aside each nologin file that keeps the user out (to FILE.fleetfix-TIMESTAMP.bak, beside it). */
  remove: boolLike.optional(),
});
type Params = z.output<typeof params>;

/** How much of a nologin file's text a message quotes. */
const QUOTED = 200;

/** A nologin file that refuses the user, and what reads it. */
interface Gate {
  path: string;
  by: string;
  weight: FailureWeight;
}

export const nologinModule = defineModule({
  name: 'nologin',
  summary: '/etc/nologin and /run/nologin do not keep the user out (pam_nologin, or sshd without PAM); moved aside only with remove: true',
  params,
  facts: (p: Params) => ({ pam: pamAccountFacts(judgedConnection(p)), effective: sshdEffective(judgedConnection(p)) }),
  plan(p: Params, facts): CheckPlan {
    const context = readPamContext(facts, p.user, 'whether sshd uses PAM (and so which nologin file it reads)');
    if ('plan' in context) return context.plan;
    const { pam } = context;
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    const present = gates(pam).filter((g, i, all) => exists(pam, g.path) && all.findIndex((o) => o.path === g.path) === i);
    if (present.length === 0) return { ok: true, message: `no nologin file keeps ${p.user} out`, changes: [] };
    if (pam.account.uid === '0') {
      return { ok: true, message: `${p.user} has uid 0, which nologin files let in`, changes: [], findings: present.map((g) => `${describe(pam, g)}: ${g.by} refuses every user but root${bootHint(g.path)}`) };
    }
    const refusing = present.filter((g) => g.weight === 'refuses');
    const maybe = present.filter((g) => g.weight === 'may-refuse').map((g) => `${describe(pam, g)}: ${g.by} may refuse ${p.user} (its control leaves the outcome to the lines after it)${bootHint(g.path)}`);
    const findings = maybe.length ? maybe : undefined;
    if (refusing.length === 0) return { ok: true, message: `no nologin file certainly keeps ${p.user} out`, changes: [], findings };
    const why = refusing.map((g) => `${describe(pam, g)}: ${g.by} refuses ${p.user} and every other user but root${bootHint(g.path)}`).join('; ');
    if (p.remove !== true) return { ...fail(`${why} (remove: true lets fleetfix move it aside)`), findings };
    const changes = refusing.map((g) => removal(g.path, pam));
    return { ok: false, message: `${why}; move it aside`, changes, findings };
  },
});

/** The nologin files that can refuse a login, and what reads each: sshd's own check without PAM, else each pam_nologin line of the account stack. */
function gates(pam: PamFacts): Gate[] {
  if (!pam.usePam) return [{ path: '/etc/nologin', by: 'sshd (UsePAM no, so its own check)', weight: 'refuses' }];
  const { lines } = pam.stack;
  return lines.flatMap((line, i) => {
    const weight = line.module === 'pam_nologin.so' ? failureWeight(lines, i, ['auth_err']) : 'ignored';
    const file = argValue(line, 'file');
    return weight === 'ignored' ? [] : (file ? [file] : pam.nologinDefaults).map((path) => ({ path, by: `pam_nologin (${describeLine(line)})`, weight }));
  });
}

function exists(pam: PamFacts, path: string): boolean {
  return pam.files.has(path) || pam.special.has(path) || pam.tooLarge.has(path);
}

/** A nologin file in a message: its path and the start of its text. */
function describe(pam: PamFacts, g: Gate): string {
  const text = pam.files.get(g.path);
  if (text === undefined) return `${g.path} exists (${pam.tooLarge.has(g.path) ? 'over the read limit, not read' : 'not a regular file'})`;
  const shown = text.trim();
  return `${g.path} exists (${shown ? `"${shown.slice(0, QUOTED)}${shown.length > QUOTED ? '...' : ''}"` : 'empty'})`;
}

function bootHint(path: string): string {
  return /^(\/var)?\/run\/nologin$/.test(path) ? ' (systemd writes it while the host boots or shuts down, and removes it once boot has finished: a boot or shutdown did not finish)' : '';
}

/** Moves `path` aside to PATH.fleetfix-TIMESTAMP.bak in its directory, which only root may write; the backup is the undo. */
function removal(path: string, pam: PamFacts): Change {
  const { dir, name } = splitPath(path);
  const n = shq(name);
  const text = pam.files.get(path);
  return {
    summary: `move ${path} aside (to ${path}.fleetfix-TIMESTAMP.bak: moving it back undoes this)`,
    diff: text !== undefined ? unifiedDiff(path, text, '') : `${path}: present -> moved aside`,
    script: inDirScript(dir, [
      `[ "$ff_dir_uid" = 0 ] || ff_refuse "$PWD belongs to uid $ff_dir_uid; not moving "${n}" there"`,
      `ff_b=${shq(`${name}.fleetfix-`)}"$(date +%Y%m%dT%H%M%S)".bak`,
      `if [ -e "$ff_b" ] || [ -L "$ff_b" ]; then ff_refuse "$PWD/$ff_b already exists"; fi`,
      `if [ -e ${n} ] || [ -L ${n} ]; then mv -- ${n} "$ff_b"; fi`,
    ]),
  };
}
