// pam_account module: the account modules of sshd's PAM stack judged for one user and this machine's address
// (pam_access, pam_listfile, pam_succeed_if, pam_time, pam_unix's password aging); named only, never changed: they are
// the admin's policy.
import { z } from 'zod';
import { argValue, describeLine, failureWeight, type PamLine } from '../facts/pam-stack.js';
import { ACCESS_DEFAULTS, accessRules, type AccessLogin, type Tri } from './pam-access-rules.js';
import { pamAccountFacts, readPamContext, type PamFacts } from './pam-facts.js';
import { listfileVerdict, succeedIfVerdict, timeRules, unixAging, type ModuleFiles, type ModuleLogin } from './pam-module-rules.js';
import { connectionParams, describeConnection, judgedConnection } from './sshd-effective.js';
import { effectiveConfig, sshdEffective } from './sshd-facts.js';
import { defineModule, type CheckPlan } from './types.js';

const params = connectionParams;
type Params = z.output<typeof params>;

const ACCESS_CONF = '/etc/security/access.conf';
const ACCESS_D = /^\/etc\/security\/access\.d\/[^/]*\.conf$/;
const TIME_CONF = '/etc/security/time.conf';
/** Modules the nologin check judges, and those that answer alike for every user (failureWeight reads pam_deny's place). */
const NOT_JUDGED_HERE = new Set(['pam_nologin.so', 'pam_permit.so', 'pam_deny.so']);
const POLICY = "fleetfix does not change the admin's access policy (named only)";

/** What one module line says about the login: whether it fails for the user, why, and with which PAM return. */
interface Judged {
  fails: Tri;
  why: string;
  codes: string[];
}

export const pamAccountModule = defineModule({
  name: 'pam_account',
  summary: "sshd's PAM account stack lets the user in from this machine: pam_access (access.conf), pam_listfile, pam_succeed_if, pam_time, pam_unix's password aging; named, never changed",
  params,
  facts: (p: Params) => ({ pam: pamAccountFacts(judgedConnection(p)), effective: sshdEffective(judgedConnection(p)) }),
  plan(p: Params, facts): CheckPlan {
    const context = readPamContext(facts, p.user, 'whether sshd uses PAM');
    if ('plan' in context) return context.plan;
    const { conn, pam } = context;
    const fail = (error: string): CheckPlan => ({ ok: false, message: error, changes: [], error });
    const who = describeConnection(conn);
    if (!pam.usePam) return { ok: true, message: `UsePAM no: sshd runs no PAM account module for ${who}`, changes: [] };
    const usesDns = effectiveConfig(facts.effective!).get('usedns')?.[0] === 'yes';
    const login: ModuleLogin & AccessLogin = { ...pam.account, from: usesDns ? undefined : conn.addr };
    const files = moduleFiles(pam);

    const refusals: string[] = [];
    const findings: string[] = [];
    const notJudged = new Set<string>();
    const { lines } = pam.stack;
    lines.forEach((line, i) => {
      const judged = judge(line, pam, login, files);
      if (judged === undefined) return void (NOT_JUDGED_HERE.has(line.module) || notJudged.add(line.module));
      const weight = failureWeight(lines, i, judged.codes);
      if (weight === 'ignored' || judged.fails === 'no') return;
      const said = `${line.module} (${describeLine(line)}): ${judged.why}`;
      if (judged.fails === 'yes' && weight === 'refuses') refusals.push(said);
      else findings.push(`may refuse ${p.user}: ${said}${weight === 'refuses' ? '' : '; its control leaves the outcome to the lines after it'}`);
    });
    for (const path of pam.stack.unread) findings.push(`may refuse ${p.user}: ${path}, which the PAM stack includes, ${pam.absent.has(path) ? 'does not exist' : 'was not read'}`);
    if (lines.length === 0) findings.push(`${pam.stack.service} holds no account line fleetfix could read, so libpam's outcome is unknown here`);

    const more = findings.length ? findings : undefined;
    if (refusals.length) return { ...fail(`PAM's account stack refuses ${who}: ${refusals.join('; ')}; ${POLICY}`), findings: more };
    const others = notJudged.size ? ` (not judged: ${[...notJudged].join(', ')})` : '';
    return { ok: true, message: `PAM's account stack (${pam.stack.service}) lets ${who} in${usesDns ? ', as far as UseDNS yes lets the origin be known' : ''}${others}`, changes: [], findings: more };
  },
});

