// authorized_keys: the operator's key line as given, each line of a host's file as sshd reads it, and edits that
// repair the operator's broken copy while every other line stays as it was. Tables of real shapes as data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { appendKeyLine, brokenLineFindings, dropKey, parseAuthorizedKey, sameKey, wantKey } from '../../src/facts/authorized-keys.js';
import { readKeyLine } from '../../src/facts/sshd-key-line.js';
import { fill, fixture, type EditRow, type LineRow } from '../key-lines.js';

const given = JSON.parse(readFileSync(new URL('../fixtures/authorized-keys.json', import.meta.url), 'utf8')) as { line: string; expect: object | null }[];

describe('parseAuthorizedKey (the key line given to fleetfix)', () => {
  for (const c of given) {
    it(JSON.stringify(c.line), () => {
      const parsed = parseAuthorizedKey(c.line);
      assert.deepEqual(parsed === undefined ? null : JSON.parse(JSON.stringify(parsed)), c.expect);
    });
  }
});

describe('readKeyLine (a line of a host file, as sshd reads it)', () => {
  const { keys, rows } = fixture<LineRow>('authorized-key-lines');
  for (const row of rows) {
    it(row.name, () => {
      const read = readKeyLine(fill(row.line, keys));
      assert.equal(read.kind, row.expect.kind);
      assert.equal(read.kind === 'broken' ? read.problem : undefined, row.expect.problem);
      const key = read.kind === 'skipped' ? undefined : read.key;
      const holds = key && Object.keys(keys).find((name) => sameKey(key, parseAuthorizedKey(keys[name]!)!));
      assert.equal(holds, row.expect.holds);
      assert.equal(key?.options, row.expect.options);
    });
  }
});

describe('authorized_keys edits', () => {
  const { keys, rows } = fixture<EditRow>('authorized-key-edits');
  const key = parseAuthorizedKey(keys.KEY!)!;
  for (const row of rows) {
    it(row.name, () => {
      const content = fill(row.content, keys);
      const line = [row.options, key.type, key.blob, key.comment].filter(Boolean).join(' ');
      const edit = row.state === 'absent' ? dropKey(content, key) : wantKey(content, key, line, row.options);
      assert.equal(edit.action, row.expect.action);
      assert.equal(edit.after, fill(row.expect.after, keys));
      assert.deepEqual(edit.repaired, row.expect.repaired);
      assert.deepEqual(edit.broken, row.expect.broken);
    });
  }

  it('every line other than the repaired copy survives byte for byte, in order', () => {
    const others = fill('{RSA}\r\n\ufeff# x\n  \tno-pty {ECDSA}\n\n', keys);
    const edit = wantKey(`${others}ssh-ed25519 ${fill('{HEAD}\n{TAIL} {COMMENT}', keys)}\n${others}`, key, keys.KEY!, undefined);
    assert.equal(edit.after, `${others}${keys.KEY}\n${others}`);
  });

  it('appends after a last line without a newline, and to an empty file', () => {
    assert.equal(appendKeyLine(keys.RSA!, keys.KEY!), `${keys.RSA}\n${keys.KEY}\n`);
    assert.equal(appendKeyLine('', keys.KEY!), `${keys.KEY}\n`);
  });

  it('names ten broken lines one by one, and counts the rest', () => {
    const broken = Array.from({ length: 12 }, (_, i) => ({ line: i + 1, problem: 'why' }));
    const findings = brokenLineFindings('/f', broken);
    assert.equal(findings.length, 11);
    assert.equal(findings[0], '/f line 1: sshd reads no key from it: why');
    assert.equal(findings[10], '/f: 2 more lines sshd reads no key from');
  });
});
