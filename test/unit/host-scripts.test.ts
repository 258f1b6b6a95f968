// The shell side, run for real with this machine's sh: batching, quoting, and module scripts on temp files.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execBatch, splitBatch } from '../../src/engine/batch.js';
import { factsOf } from '../../src/engine/phases/gather.js';
import { modules } from '../../src/modules/registry.js';
import { CommandTransport } from '../../src/transport/command.js';
import { normalizeSave } from '../../src/modules/firewall-iptables.js';
import { FILE_READ_LIMIT } from '../../src/modules/safe-fs.js';
import { EMIT_FILE_FN } from '../../src/modules/sshd-facts.js';
import { shq } from '../../src/util/shell.js';

const sh = CommandTransport.local(false, 10_000);
// Not under /tmp: sshd, and so fleetfix, refuses key files below a directory others can write.
// Open to all, as /home is: users read their own files below it.
const work = mkdtempSync('/run/fleetfix-scripts-');
chmodSync(work, 0o755);
after(() => rmSync(work, { recursive: true, force: true }));

async function planOf(name: string, params: unknown) {
  const module = modules.get(name)!;
  const parsed = module.params.parse(params);
  return module.plan(parsed, await factsOf(sh, module, parsed), new Map());
}

describe('execBatch', () => {
  it('runs every script in one round trip and splits output, stderr and exit codes', async () => {
    const results = await execBatch(sh, ['echo one', 'echo two; echo oops >&2; exit 3', 'printf "no newline"'], { stopOnError: false });
    assert.deepEqual(results, [
      { code: 0, stdout: 'one\n', stderr: '' },
      { code: 3, stdout: 'two\n', stderr: 'oops' },
      { code: 0, stdout: 'no newline', stderr: '' },
    ]);
  });

  it('stops at the first failure when asked', async () => {
    const results = await execBatch(sh, ['true', 'false', 'echo never'], { stopOnError: true });
    assert.deepEqual(results.map((r) => r.code), [0, 1]);
  });

  it('keeps a script that exits early from ending the batch', async () => {
    const results = await execBatch(sh, ['exit 0', 'echo after'], { stopOnError: false });
    assert.equal(results[1]!.stdout, 'after\n');
  });
});

describe('shq', () => {
  for (const value of ["it's", '$(touch /tmp/pwned)', '`id`', 'a\nb', '"double"', '\\', ' lead and trail ', '*', '']) {
    it(`passes ${JSON.stringify(value)} through sh unchanged`, async () => {
      const r = await sh.exec(`printf '%s' ${shq(value)}`);
      assert.equal(r.stdout, value);
    });
  }
});

