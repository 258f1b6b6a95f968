// Inputs mean one thing: module parameters that could carry a second line, a second key or a terminal escape are refused (test/fixtures/config/fields.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeBlobType } from '../../src/facts/authorized-keys.js';
import { modules } from '../../src/modules/registry.js';

const cases = JSON.parse(readFileSync(new URL('../fixtures/config/fields.json', import.meta.url), 'utf8')) as { name: string; module: string; params: unknown; error?: string }[];

describe('module parameters are one line each, and what they claim to be', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = modules.get(c.module)!.params.safeParse(c.params);
      const errors = result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      if (c.error === undefined) assert.deepEqual(errors, []);
      else assert.ok(errors.some((e) => e.includes(c.error!)), `expected "${c.error}" in\n${errors.join('\n') || '(accepted)'}`);
    });
  }
});

const blobs: [string, string | undefined][] = [
  ['AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP', 'ssh-ed25519'],
  ['AAAAB3NzaC1yc2E=', 'ssh-rsa'],
  ['AAAAB3NzaC1yc2E', undefined],
  ['AAAAC3NzaC1lZDI1', undefined],
  ['AAAAAA==', undefined],
  ['////', undefined],
  ['AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiX=', undefined],
];

describe('decodeBlobType reads the type an SSH key blob names', () => {
  for (const [blob, type] of blobs) it(blob, () => assert.equal(decodeBlobType(blob), type));
});
