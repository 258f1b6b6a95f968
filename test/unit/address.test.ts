// Addresses mean one host: canonical IP literals and RFC 1123 names pass, anything a resolver or a normaliser could
// read as another host is refused saying what it would be (table: test/fixtures/config/addresses.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { addressProblem, inetAtonReading } from '../../src/config/address.js';

const { cases } = JSON.parse(readFileSync(new URL('../fixtures/config/addresses.json', import.meta.url), 'utf8')) as { cases: [string, string | null][] };

describe('addressProblem', () => {
  for (const [text, error] of cases) {
    it(JSON.stringify(text), () => {
      const problem = addressProblem(text);
      if (error === null) assert.equal(problem, undefined);
      else assert.ok(problem?.includes(error), `expected "${error}" in\n  ${problem ?? '(accepted)'}`);
    });
  }
});

// glibc's inet_aton (checked with python3 -c 'import socket; print(socket.inet_ntoa(socket.inet_aton(TEXT)))').
const readings: [string, string | undefined][] = [
  ['192.0.2.1', '192.0.2.1'],
  ['010.1.1.1', '8.1.1.1'],
  ['0x7f.0.0.1', '127.0.0.1'],
  ['0X7F.1', '127.0.0.1'],
  ['1.2.3', '1.2.0.3'],
  ['1.2.65535', '1.2.255.255'],
  ['1.2.65536', undefined],
  ['0xffffffff', '255.255.255.255'],
  ['0x100000000', undefined],
  ['08', undefined],
  ['0x', undefined],
  ['1.2.3.4.5', undefined],
  ['1..2', undefined],
  ['web1', undefined],
];
describe('inetAtonReading', () => {
  for (const [text, want] of readings) it(text, () => assert.equal(inetAtonReading(text), want));
});