describe('file module on real files', () => {
  it('plans chmod for a 0777 directory, applies it, then is compliant', async () => {
    const dir = join(work, 'dot-ssh');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const plan = await planOf('file', { path: dir, type: 'directory', mode: '0700', owner: 'root' });
    assert.deepEqual(plan.changes.map((c) => c.summary), [`${dir}: mode 0777 -> 0700`]);
    assert.equal(statSync(dir).mode & 0o777, 0o777, 'planning changed nothing');
    const ran = await execBatch(sh, plan.changes.map((c) => c.script), { stopOnError: true });
    assert.deepEqual(ran.map((r) => r.code), [0]);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal((await planOf('file', { path: dir, type: 'directory', mode: '0700', owner: 'root' })).ok, true);
  });

  it('reads owner and group ids from the host: a ~user path, another owner, a group, and names the host lacks', async () => {
    const file = join(work, 'owned');
    writeFileSync(file, '');
    const cases: [object, string | true][] = [
      [{ path: '~root', owner: 'root' }, true],
      [{ path: file, owner: 'root', group: 'root' }, true],
      [{ path: file, owner: 'nobody' }, `${file}: owner root -> nobody`],
      [{ path: file, group: 'ff-no-such-group' }, 'no such group on the host: ff-no-such-group'],
      [{ path: '~ff-no-such-user/.ssh', owner: 'root' }, 'no such user: ff-no-such-user (in ~ff-no-such-user/.ssh)'],
    ];
    for (const [params, want] of cases) {
      const plan = await planOf('file', params);
      if (want === true) assert.equal(plan.ok, true, `${JSON.stringify(params)}: ${plan.message}`);
      else assert.equal(plan.message, want, JSON.stringify(params));
    }
  });

  it('creates a missing file with the wanted mode', async () => {
    const file = join(work, 'new-file');
    const plan = await planOf('file', { path: file, type: 'file', mode: '0600' });
    await execBatch(sh, plan.changes.map((c) => c.script), { stopOnError: true });
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});

describe('authorized_key module on real files', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP operator';
  const others = '# team keys\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC alice\n';

  it('appends the key, keeps every other line and the file mode', async () => {
    const dir = join(work, 'ak1');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'authorized_keys');
    writeFileSync(file, others, { mode: 0o640 });
    chmodSync(file, 0o640);
    const plan = await planOf('authorized_key', { user: 'root', key, path: file });
    assert.equal(readFileSync(file, 'utf8'), others, 'planning changed nothing');
    const ran = await execBatch(sh, plan.changes.map((c) => c.script), { stopOnError: true });
    assert.deepEqual(ran.map((r) => r.code), [0], ran.map((r) => r.stderr).join());
    assert.equal(readFileSync(file, 'utf8'), `${others}${key}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o640, 'mode kept');
    assert.equal((await planOf('authorized_key', { user: 'root', key, path: file })).ok, true);
  });

  it('refuses to overwrite a file that changed after it was read', async () => {
    const dir = join(work, 'ak2');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'authorized_keys');
    writeFileSync(file, others, { mode: 0o600 });
    const plan = await planOf('authorized_key', { user: 'root', key, path: file });
    appendFileSync(file, 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQD added-meanwhile\n');
    const ran = await execBatch(sh, plan.changes.map((c) => c.script), { stopOnError: true });
    assert.equal(ran[0]!.code, 3);
    assert.match(ran[0]!.stderr, /changed since it was read/);
    assert.ok(readFileSync(file, 'utf8').endsWith('added-meanwhile\n'), 'the concurrent edit survives');
  });

  it('creates ~/.ssh 0700 and authorized_keys 0600 when both are missing', async () => {
    const file = join(work, 'ak3', 'authorized_keys');
    const plan = await planOf('authorized_key', { user: 'root', key, path: file });
    assert.equal(plan.changes.length, 2);
    const ran = await execBatch(sh, plan.changes.map((c) => c.script), { stopOnError: true });
    assert.deepEqual(ran.map((r) => r.code), [0, 0]);
    assert.equal(statSync(join(work, 'ak3')).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8'), `${key}\n`);
  });
});

describe("changes inside a user's directory, when the user swaps things between plan and apply", () => {
  const NOBODY = 65534;
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKJWNRizB0O09IBVkzUXm2PfRO20YaQhAzp6BzpGXiXP operator';
  /** A root-only file outside the user's reach: no change may ever reach it. */
  const secret = join(work, 'secret');
  writeFileSync(secret, 'root only\n', { mode: 0o600 });
  const untouched = () => {
    const st = statSync(secret);
    assert.deepEqual([st.uid, st.mode & 0o7777, readFileSync(secret, 'utf8')], [0, 0o600, 'root only\n'], 'the root-only file changed');
  };
  let n = 0;
  /** A fresh directory owned by nobody, mode 0700. */
  const userDir = () => {
    const dir = join(work, `user-${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, NOBODY, NOBODY);
    return dir;
  };
  const swapForLink = (path: string) => {
    rmSync(path, { recursive: true, force: true });
    symlinkSync(secret, path);
  };

  const cases: { name: string; module: string; params: (dir: string) => object; before?: (dir: string) => void; swap: (dir: string) => void; refusal: RegExp }[] = [
    {
      name: 'a new authorized_keys whose name became a link to a root file',
      module: 'authorized_key',
      params: (dir) => ({ user: 'nobody', key, path: join(dir, 'authorized_keys') }),
      swap: (dir) => swapForLink(join(dir, 'authorized_keys')),
      refusal: /authorized_keys appeared since it was read/,
    },
    {
      name: 'an authorized_keys swapped for a link to a root file',
      module: 'authorized_key',
      params: (dir) => ({ user: 'nobody', key, path: join(dir, 'authorized_keys') }),
      before: (dir) => writeFileSync(join(dir, 'authorized_keys'), 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC alice\n'),
      swap: (dir) => swapForLink(join(dir, 'authorized_keys')),
      refusal: /authorized_keys is no longer a regular file/,
    },
    {
      name: 'a file whose mode is to change, swapped for a link',
      module: 'file',
      params: (dir) => ({ path: join(dir, 'f'), mode: '0600' }),
      before: (dir) => {
        writeFileSync(join(dir, 'f'), '', { mode: 0o644 });
        chownSync(join(dir, 'f'), NOBODY, NOBODY);
      },
      swap: (dir) => swapForLink(join(dir, 'f')),
      refusal: /f is no longer a file with one name \(symbolic link/,
    },
    {
      name: 'a file to be given to the user, swapped for a link',
      module: 'file',
      params: (dir) => ({ path: join(dir, 'f'), owner: 'nobody' }),
      before: (dir) => writeFileSync(join(dir, 'f'), '', { mode: 0o644 }),
      swap: (dir) => swapForLink(join(dir, 'f')),
      refusal: /f is no longer a file with one name \(symbolic link/,
    },
    {
      name: 'the directory itself swapped for a link',
      module: 'file',
      params: (dir) => ({ path: join(dir, 'f'), mode: '0600' }),
      before: (dir) => {
        writeFileSync(join(dir, 'f'), '', { mode: 0o644 });
        chownSync(join(dir, 'f'), NOBODY, NOBODY);
      },
      swap: (dir) => {
        renameSync(dir, `${dir}.moved`);
        symlinkSync(work, dir);
      },
      refusal: /leads through a symbolic link/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, and the root file is untouched`, async () => {
      const dir = userDir();
      c.before?.(dir);
      const plan = await planOf(c.module, c.params(dir));
      assert.ok(plan.changes.length > 0, `nothing planned: ${plan.message}`);
      c.swap(dir);
      const ran = await execBatch(sh, plan.changes.map((ch) => ch.script), { stopOnError: true });
      assert.equal(ran.at(-1)!.code, 3, ran.at(-1)!.stderr);
      assert.match(ran.at(-1)!.stderr, c.refusal);
      untouched();
    });
  }

  it('writes as the user: the new authorized_keys is theirs, its mode kept, the temp file gone', async () => {
    const dir = userDir();
    const file = join(dir, 'authorized_keys');
    writeFileSync(file, 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC alice\n', { mode: 0o640 });
    chownSync(file, NOBODY, NOBODY);
    const plan = await planOf('authorized_key', { user: 'nobody', key, path: file });
    const ran = await execBatch(sh, plan.changes.map((ch) => ch.script), { stopOnError: true });
    assert.deepEqual(ran.map((r) => r.code), [0], ran.map((r) => r.stderr).join());
    const st = lstatSync(file);
    assert.deepEqual([st.uid, st.mode & 0o777], [NOBODY, 0o640]);
    assert.equal(readFileSync(file, 'utf8'), `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC alice\n${key}\n`);
    assert.deepEqual((await sh.exec(`ls -A ${shq(dir)}`)).stdout, 'authorized_keys\n');
  });

  it("reports what sshd's StrictModes refuses: a key file below a directory others can write", async () => {
    const dir = mkdtempSync(join('/tmp', 'fleetfix-strict-'));
    try {
      writeFileSync(join(dir, 'authorized_keys'), `${key}\n`);
      const plan = await planOf('authorized_key', { user: 'root', key, path: join(dir, 'authorized_keys') });
      assert.equal(plan.ok, false);
      assert.match(plan.message, /StrictModes refuses \/tmp \(writable by group or others: mode 1777\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('splitBatch with stderr merged into stdout (a console)', () => {
  it('drops the stderr markers and still finds every script and exit code', () => {
    const m = '@@fleetfix:abc';
    const stdout = `\n${m}:begin:0\na\n\n${m}:end:0:0\n\n${m}:end:0\n\n${m}:begin:1\nb\nwarning\n\n${m}:end:1:2\n\n${m}:end:1\n`;
    assert.deepEqual(splitBatch({ code: 0, stdout, stderr: '' }, m, 2, true), [
      { code: 0, stdout: 'a\n', stderr: '' },
      { code: 2, stdout: 'b\nwarning\n', stderr: '' },
    ]);
  });
});

describe('iptables-save normalization', () => {
  // The gather normalizes on this side, the guard before a change on the host: both must hash the same text.
  const saves = [
    '# Generated by iptables-nft-save v1.8.9 on Mon Nov 24 10:00:00 2026\n*filter\n:INPUT ACCEPT [12:3456]\n:FORWARD DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n# Completed on Mon Nov 24 10:00:00 2026\n',
    '*filter\n:INPUT DROP [0:0]\n-A INPUT -m comment --comment "# not a comment [1:2]" -j ACCEPT\nCOMMIT\n',
    '*filter\n:INPUT ACCEPT [:]\nCOMMIT',
    '',
  ];
  for (const raw of saves) {
    it(`matches grep and sed for ${JSON.stringify(raw.slice(0, 40))}`, async () => {
      const r = await sh.exec(`printf '%s' ${shq(raw)} | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//g'`);
      assert.equal(normalizeSave(raw), r.stdout);
    });
  }
});

describe('log_scan module on a real file', () => {
  /** An RFC 3339 time `ago` seconds before now: after this machine's own sshd started, if one runs. */
  const stamp = (ago: number) => new Date(Date.now() - ago * 1000).toISOString();
  /** A finding without the time it says it happened at. */
  const untimed = (finding: string) => finding.replace(/ \((?:at|time) [^()]*\)$/, '');

  it('finds what sshd logged among unrelated lines; a refusal from before its path last changed is history', async () => {
    const log = join(work, 'auth.log');
    const fixed = join(work, 'fixed-dir');
    const noise = Array.from({ length: 50 }, (_, i) => `${stamp(90)} h1 sshd[1]: Accepted publickey for root from 198.18.1.1 port ${4000 + i} ssh2`);
    const before = stamp(60);
    const refused = (path: string) => `${before} h1 sshd[3]: Authentication refused: bad ownership or modes for directory ${path}`;
    writeFileSync(log, [...noise, refused(fixed), ...noise, refused(join(work, 'missing')), ''].join('\n'));
    mkdirSync(fixed, { mode: 0o700 });
    const plan = await planOf('log_scan', { files: [log] });
    assert.deepEqual(plan.findings?.map(untimed), [`bad-ownership-or-modes: ${refused(join(work, 'missing'))}`]);
    assert.match(plan.message, new RegExp(`; 1 refusal before ${fixed} last changed at `));
  });

  it("cuts a user's overlong line to 2000 bytes and keeps a last line without a newline", async () => {
    const log = join(work, 'long.log');
    const long = `${stamp(2)} h1 sshd[4]: Authentication refused: bad ownership or modes for file /home/eve/${'x'.repeat(3000)}`;
    const bind = `${stamp(1)} h1 sshd[5]: error: Bind to port 2222 on 0.0.0.0 failed: Address already in use.`;
    writeFileSync(log, [`${stamp(3)} h1 sshd[2]: Server listening on 0.0.0.0 port 22.`, long, bind].join('\n'));
    const plan = await planOf('log_scan', { files: [log] });
    assert.deepEqual(plan.findings?.map(untimed), [`bad-ownership-or-modes: ${long.slice(0, 2000)}`, `port-in-use: ${bind}`]);
  });
});

describe('sshd configuration files read without a stat', () => {
  // The size is counted from the base64 of at most one byte past the limit: its length and its padding.
  for (const size of [0, 1, 2, 3, 4, FILE_READ_LIMIT - 1, FILE_READ_LIMIT, FILE_READ_LIMIT + 1, FILE_READ_LIMIT + 2, 3 * FILE_READ_LIMIT]) {
    it(`${size} bytes: ${size > FILE_READ_LIMIT ? 'too large' : 'read whole'}`, async () => {
      const file = join(work, `config-${size}`);
      const bytes = Buffer.alloc(size, 'ab\n\0');
      writeFileSync(file, bytes);
      const r = await sh.exec(`${EMIT_FILE_FN}\nff_emit ${shq(file)}`);
      if (size > FILE_READ_LIMIT) assert.equal(r.stdout, `too_large=${file}\n`);
      else assert.equal(r.stdout, `file=${file}\ncontent=${bytes.toString('base64')}\n`);
    });
  }
});
