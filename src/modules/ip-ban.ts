// ip_ban module: no fail2ban or sshguard ban, nor another rule for this machine's address alone, stops it reaching the
// SSH port; a ban is lifted (let_in) for that address only, through fail2ban-client where fail2ban runs.
import { z } from 'zod';
import { boolLike, intLike } from '../config/fields.js';
import { toBits } from '../facts/address.js';
import { banOwner, describeOwner } from '../facts/bans.js';
import { defineFact } from '../facts/fact.js';
import { evaluateIptables, parseIptablesSave, type Blocker, type Source, type Verdict } from '../facts/firewall.js';
import { evaluateNft, parseNftJson } from '../facts/nftables.js';
import { factRecords, first, recordLines } from '../facts/records.js';
import { controllerAddress, controllerAddressFacts, controllerAddressParam, NO_ADDRESS } from './controller-address.js';
import { firewallRulesFact } from './firewall.js';
import { FAMILIES, normalizeSave } from './firewall-iptables.js';
import { describeBlocker, liftChange, type Ban, type View } from './ip-ban-lift.js';
import { defineModule, type CheckPlan } from './types.js';

const params = z.strictObject({
  port: intLike(1, 65535).optional(),
  addr: controllerAddressParam,
  /** Lift a ban of this machine's address (it lets someone in: this machine). */
  let_in: boolLike.optional(),
});
type Params = z.output<typeof params>;

/** The firewall check's own fact, with its arguments: gathered once for both checks. */
const rulesOf = (p: { port?: number }) => firewallRulesFact({ port: p.port });

/**
 * The address judged; whether fail2ban's server answers on its usual socket (`f2b=running`: fail2ban-client, a Python
 * program, is run only where the socket is) and the jails that ban the address (`f2b_jail=`: fail2ban-client banned,
 * or each jail's status on a fail2ban without it); each ipset the rules match sources against, tested for the address
 * (`ipset_member=` / `ipset_not=`); whether sshguard runs (its sshg-blocker: sshguard itself is a shell script).
 */
const banFact = defineFact<{ port?: number; addr?: string }>({
  name: 'ip_ban.state',
  after: (p) => [rulesOf(p)],
  script: (p) => `${controllerAddressFacts(p.addr)}
if { [ -S /run/fail2ban/fail2ban.sock ] || [ -S /var/run/fail2ban/fail2ban.sock ]; } && command -v fail2ban-client >/dev/null 2>&1 && fail2ban-client ping >/dev/null 2>&1; then
  echo f2b=running
  if [ -n "$ff_addr" ]; then
    ff_b=$(fail2ban-client banned "$ff_addr" 2>/dev/null | head -c 65536)
    case "$ff_b" in
      '['*) printf '%s\\n' "$ff_b" | tr -d "[]' " | tr ',' '\\n' | while IFS= read -r ff_j; do [ -z "$ff_j" ] || printf 'f2b_jail=%s\\n' "$ff_j"; done ;;
      *) fail2ban-client status 2>/dev/null | sed -n 's/.*Jail list:[[:space:]]*//p' | tr ', ' '\\n\\n' | head -n 64 | while IFS= read -r ff_j; do
          [ -n "$ff_j" ] && fail2ban-client status "$ff_j" 2>/dev/null | sed -n 's/.*Banned IP list:[[:space:]]*//p' | tr ' \\t' '\\n\\n' | grep -qxF -- "$ff_addr" && printf 'f2b_jail=%s\\n' "$ff_j"
        done ;;
    esac
  fi
fi
if [ -n "$ff_addr" ] && command -v ipset >/dev/null 2>&1; then
  printf '%s\\n' "$${rulesOf(p).variable}" | sed -n 's/.*--match-set \\([^ ]*\\) .*/\\1/p' | sort -u | head -n 64 | while IFS= read -r ff_s; do
    case "$ff_s" in ''|*[!A-Za-z0-9_.:-]*) continue ;; esac
    if ipset test "$ff_s" "$ff_addr" >/dev/null 2>&1; then printf 'ipset_member=%s\\n' "$ff_s"; else printf 'ipset_not=%s\\n' "$ff_s"; fi
  done
fi
if command -v pidof >/dev/null 2>&1 && pidof sshg-blocker >/dev/null 2>&1; then echo sshguard=running; fi
true`,
});

