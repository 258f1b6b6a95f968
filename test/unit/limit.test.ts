// --limit patterns over an inventory: names, groups, globs, comma lists and exclusions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostSpec, Inventory } from '../../src/config/inventory.js';
import { limitHosts } from '../../src/config/limit.js';

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
  // Ansible's pattern syntax is not ours (yet): the error says what is.
  ['h[1-9]', /--limit: no host or group matches "h\[1-9\]" \(supported: host and group names, \* and \? globs, comma-separated terms, !TERM to exclude; other characters, such as \[1-9\] or ~regex, are matched literally\)$/],
  ['~web.*,db', /no host or group matches "~web.*" \(supported: /],
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
