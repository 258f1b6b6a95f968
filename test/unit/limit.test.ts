// --limit patterns over an inventory: names, groups, globs, comma lists and exclusions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { HostSpec, Inventory } from '../../src/config/inventory.js';
import { loadInventory } from '../../src/config/inventory.js';
import { limitHosts, splitPattern } from '../../src/config/limit.js';

const host = (name: string, groups: string[] = []) => ({ name, groups }) as unknown as HostSpec;
const inventory: Inventory = {
  hosts: [host('web1', ['web']), host('web2', ['web']), host('db1', ['db']), host('bastion')],
  groups: new Map([['web', ['web1', 'web2']], ['db', ['db1']]]),
};
const cases: [string | undefined, string[] | RegExp][] = [
  [undefined, ['web1', 'web2', 'db1', 'bastion']],
  ['web1', ['web1']],
  ['web', ['web1', 'web2']],
  ['web*', ['web1', 'web2']],
  ['db,bastion', ['db1', 'bastion']],
  ['*,!web', ['db1', 'bastion']],
  ['!db1', ['web1', 'web2', 'bastion']],
  ['web?', ['web1', 'web2']],
  ['nosuch', /no host or group matches "nosuch"/],
  // Ansible's pattern syntax: classes, ~regex, subscripts, &, and ":" as a separator.
  ['w[a-z]b[!2]', ['web1']],
  // As in Ansible, NAME[x-y] is the old form of the subscript NAME[x:y], not a character class.
  ['web[1-9]', ['web2']],
  ['~web,db', ['web1', 'web2', 'db1']],
  ['web:&*1', ['web1']],
  ['web[1]:bastion', ['web2', 'bastion']],
  // Ansible 2.14 reads h[1-2] as the subscript h[1:2] (no host h, so nothing) and says "Use [x:y] inclusive subscripts instead of [x-y] which has been removed".
  ['h[1-2]', /--limit: no host or group matches "h\[1-2\]" \(patterns: .*\); "h\[1-2\]": use \[x:y\] inclusive subscripts instead of \[x-y\], which has been removed; it is read as "h\[1:2\]", hosts 1 to 2 of "h" \(counted from 0\), not as a glob$/],
  ['h[1-9]', /--limit: no host or group matches "h\[1-9\]" \(patterns: names, globs \(\* \? \[abc\] \[!a-c\]\), ~regex, group\[0\] or group\[0:2\], joined by "," or ":", with &TERM to intersect and !TERM to exclude\); "h\[1-9\]": use \[x:y\]/],
  ['web1,!web1', /leaves no hosts/],
];

describe('limitHosts', () => {
  for (const [pattern, want] of cases) {
    it(String(pattern), () => {
      if (want instanceof RegExp) assert.throws(() => limitHosts(inventory, pattern), want);
      else assert.deepEqual(limitHosts(inventory, pattern).map((h) => h.name), want);
    });
  }
});

// A removed [x-y] subscript that selects hosts works, as in Ansible, with Ansible's warning; other patterns warn of nothing.
const warnings: [string, string[], string[]][] = [
  ['web[0-1]', ['web1', 'web2'], ['--limit "web[0-1]": use [x:y] inclusive subscripts instead of [x-y], which has been removed; it is read as "web[0:1]", hosts 0 to 1 of "web" (counted from 0), not as a glob']],
  ['db,!web[1-]', ['db1'], ['--limit "web[1-]": use [x:y] inclusive subscripts instead of [x-y], which has been removed; it is read as "web[1:]", hosts 1 to the last of "web" (counted from 0), not as a glob']],
  ['web[0:1]', ['web1', 'web2'], []],
  ['w[a-z]b[!2]', ['web1'], []],
  ['~web[1-2]', ['web1', 'web2'], []],
];
describe('limitHosts warns of the removed [x-y] subscript', () => {
  for (const [pattern, hosts, want] of warnings) {
    it(pattern, () => {
      const said: string[] = [];
      assert.deepEqual(limitHosts(inventory, pattern, (m) => said.push(m)).map((h) => h.name), hosts);
      assert.deepEqual(said, want);
    });
  }
});

// Ansible's own patterns over the inventory of its documentation (test/fixtures/ansible/limit.json: the hosts
// ansible-core lists for each).
const table = JSON.parse(readFileSync(new URL('../fixtures/ansible/limit.json', import.meta.url), 'utf8')) as { inventory: string; cases: { pattern: string; hosts?: string[]; error?: string }[] };
describe('limitHosts with Ansible patterns', () => {
  const docs = loadInventory(new URL(`../fixtures/ansible/${table.inventory}`, import.meta.url).pathname);
  for (const c of table.cases) {
    it(c.pattern, () => {
      if (c.error) assert.throws(() => limitHosts(docs, c.pattern), (err: Error) => err.message.startsWith(c.error!));
      else assert.deepEqual(limitHosts(docs, c.pattern).map((h) => h.name), c.hosts);
    });
  }
});

describe('splitPattern', () => {
  const splits: [string, string[]][] = [
    ['a,b[1], c[2:3] , d', ['a', 'b[1]', 'c[2:3]', 'd']],
    ['web:db:!h1', ['web', 'db', '!h1']],
    ['web[0:2]:db', ['web[0:2]', 'db']],
    ['fd00:ff:1::11', ['fd00:ff:1::11']],
    ['2001:db8:0:0:0:0:0:1', ['2001:db8:0:0:0:0:0:1']],
  ];
  for (const [pattern, want] of splits) it(pattern, () => assert.deepEqual(splitPattern(pattern), want));
});
