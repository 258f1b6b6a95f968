// known_hosts parsing and host key verdicts, from a table of files and lookups.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { indexKnownHosts, knownKeyTypes, lookupName, parseKnownHosts, verifyHostKey } from '../../src/transport/known-hosts.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/known-hosts/cases.json', import.meta.url), 'utf8')) as {
  keys: Record<string, string>;
  files: Record<string, string>;
  cases: { name: string; file: string; host: string; port: number; key: string; verdict: string }[];
};
const withKeys = (text: string) => text.replace(/\bK[12]\b/g, (k) => fixture.keys[k]!);

describe('known_hosts verdicts', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const entries = indexKnownHosts(parseKnownHosts(withKeys(fixture.files[c.file]!)));
      const verdict = verifyHostKey(entries, [lookupName(c.host, c.port)], Buffer.from(fixture.keys[c.key]!, 'base64'));
      assert.equal(verdict.status, c.verdict);
    });
  }
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
