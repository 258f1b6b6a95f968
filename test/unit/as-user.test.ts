// Commands fleetfix runs as a user, run for real by this machine's sh reading its script from stdin, as on a host:
// they read none of root's script and have a session (so a controlling terminal) of their own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asUserLine, SAFE_FS_FNS } from '../../src/modules/safe-fs.js';
import { CommandTransport } from '../../src/transport/command.js';
import { shq } from '../../src/util/shell.js';

const sh = CommandTransport.local(false, 10_000);
/** nobody: a user who, with ptrace_scope 0, could read and write anything its own processes can. */
const NOBODY = 65534;
/** What the user's command reports: what it read on stdin, and its session, beside root's. */
const PROBE = `printf 'stdin=%s\\n' "$(cat | wc -c)"; printf 'sid=%s\\n' "$(cut -d' ' -f6 /proc/$$/stat)"`;
/**
 * Root's lines after the user's command: more than sh reads ahead (dash reads 8 KiB at a time), so that they are
 * still in the pipe while the command runs, and last, a line only root's shell must run.
 */
const REST_OF_ROOTS_SCRIPT = `${': padding\n'.repeat(4096)}printf 'root-ran=%s\\n' "$(cut -d' ' -f6 /proc/$$/stat)"\n`;

function records(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const CASES: [string, string][] = [
  ['asUserLine (reads as the user)', `ff_uid=${NOBODY} ff_gid=${NOBODY}\n${asUserLine('ff_uid', 'ff_gid', PROBE, [])}`],
  ['ff_as_owner (changes in a directory the user owns)', `${SAFE_FS_FNS}\nff_dir_uid=${NOBODY} ff_dir_gid=${NOBODY}\nff_as_owner sh -c ${shq(PROBE)}`],
];

describe('a command run as a user reads nothing of root\'s script and has a session of its own', () => {
  for (const [name, line] of CASES) {
    it(name, async () => {
      const r = await sh.exec(`${line}\n${REST_OF_ROOTS_SCRIPT}`);
      assert.equal(r.code, 0, r.stderr);
      const got = records(r.stdout);
      assert.equal(got.stdin, '0', 'the command read root\'s script from its stdin');
      assert.ok(got['root-ran'], 'root\'s script after the command did not run');
      assert.notEqual(got.sid, got['root-ran'], 'the command shares root\'s session (and so its controlling terminal)');
    });
  }

  it('ff_as_owner_fed still reads the pipe fleetfix gives it', async () => {
    const r = await sh.exec(`${SAFE_FS_FNS}\nff_dir_uid=${NOBODY} ff_dir_gid=${NOBODY}\nprintf 'abc' | ff_as_owner_fed sh -c 'printf "fed=%s\\n" "$(cat)"'\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(records(r.stdout).fed, 'abc');
  });
});
