// TCP wrappers as libwrap judges a connection to sshd, over a table of hosts.allow / hosts.deny texts and client addresses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { evaluateAccess, HOSTS_ALLOW, HOSTS_DENY, parseAccessFile } from '../../src/facts/hosts-access.js';

interface Case {
  name: string;
  allow: string;
  deny: string;
  addr: string | null;
  expect: 'allowed' | 'refused' | 'unknown';
  /** The deciding line: "FILE N" (1-based). */
  by?: string;
}

const cases = JSON.parse(readFileSync(new URL('../fixtures/hosts-access/cases.json', import.meta.url), 'utf8')) as Case[];

describe('hosts_access: hosts.allow, then hosts.deny, for sshd and one address', () => {
  for (const c of cases) {
    it(c.name, () => {
      const rules = [...parseAccessFile(HOSTS_ALLOW, c.allow), ...parseAccessFile(HOSTS_DENY, c.deny)];
      const verdict = evaluateAccess(rules, 'sshd', c.addr ?? undefined);
      const got = verdict.allowed === true ? 'allowed' : verdict.allowed === false ? 'refused' : 'unknown';
      assert.equal(got, c.expect, JSON.stringify(verdict));
      if (c.by) assert.equal(verdict.by && `${verdict.by.file} ${verdict.by.first + 1}`, c.by);
      if (c.expect === 'unknown') assert.ok(verdict.unsure.length > 0 && verdict.unsure.every((u) => u.why), 'an unknown verdict says which line and why');
    });
  }
});
