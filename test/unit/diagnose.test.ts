// diagnose's decisions from tables: what was seen -> the cause named; ping's output -> what it says; identity files
// made by ssh-keygen -> what ssh would refuse; a real ssh-agent asked for its keys; every cause with its remedy, printed once.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HostSpec } from '../../src/config/inventory.js';
import { asDiagnosis, REMEDIES } from '../../src/diagnose/causes.js';
import { readPing, type IcmpSeen } from '../../src/diagnose/icmp.js';
import { judge, type Seen } from '../../src/diagnose/judge.js';
import { agentKeys, checkIdentity, checkOperator } from '../../src/diagnose/operator-key.js';
import { otherPorts } from '../../src/diagnose/ports.js';
import { refusalOf, tableValue } from '../../src/diagnose/refusal.js';
import { runResult, type HostResult } from '../../src/report/model.js';
import { makeStyle } from '../../src/report/style.js';
import { renderDiagnosis } from '../../src/report/text.js';

const load = <T>(name: string) => JSON.parse(readFileSync(new URL(`../fixtures/diagnose/${name}`, import.meta.url), 'utf8')) as T;

describe('what was seen -> the cause', () => {
  const rows = load<{ name: string; seen: Seen; cause: string; detail: string }[]>('judge.json');
  for (const row of rows) {
    it(`${row.name}: ${row.cause}`, () => {
      const verdict = judge(row.seen);
      assert.equal(verdict.cause, row.cause, verdict.detail);
      assert.match(verdict.detail, new RegExp(row.detail));
    });
  }
  it('the table names every cause a probe can reach (all but not-ssh, which is the transport)', () => {
    const named = new Set(rows.map((r) => r.cause));
    const missing = Object.keys(REMEDIES).filter((c) => c !== 'not-ssh' && !named.has(c) && !['identity-missing', 'agent-unavailable'].includes(c));
    assert.deepEqual(missing, []);
  });
});

describe("ping's exit code and output -> what it says", () => {
  for (const row of load<{ name: string; code: number | null; output: string; seen: IcmpSeen }[]>('ping.json')) {
    it(row.name, () => assert.deepEqual(readPing(row.code, row.output), row.seen));
  }
});

describe('identity files as ssh would judge them (made by ssh-keygen)', () => {
  const rows = load<{ name: string; setup: string; passphrase?: string; causes: string[]; detail?: string }[]>('identities.json');
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  for (const row of rows) {
    it(row.name, () => {
      const dir = mkdtempSync(join(tmpdir(), 'ffdiag-key-'));
      dirs.push(dir);
      execFileSync('sh', ['-c', row.setup], { cwd: dir, stdio: 'ignore' });
      const check = checkIdentity(join(dir, 'id'), row.passphrase);
      assert.deepEqual(check.issues.map((i) => i.cause), row.causes, check.issues.map((i) => i.detail).join('; '));
      if (row.detail) assert.match(check.issues[0]!.detail, new RegExp(row.detail));
      assert.equal(check.key !== undefined, !check.issues.some((i) => i.cause === 'identity-missing' || i.cause === 'identity-unusable'));
    });
  }
});