export const ipBanModule = defineModule({
  name: 'ip_ban',
  summary: "no fail2ban or sshguard ban, nor a rule for this machine's address alone, stops it reaching the SSH port",
  params,
  facts: (p: Params) => ({ rules: rulesOf(p), bans: banFact({ port: p.port, addr: p.addr }) }),
  plan(p: Params, facts): CheckPlan {
    const port = p.port ?? 22;
    const r = factRecords(facts.rules!);
    const b = factRecords(facts.bans!);
    const { addr } = controllerAddress(b);
    const v6 = addr !== undefined && toBits(addr)!.length === 128;
    const views = viewsOf(r, port, v6);
    if (!addr) {
      const tools = banTools(b, views);
      if (tools.length === 0) return { ok: true, message: 'no fail2ban or sshguard bans to judge', changes: [] };
      return { ok: true, message: `${tools.join(' and ')}: bans not judged`, changes: [], findings: [`whether ${tools.join(' or ')} bans this machine was not judged: ${NO_ADDRESS}`] };
    }
    const ipsets = new Map([...(b.get('ipset_member') ?? []).map((s) => [s, true] as const), ...(b.get('ipset_not') ?? []).map((s) => [s, false] as const)]);
    const bans = findBans(views, addr, ipsets, v6);
    const others = otherRefusals(views, addr, ipsets, bans, v6);
    const jailsBanning = b.get('f2b_jail') ?? [];
    const unseen = jailsBanning.filter((j) => !bans.some((x) => x.owner.tool === 'fail2ban' && x.owner.jail === j));
    const findings = unseen.map((j) => `fail2ban jail ${j} bans ${addr}, not on the way to port ${port} in the rules read (another port, or hosts.deny, which the tcp_wrappers check judges)`);
    const withFindings = (plan: CheckPlan): CheckPlan => (findings.length ? { ...plan, findings } : plan);
    if (bans.length === 0 && others.length === 0) return withFindings({ ok: true, message: `no ban stops ${addr} reaching port ${port}`, changes: [] });

    const named = bans.map((x) => `${describeOwner(x.owner)} bans ${addr} (${x.view.label} ${describeBlocker(x.at)})`);
    const refusals = others.map((o) => `${o} stops ${addr}, though not every source: no ban fleetfix lifts, so it is not changed`);
    const lifts = bans.map((x) => liftChange(x, addr, { running: first(b, 'f2b') === 'running', banning: jailsBanning, sshguardRuns: first(b, 'sshguard') === 'running' }));
    const cannot = lifts.filter((l): l is string => typeof l === 'string');
    const message = [...named, ...refusals].join('; ');
    if (refusals.length || cannot.length) return withFindings({ ok: false, message, changes: [], error: [message, ...cannot].join('; ') });
    if (p.let_in !== true) return withFindings({ ok: false, message, changes: [], error: `${message} (let_in: true lets fleetfix lift it)` });
    const changes = lifts.filter((l) => typeof l !== 'string').filter((c, i, all) => all.findIndex((o) => o.summary === c.summary) === i);
    return withFindings({ ok: false, message, changes });
  },
});

/** Each listing of the rules for the address's family: iptables (nft and legacy backends), then nftables. */
function viewsOf(r: Map<string, string[]>, port: number, v6: boolean): View[] {
  const f = FAMILIES[v6 ? 1 : 0];
  const views: View[] = [];
  const skipTables: string[] = [];
  for (const backend of ['nft', 'legacy'] as const) {
    const raw = recordLines(r, `ipt_${backend}_v${f.v}`);
    if (raw === undefined) continue;
    const text = normalizeSave(raw);
    if (backend === 'nft' && text.includes('*filter')) skipTables.push(`${f.family} filter`);
    const table = parseIptablesSave(text);
    views.push({ label: `${f.tool}-${backend}`, kind: 'iptables', table, evaluate: (source?: Source) => evaluateIptables(table, port, source), tables: () => [...table.chains.keys()] });
  }
  const json = first(r, 'nft_json');
  if (json) {
    const ruleset = parseNftJson(json, skipTables);
    views.push({ label: 'nftables', kind: 'nft', evaluate: (source?: Source) => evaluateNft(ruleset, port, f.family, source), tables: () => ruleset.chains.map((c) => `${c.family} ${c.table}`) });
  }
  return views;
}

const sameAt = (a: Blocker, b: Blocker) => a.table === b.table && a.chain === b.chain && a.rule === b.rule;

/** Every ban on the address's way to the port, in order: each found is then let through, to find the next. */
function findBans(views: View[], addr: string, ipsets: Map<string, boolean>, v6: boolean): Ban[] {
  const bans: Ban[] = [];
  for (const view of views) {
    const lifted = (at: Blocker) => bans.some((x) => x.view === view && sameAt(x.at, at));
    for (let round = 0; round < 64; round++) {
      const verdict = view.evaluate({ addr, ipsets, passes: (at) => !banOwner(at, v6) || lifted(at) });
      if (!verdict.blocked || !verdict.at) break;
      bans.push({ view, at: verdict.at, owner: banOwner(verdict.at, v6)! });
    }
  }
  return bans;
}

/**
 * Rules that stop the address once its bans are lifted, where a connection from anywhere else gets past them (those
 * that stop everyone are the firewall check's to fix).
 */
function otherRefusals(views: View[], addr: string, ipsets: Map<string, boolean>, bans: Ban[], v6: boolean): string[] {
  const out: string[] = [];
  for (const view of views) {
    const verdict: Verdict = view.evaluate({ addr, ipsets, passes: (at) => bans.some((x) => x.view === view && sameAt(x.at, at)) });
    if (!verdict.blocked || !verdict.at || banOwner(verdict.at, v6)) continue;
    const anyone = view.evaluate();
    if (anyone.blocked && anyone.at && sameAt(anyone.at, verdict.at)) continue;
    out.push(`${view.label} ${verdict.by}`);
  }
  return out;
}

/** The tools with bans on the host (running, or with their tables in the rules), for a host judged without an address. */
function banTools(b: Map<string, string[]>, views: View[]): string[] {
  const tables = views.flatMap((v) => v.tables());
  return [
    ...(first(b, 'f2b') === 'running' || tables.some((t) => /^f2b-|inet f2b-table/.test(t)) ? ['fail2ban'] : []),
    ...(first(b, 'sshguard') === 'running' || tables.some((t) => /sshguard/.test(t)) ? ['sshguard'] : []),
  ];
}
