// Pieces the firewall fixes share: the comment on fleetfix's rules, the hash their guards compare, saving live rules for boot.
import { createHash } from 'node:crypto';
import { shq } from '../util/shell.js';

export const COMMENT = 'fleetfix: ssh access';
export const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Save the live rules where the host loads them at boot: `produce` writes them to a temp file beside `persist`,
 * `check` (given the temp file) must accept them; the old file is kept as a timestamped backup, the new one gets
 * its owner and mode and is renamed over it. The temp file is removed if anything fails.
 */
export function persistLines(persist: string, produce: string, check?: string): string[] {
  const f = shq(persist);
  return [
    `ff_tmp=$(mktemp ${shq(`${persist}.fleetfix.`)}XXXXXX)`,
    `trap 'rm -f "$ff_tmp"' EXIT`,
    `${produce} > "$ff_tmp"`,
    ...(check ? [`${check} "$ff_tmp"`] : []),
    `chown "$(stat -c %u:%g -- ${f})" "$ff_tmp" && chmod "$(stat -c %a -- ${f})" "$ff_tmp"`,
    `cp -p -- ${f} ${f}.fleetfix-"$(date +%Y%m%dT%H%M%S)".bak`,
    `mv -f -- "$ff_tmp" ${f}`,
    'trap - EXIT',
  ];
}
