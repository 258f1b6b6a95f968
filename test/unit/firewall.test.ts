// The firewall planner over a table of iptables-save and nft -j outputs: is a new connection to the port blocked, and where?
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { evaluateIptables, iptablesAfter, parseIptablesSave, type Verdict } from '../../src/facts/firewall.js';
import { evaluateNft, parseNftJson } from '../../src/facts/nftables.js';

interface Case {
  name: string;
  kind: 'iptables' | 'nft';
  input: string;
  port?: number;
  family?: 'ip' | 'ip6';
  skip?: string[];
  expect: { blocked: boolean; before?: number; by?: string };
}
const cases = JSON.parse(readFileSync(new URL('../fixtures/firewall/cases.json', import.meta.url), 'utf8')) as Case[];

describe('firewall verdicts', () => {
  for (const c of cases) {
    it(c.name, () => {
      const port = c.port ?? 22;
      const v: Verdict = c.kind === 'iptables' ? evaluateIptables(parseIptablesSave(c.input), port) : evaluateNft(parseNftJson(c.input, c.skip), port, c.family ?? 'ip');
      assert.equal(v.blocked, c.expect.blocked, v.by);
      if (v.blocked && c.expect.before !== undefined) assert.equal(v.before, c.expect.before);
      if (c.expect.by) assert.equal(v.by, c.expect.by);
      if (c.kind === 'iptables' && v.blocked) {
        // Inserting the planned ACCEPT must make the port pass.
        const after = iptablesAfter(c.input, v, port);
        assert.equal(evaluateIptables(parseIptablesSave(after), port).blocked, false, after);
      }
    });
  }
});
