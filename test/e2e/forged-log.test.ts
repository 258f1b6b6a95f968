// Forged sshd log lines do not hide a refusal sshd logged: a login as the user "Server listening on ...", and lines
// a local user logs as sshd, on a host whose sshd writes auth.log (sshd -E), on one whose sshd logs to the journal, and
// on one whose rsyslog writes auth.log with its own times.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFleet, type Fleet, type LabHost } from '../lab/fleet.js';
import { fleetfix, hostResult } from './helpers.js';

const LISTENING = 'Server listening on 0.0.0.0 port 22.';
const REFUSAL = 'Authentication refused: bad ownership or modes for directory /home/deploy/.ssh';

/**
 * What a local user logs as sshd, under sshd's facility (auth, which a syslog writes to auth.log): with logger's own
 * PID, with the listener's (--id), and from a copy of logger named sshd. Each logger lives a second past its line, so
 * that the journal sees who sent it (a sender gone by then loses its unit). Where no syslog listens (the namespaces
 * hosts have no /dev/log) these reach no log, and harm nothing.
 */
const FORGE = `listener=$(cat /run/sshd.pid 2>/dev/null || systemctl show -P MainPID ssh.service)
{ echo '${LISTENING}'; sleep 1; } | logger -p auth.notice -t sshd
{ echo '${LISTENING}'; sleep 1; } | logger -p auth.notice -t sshd --id="$listener"
cp /usr/bin/logger "$HOME/sshd" && { echo '${LISTENING}'; sleep 1; } | "$HOME/sshd" -p auth.notice -t sshd; true`;

let files: Fleet;
let journal: Fleet;

/** Make sshd refuse deploy (a ~/.ssh others can write) and log it, then forge a restart every way a user can. */
async function refuseThenForge(fleet: Fleet, h: LabHost): Promise<void> {
  await fleet.setUp({ [h.name]: 'chmod 0777 /home/deploy/.ssh && useradd -m -s /bin/sh eve && install -d -m 0700 -o eve -g eve /home/eve/.ssh && install -m 0600 -o eve -g eve /root/.ssh/authorized_keys /home/eve/.ssh/' });
  assert.equal((await fleet.sshLogin(h, 'true', { user: 'deploy' })).code, 255, `${h.name}: sshd let deploy in`);
  assert.equal((await fleet.sshLogin(h, 'true', { user: LISTENING })).code, 255, `${h.name}: a login as "${LISTENING}"`);
  const local = await h.sh(`setpriv --reuid=deploy --regid=deploy --init-groups -- env HOME=/home/deploy sh -c '${FORGE.replace(/'/g, `'\\''`)}'`);
  assert.equal(local.code, 0, local.stderr);
  // eve logs in with a key: on a systemd host without pam_systemd, her logger runs in ssh.service's own cgroup.
  const remote = await fleet.sshLogin(h, FORGE, { user: 'eve' });
  assert.equal(remote.code, 0, remote.stderr);
}

/** The sshd-log check's findings in an audit of `h` alone. */
async function logFindings(fleet: Fleet, h: LabHost): Promise<string[]> {
  const run = await fleetfix(['audit', '-i', fleet.inventoryPath, '--limit', h.name, '--output', 'json']);
  const check = hostResult(run, h.name).checks.find((c) => c.id === 'sshd-log');
  assert.ok(check, `${h.name}: no sshd-log check\n${run.stderr}`);
  return check.findings ?? [];
}

/** The refusal is among the findings, whatever time it is said to have. */
function assertRefusalFound(findings: string[], name: string): void {
  assert.ok(findings.some((f) => f.startsWith('bad-ownership-or-modes: ') && f.includes(REFUSAL)), `${name}: ${JSON.stringify(findings)}`);
}

/** The forgery is there to be found: after the refusal, the log holds a later line that says "Server listening on". */
function assertForgedAfterRefusal(log: string, name: string): void {
  assert.ok(log.lastIndexOf('Server listening on ') > log.indexOf(REFUSAL), `${name}: no forged line after the refusal:\n${log}`);
}

describe('forged sshd log lines do not hide a refusal', { timeout: 900_000 }, () => {
  before(async () => {
    [files, journal] = await Promise.all([createFleet({ hosts: ['authlog'] }), createFleet({ hosts: ['journal', 'rsyslog'], kind: 'systemd', rsyslog: ['rsyslog'] })]);
  });
  after(async () => {
    await Promise.all([files?.destroy(), journal?.destroy()]);
  });

  it('auth.log: a login as "Server listening on ..." and logger -t sshd leave the refusal a finding', async () => {
    const h = files.hosts[0]!;
    await refuseThenForge(files, h);
    assertForgedAfterRefusal((await h.sh('cat /var/log/auth.log')).stdout, h.name);
    assertRefusalFound(await logFindings(files, h), h.name);
  });

  it("auth.log by rsyslog: the forged lines, the listener's PID among them, each at its own time, leave the refusal a finding", async () => {
    const h = journal.hosts.find((x) => x.name === 'rsyslog')!;
    await refuseThenForge(journal, h);
    const log = (await h.sh('cat /var/log/auth.log')).stdout;
    const listener = (await h.sh('systemctl show -P MainPID ssh.service')).stdout.trim();
    assert.ok(log.includes(`sshd[${listener}]: ${LISTENING}`), `no line forged with the listener's PID:\n${log}`);
    assertForgedAfterRefusal(log, h.name);
    assertRefusalFound(await logFindings(journal, h), h.name);
  });

  it("the journal: the same, with the forged records inside ssh.service's own unit", async () => {
    const h = journal.hosts.find((x) => x.name === 'journal')!;
    await refuseThenForge(journal, h);
    const listener = (await h.sh('systemctl show -P MainPID ssh.service')).stdout.trim();
    const records = (await h.sh('journalctl -u ssh.service -o json --output-fields=MESSAGE,_PID,_COMM --no-pager')).stdout.trim().split('\n');
    const forged = records.map((r) => JSON.parse(r) as Record<string, string>).filter((r) => r.MESSAGE === LISTENING && r._PID !== listener);
    assert.deepEqual([...new Set(forged.map((r) => r._COMM))].sort(), ['logger', 'sshd'], `logger and its copy named sshd wrote into ssh.service:\n${records.join('\n')}`);
    assertForgedAfterRefusal((await h.sh('journalctl -u ssh.service -o cat --no-pager')).stdout, h.name);
    assertRefusalFound(await logFindings(journal, h), h.name);
  });
});
