// authorized_keys line parsing, key identity, and edits that never lose or reorder other lines.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { appendKeyLine, parseAuthorizedKey, removeKey, sameKey } from '../../src/facts/authorized-keys.js';

const table = JSON.parse(readFileSync(new URL('../fixtures/authorized-keys.json', import.meta.url), 'utf8')) as { line: string; expect: object | null }[];

describe('parseAuthorizedKey', () => {
  for (const c of table) {
    it(JSON.stringify(c.line), () => {
      const parsed = parseAuthorizedKey(c.line);
      assert.deepEqual(parsed === undefined ? null : JSON.parse(JSON.stringify(parsed)), c.expect);
    });
  }
});

describe('authorized_keys edits', () => {
  const a = 'ssh-rsa AAAAB3NzaC1yc2E= alice';
  const b = 'ssh-ed25519 AAAAC3Nz bob';
  it('appends after a last line without a newline', () => assert.equal(appendKeyLine(a, b), `${a}\n${b}\n`));
  it('appends to an empty file', () => assert.equal(appendKeyLine('', b), `${b}\n`));
  it('keeps comments, blank lines and CRLF lines as they were', () => {
    const before = `# team\r\n${a}\r\n\n`;
    assert.equal(appendKeyLine(before, b), `${before}${b}\n`);
  });
  it('removes only the lines of that key, whatever their options or comment', () => {
    const content = `${a}\nno-pty ssh-ed25519 AAAAC3Nz old\n# keep\n${b}\n`;
    assert.equal(removeKey(content, parseAuthorizedKey(b)!), `${a}\n# keep\n`);
  });
  it('compares type and blob only', () => {
    assert.ok(sameKey(parseAuthorizedKey(b)!, parseAuthorizedKey('from="x" ssh-ed25519 AAAAC3Nz other')!));
    assert.ok(!sameKey(parseAuthorizedKey(b)!, parseAuthorizedKey('ssh-ed25519 AAAAC3Nx bob')!));
  });
});
