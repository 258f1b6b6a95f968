// Shell snippets that modules share: atomic file replacement with mode and owner kept.
import { shq } from '../util/shell.js';

export interface AtomicWrite {
  path: string;
  content: string;
  /** sha256 the file must still have (it was read at gather); null: the file must still be absent. */
  expectSha256: string | null;
  /** Mode and owner for a new file; an existing file keeps its own. */
  createMode: string;
  createOwner: string;
}

/**
 * Write to a temp file beside the target, give it the target's mode and owner, then rename over it.
 * Refuses when the file changed since the facts were read, so no concurrent edit is lost.
 */
export function atomicWriteScript(w: AtomicWrite): string {
  const f = shq(w.path);
  const guard =
    w.expectSha256 === null
      ? `if [ -e ${f} ] || [ -L ${f} ]; then echo ${shq(`${w.path} appeared since it was read; run again`)} >&2; exit 3; fi`
      : `if [ "$(sha256sum < ${f} | cut -d' ' -f1)" != ${shq(w.expectSha256)} ]; then echo ${shq(`${w.path} changed since it was read; run again`)} >&2; exit 3; fi`;
  const attrs =
    w.expectSha256 === null
      ? `chmod ${shq(w.createMode)} "$ff_tmp" && chown ${shq(w.createOwner)} "$ff_tmp"`
      : `chown "$(stat -c %u:%g -- ${f})" "$ff_tmp" && chmod "$(stat -c %a -- ${f})" "$ff_tmp"`;
  return [
    'set -eu',
    guard,
    `ff_tmp=$(mktemp "$(dirname -- ${f})/.fleetfix.XXXXXX")`,
    `trap 'rm -f "$ff_tmp"' EXIT`,
    `printf '%s' ${shq(w.content)} > "$ff_tmp"`,
    attrs,
    `mv -f -- "$ff_tmp" ${f}`,
    'trap - EXIT',
  ].join('\n');
}