/** One account line's verdict on the login; undefined for a module fleetfix does not judge here. */
function judge(line: PamLine, pam: PamFacts, login: ModuleLogin & AccessLogin, files: ModuleFiles): Judged | undefined {
  switch (line.module) {
    case 'pam_access.so':
      return accessVerdict(line, pam, login);
    case 'pam_listfile.so':
      return { ...listfileVerdict(line, login, files), codes: ['auth_err', 'service_err'] };
    case 'pam_succeed_if.so':
      return { ...succeedIfVerdict(line, login), codes: ['auth_err', 'service_err'] };
    case 'pam_time.so':
      return timeVerdict(line, login, files);
    case 'pam_unix.so': {
      const aging = line.args.includes('no_pass_expiry') ? undefined : unixAging(pam.account, login.user);
      if (!aging) return { fails: 'no', why: '', codes: [] };
      const outcome =
        aging.code === 'authtok_expired'
          ? 'pam_unix calls the account expired ("Your account has expired"), and sshd refuses it'
          : 'pam_unix asks for a new password: sshd accepts the key, then runs passwd instead of any command (without a terminal, "Password change required but no TTY available"), so no command runs';
      return { fails: 'yes', why: `${aging.why}: ${outcome}; the admin can set a new password (passwd ${login.user}) or change the aging (chage)`, codes: [aging.code] };
    }
    default:
      return undefined;
  }
}

/** pam_access: the rules of access.conf (or accessfile=), then access.d, first match deciding, for the user and the origin. */
function accessVerdict(line: PamLine, pam: PamFacts, login: AccessLogin): Judged {
  const codes = ['perm_denied', 'abort'];
  const accessfile = argValue(line, 'accessfile');
  if (accessfile && pam.absent.has(accessfile)) return { fails: 'yes', why: `accessfile=${accessfile} does not exist, so pam_access refuses every login`, codes };
  const drop = [...pam.files.keys(), ...pam.special, ...pam.tooLarge, ...pam.unread].filter((p) => ACCESS_D.test(p)).sort();
  const sequence = accessfile ? [accessfile] : [ACCESS_CONF, ...drop];
  const unreadable = sequence.findIndex((path) => !pam.files.has(path) && !pam.absent.has(path));
  const readable = (unreadable < 0 ? sequence : sequence.slice(0, unreadable)).flatMap((path) => (pam.files.has(path) ? [{ path, text: pam.files.get(path)! }] : []));
  const opts = { fieldsep: argValue(line, 'fieldsep') ?? ACCESS_DEFAULTS.fieldsep, listsep: argValue(line, 'listsep') ?? ACCESS_DEFAULTS.listsep, nodefgroup: line.args.includes('nodefgroup') };
  const { rules, decided } = accessRules(readable, login, opts);
  const subject = `${login.user} (groups ${login.groups.join(' ') || 'none'}) from ${login.from ?? 'an origin not known here'}`;
  const rule = (x: { file: string; line: number; text: string }) => `${x.file} line ${x.line} "${x.text}"`;
  const denying = rules.filter((x) => !x.allow);
  const rest = decided ? undefined : unreadable >= 0 ? `${sequence[unreadable]} could not be read here` : undefined;
  if (denying.length === 0 && rest === undefined) return { fails: 'no', why: '', codes };
  if (denying.length === rules.length && decided) {
    const certain = rules[rules.length - 1]!;
    const earlier = rules.slice(0, -1);
    return { fails: 'yes', why: `${rule(certain)} denies ${subject}${earlier.length ? `, unless an earlier rule that may match decides first: ${earlier.map(rule).join(', ')}` : ''}`, codes };
  }
  const mayDeny = denying.map(rule).join(', ');
  return { fails: 'maybe', why: `${mayDeny ? `${mayDeny} may deny ${subject} (a netgroup or a name fleetfix cannot resolve decides)` : `the rules for ${subject} are unknown here`}${rest ? `; ${rest}` : ''}`, codes };
}

/** pam_time: each rule of time.conf that takes in this login limits it to its times, which depend on the clock: named. */
function timeVerdict(line: PamLine, login: ModuleLogin, files: ModuleFiles): Judged {
  const path = argValue(line, 'conffile') ?? TIME_CONF;
  const codes = ['perm_denied'];
  const text = files.text(path);
  if (text === undefined) return { fails: 'maybe', why: `${path} ${files.state(path) === 'absent' ? 'does not exist' : 'could not be read here'}`, codes };
  const rules = timeRules(text, login);
  if (rules.length === 0) return { fails: 'no', why: '', codes };
  return { fails: 'maybe', why: `${rules.map((x) => `${path} line ${x.line} "${x.text}"`).join(', ')} ${rules.some((x) => x.certain) ? 'limits' : 'may limit'} ${login.user}'s logins over sshd to its times`, codes };
}

/** The files the stack's modules read, as pam_listfile and pam_time look them up. */
function moduleFiles(pam: PamFacts): ModuleFiles {
  return {
    text: (path) => pam.files.get(path),
    state: (path) => (pam.listfileUnsafe.has(path) ? 'unsafe' : pam.files.has(path) ? 'read' : pam.absent.has(path) ? 'absent' : 'unknown'),
  };
}
