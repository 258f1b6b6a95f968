// The HTML report's tests install Debian's chromium when it is missing, as the lab installs its tools: the decisions and
// the apt-get commands, with the command runner replaced (nothing is installed here).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHROMIUM, ensureChromium, type CommandResult } from '../e2e/browser.js';

const INSTALL = 'apt-get install -y -qq --no-install-recommends chromium';
const UPDATE = 'apt-get update -qq';

interface Case {
  name: string;
  present: boolean;
  isRoot: boolean;
  /** What each apt-get command answers, in order; a successful install puts the browser in place. */
  answers: CommandResult[];
  commands: string[];
  error?: string;
}

const ok = { code: 0, output: '' };
const cases: Case[] = [
  { name: 'present: nothing is run', present: true, isRoot: false, answers: [], commands: [] },
  { name: 'missing, not root: says to run it as root, runs nothing', present: false, isRoot: false, answers: [], commands: [], error: `${CHROMIUM} is missing and installing it needs root: run the tests as root, or run apt-get install -y chromium as root first` },
  { name: 'missing, package lists current: installed', present: false, isRoot: true, answers: [ok], commands: [INSTALL] },
  {
    name: 'missing, no package lists yet: apt-get update, then installed',
    present: false,
    isRoot: true,
    answers: [{ code: 100, output: 'E: Unable to locate package chromium' }, ok, ok],
    commands: [INSTALL, UPDATE, INSTALL],
  },
  {
    name: 'the update fails: its error',
    present: false,
    isRoot: true,
    answers: [{ code: 100, output: 'E: Unable to locate package chromium' }, { code: 100, output: 'E: Could not get lock /var/lib/apt/lists/lock' }],
    commands: [INSTALL, UPDATE],
    error: 'browser: apt-get update failed (100): E: Could not get lock /var/lib/apt/lists/lock',
  },
  {
    name: 'the install fails after an update: its error',
    present: false,
    isRoot: true,
    answers: [{ code: 100, output: 'E: no space' }, ok, { code: 100, output: 'E: no space' }],
    commands: [INSTALL, UPDATE, INSTALL],
    error: 'browser: apt-get install chromium failed (100): E: no space',
  },
];

describe('ensureChromium', () => {
  for (const c of cases) {
    it(c.name, async () => {
      let installed = c.present;
      const commands: string[] = [];
      const answers = [...c.answers];
      const env = {
        exists: (path: string) => path === CHROMIUM && installed,
        isRoot: c.isRoot,
        say: () => {},
        run: async (cmd: string, args: string[]) => {
          commands.push([cmd, ...args].join(' '));
          const answer = answers.shift() ?? { code: 1, output: 'unexpected command' };
          if (answer.code === 0 && args[0] === 'install') installed = true;
          return answer;
        },
      };
      if (c.error) await assert.rejects(ensureChromium(env), { message: c.error });
      else await ensureChromium(env);
      assert.deepEqual(commands, c.commands);
      if (!c.error) assert.equal(installed, true);
    });
  }

  it('an install that leaves no browser is an error', async () => {
    const env = { exists: () => false, isRoot: true, say: () => {}, run: async () => ok };
    await assert.rejects(ensureChromium(env), { message: `browser: apt-get installed chromium, but ${CHROMIUM} is still missing` });
  });
});
