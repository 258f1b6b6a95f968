// known_hosts parsing, host key verdicts, the decision they lead to and the algorithms offered, from tables of files and lookups.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { HostKeyPolicy } from '../../src/config/inventory.js';
import { hostKeyAlgorithms, judgeHostKey } from '../../src/transport/host-key-check.js';
import { indexKnownHosts, knownKeyTypes, lookupName, parseKnownHosts, verifyHostKey } from '../../src/transport/known-hosts.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/known-hosts/cases.json', import.meta.url), 'utf8')) as {
  keys: Record<string, string>;
  files: Record<string, string>;
  cases: { name: string; file: string; host: string; port: number; key: string; verdict: string }[];
  decisions: { name: string; file: string; key: string; policy: HostKeyPolicy; accept: boolean; learn?: boolean; kind?: string; message?: string }[];
  algorithms: { name: string; known: string[]; offer: string[] }[];
};
const withKeys = (text: string) => text.replace(/\bK\d+\b/g, (k) => fixture.keys[k]!);
const indexOf = (file: string) => indexKnownHosts(parseKnownHosts(withKeys(fixture.files[file]!)));

describe('known_hosts verdicts', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const entries = indexKnownHosts(parseKnownHosts(withKeys(fixture.files[c.file]!)));
      const verdict = verifyHostKey(entries, [lookupName(c.host, c.port)], Buffer.from(fixture.keys[c.key]!, 'base64'));
      assert.equal(verdict.status, c.verdict);
    });
  }
});

describe('host key decisions (host h1 at 10.0.0.5, known_hosts /kh)', () => {
  for (const c of fixture.decisions) {
    it(c.name, () => {
      const decision = judgeHostKey(indexOf(c.file), ['10.0.0.5'], Buffer.from(fixture.keys[c.key]!, 'base64'), { host: 'h1', lookupName: '10.0.0.5', knownHostsPath: '/kh', policy: c.policy });
      if (decision.accept) {
        assert.ok(c.accept, 'accepted, but should be refused');
        assert.equal(decision.learn, c.learn);
      } else {
        assert.ok(!c.accept, `refused: ${decision.message}`);
        assert.equal(decision.kind, c.kind);
        assert.match(decision.message, new RegExp(c.message!));
      }
    });
  }
});

describe('host key algorithms offered: known types first, as OpenSSH orders them', () => {
  for (const c of fixture.algorithms) it(c.name, () => assert.deepEqual(hostKeyAlgorithms(c.known), c.offer));
});

describe('known_hosts details', () => {
  it('names non-22 ports as [host]:port', () => {
    assert.equal(lookupName('10.0.0.5', 22), '10.0.0.5');
    assert.equal(lookupName('10.0.0.5', 2222), '[10.0.0.5]:2222');
  });

  it('reports the key types known for a host, so the server is asked for one of them', () => {
    const entries = indexKnownHosts(parseKnownHosts(withKeys(fixture.files['two-types']!)));
    assert.deepEqual(knownKeyTypes(entries, ['10.0.0.5']).sort(), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    assert.deepEqual(knownKeyTypes(entries, ['10.0.0.6']), []);
  });

  it('names the lines that disagree when a key changed', () => {
    const entries = indexKnownHosts(parseKnownHosts(withKeys(fixture.files.plain!)));
    assert.deepEqual(verifyHostKey(entries, ['10.0.0.5'], Buffer.from(fixture.keys.K2!, 'base64')), { status: 'changed', lines: [2] });
  });

  it('skips malformed lines', () => {
    assert.equal(parseKnownHosts('justonefield\nhost ssh-ed25519\n\n#c\n').length, 0);
  });
});