describe('agent: true, asked of a real ssh-agent', () => {
  let dir: string;
  let agentPid: number | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ffdiag-agent-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'op', '-f', join(dir, 'id')]);
    const agent = spawn('ssh-agent', ['-D', '-a', join(dir, 'agent.sock')], { stdio: ['ignore', 'pipe', 'ignore'] });
    agentPid = agent.pid;
    // The agent prints its environment once its socket listens (bounded: 5 s).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ssh-agent did not start within 5 s')), 5000);
      agent.stdout.once('data', () => (clearTimeout(timer), resolve()));
    });
  });
  after(() => {
    if (agentPid) process.kill(agentPid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  const access = (agent: string) => ({ label: 'ssh', port: 22, user: 'root', identities: [join(dir, 'id')], agent, agentAsked: true });

  it('an empty agent holds no key: agent-missing-key', async () => {
    assert.deepEqual(await agentKeys(join(dir, 'agent.sock'), 5000), []);
    const { issues } = await checkOperator(access(join(dir, 'agent.sock')), 5000);
    assert.deepEqual(issues.map((i) => i.cause), ['agent-missing-key']);
  });
  it('once ssh-add gives it the key, nothing is wrong', async () => {
    execFileSync('ssh-add', ['-q', join(dir, 'id')], { env: { ...process.env, SSH_AUTH_SOCK: join(dir, 'agent.sock') }, stdio: 'ignore' });
    assert.equal((await agentKeys(join(dir, 'agent.sock'), 5000) as Buffer[]).length, 1);
    assert.deepEqual((await checkOperator(access(join(dir, 'agent.sock')), 5000)).issues, []);
  });
  it('a socket nobody listens on: agent-unavailable', async () => {
    const { issues } = await checkOperator(access(join(dir, 'nothing.sock')), 5000);
    assert.deepEqual(issues.map((i) => i.cause), ['agent-unavailable']);
    assert.match(issues[0]!.detail, /cannot reach the agent at .*nothing\.sock/);
  });
  it('an agent the inventory did not ask for is not judged', async () => {
    assert.deepEqual((await checkOperator({ ...access(join(dir, 'nothing.sock')), agentAsked: undefined }, 5000)).issues, []);
  });
});

describe('the other ports tried', () => {
  const host = (port: number, fallbacks: { port: number; jump?: unknown }[]) => ({ ssh: { port }, fallbacks }) as unknown as HostSpec;
  const rows: [string, HostSpec, number[]][] = [
    ['the usual ones', host(22, []), [2222, 2200, 22222]],
    ['fallback ports first, no duplicates', host(22, [{ port: 2022 }, { port: 2222 }]), [2022, 2222, 2200, 22222]],
    ['not the configured port, not a jump host\'s; 22 when another is configured', host(2222, [{ port: 8022, jump: {} }]), [22, 2200, 22222]],
  ];
  for (const [name, h, ports] of rows) it(name, () => assert.deepEqual(otherPorts(h), ports));
});

describe('what refused a connection: the ICMP counters around it', () => {
  it('/proc/net/snmp is read by header and value lines', () => {
    const snmp = 'Ip: Forwarding DefaultTTL\nIp: 2 64\nIcmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds\nIcmp: 221 3 0 72 0\nIcmpMsg: InType3 OutType3\nIcmpMsg: 72 16\n';
    assert.equal(tableValue(snmp, 'Icmp:', 'InDestUnreachs'), 72);
    assert.ok(Number.isNaN(tableValue(snmp, 'Icmp:', 'NoSuchField')));
  });
  it('a closed port on this machine answers with a TCP RST, and no ICMP comes back', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.deepEqual(await refusalOf('127.0.0.1', port, 3000), { by: 'rst' });
  });
});

describe('every cause has its remedy, printed once per cause under the diagnosis table', () => {
  it('one sentence per cause', () => {
    for (const [cause, remedy] of Object.entries(REMEDIES)) assert.match(remedy, /^[a-z].{20,200}\.$/, cause);
  });
  it('the diagnose table ends with each cause\'s remedy, once, host text escaped', () => {
    const host = (name: string, cause: keyof typeof REMEDIES, detail: string): HostResult => ({ name, address: '198.18.1.1', status: cause === 'ok' ? 'compliant' : 'unreachable', durationMs: 1, checks: [], diagnosis: asDiagnosis({ cause, detail }) });
    const run = runResult('diagnose', [host('a', 'port-refused', 'x'), host('b', 'port-refused', 'y'), host('c', 'wrong-service', 'banner "\x1b[31mHTTP"'), host('d', 'ok', 'fine')]);
    const text = renderDiagnosis(run, makeStyle(false));
    assert.equal(text.split(REMEDIES['port-refused']).length - 1, 1);
    assert.match(text, /^remedies:\n {2}port-refused: start sshd .*\n {2}wrong-service: another service answers/m);
    assert.doesNotMatch(text, /nothing to do: SSH works/);
    assert.match(text, /banner "\\x1b\[31mHTTP"/);
    assert.doesNotMatch(text, /\x1b/);
  });
});
