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

/** Stops the script (exit 3) unless `path` still hashes as it did when the facts were read: no concurrent edit is lost. */
export function unchangedGuard(path: string, sha256: string): string {
  return `if [ "$(sha256sum < ${shq(path)})" != ${shq(`${sha256}  -`)} ]; then echo ${shq(`${path} changed since it was read; run again`)} >&2; exit 3; fi`;
}

/**
 * Lines that write `content` to a temp file beside `path`, give it `path`'s owner and mode (or `create`'s, for a new
 * file), and rename it over `path`; the temp file is removed if anything fails. Needs `set -e`.
 */
export function replaceFileLines(path: string, content: string, create?: { mode: string; owner: string }): string[] {
  const f = shq(path);
  return [
    `ff_tmp=$(mktemp "$(dirname -- ${f})/.fleetfix.XXXXXX")`,
    `trap 'rm -f "$ff_tmp"' EXIT`,
    `printf '%s' ${shq(content)} > "$ff_tmp"`,
    create
      ? `chmod ${shq(create.mode)} "$ff_tmp" && chown ${shq(create.owner)} "$ff_tmp"`
      : `chown "$(stat -c %u:%g -- ${f})" "$ff_tmp" && chmod "$(stat -c %a -- ${f})" "$ff_tmp"`,
    `mv -f -- "$ff_tmp" ${f}`,
    'trap - EXIT',
  ];
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
      : unchangedGuard(w.path, w.expectSha256);
  const create = w.expectSha256 === null ? { mode: w.createMode, owner: w.createOwner } : undefined;
  return ['set -eu', guard, ...replaceFileLines(w.path, w.content, create)].join('\n');
}
