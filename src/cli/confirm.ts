// The apply confirmation: inquirer on a TTY; without one, only --yes may proceed.
import { confirm } from '@inquirer/prompts';

export async function confirmApply(hosts: number, changes: number): Promise<boolean> {
  try {
    return await confirm({ message: `Apply ${changes} change${changes === 1 ? '' : 's'} on ${hosts} host${hosts === 1 ? '' : 's'}?`, default: false }, { output: process.stderr });
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') return false;
    throw err;
  }
}
