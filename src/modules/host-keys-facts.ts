// What the host_keys check reads: each HostKey sshd -T names, stat'ed, and where it matters loaded as sshd would load it, never through a link.
import { defineFact } from '../facts/fact.js';
import { parseChain, type FileStat } from '../facts/files.js';
import { factRecords, first } from '../facts/records.js';
import type { ExecResult } from '../transport/types.js';
import { forEachLine } from '../util/shell.js';
import { SESSION_CONNECTION, type ConnectionParams } from './sshd-effective.js';
import { sshdEffective } from './sshd-facts.js';

/** The most bytes of a private key read to load it (an RSA key of 16384 bits is 12 KiB). */
const KEY_READ_LIMIT = 65536;

/**
 * Prints, for the HostKeys in sshd -T's answer (the shared fact, gathered first): `stat=` records of each key, its
 * directory and its .pub (one stat; a link is stat'ed, never followed); `loaded=none` where sshd loads none of them;
 * `session=ssh` where this runs over SSH. Where sshd loads none, or not over SSH (a console, where a new host key
 * must be named), each key that is a regular file is read without following a link and loaded as sshd loads it
 * (`ssh-keygen -y` with an empty passphrase): `key=PATH`, then `public=` (its public key line, with its comment),
 * `unloadable=` or `unreadable=` (why not), or for a missing key `pubtype=` (the type its .pub names). Where a key is
 * not root's with no group or other bits, `keys_group=GID accepted|refused`: whether this host's ssh-keygen (so
 * its sshd: both check a key's mode in authfile.c) takes a key of group ssh_keys, mode 0640, as Fedora's does.
 */
export const hostKeysFact = defineFact<ConnectionParams>({
  name: 'host_keys.files',
  after: (conn) => [sshdEffective(conn)],
  script: (conn) => `${SESSION_CONNECTION}
ff_keys=; ff_none=
${forEachLine(sshdEffective(conn).variable, `case "$ff_l" in 'effective=hostkey '*) ff_keys="$ff_keys\${ff_l#effective=hostkey }
" ;; hostkeys_loaded=none) ff_none=yes ;; esac`)}
if [ -z "$ff_keys" ]; then echo 'hostkeys=unknown'; exit 0; fi
[ -z "$ff_none" ] || echo 'loaded=none'
[ -z "$ff_c" ] || echo 'session=ssh'
set -f; ff_ifs=$IFS; IFS='
'; set -- $ff_keys; IFS=$ff_ifs; set +f
ff_n=$#
for ff_k; do ff_d=\${ff_k%/*}; set -- "$@" "\${ff_d:-/}" "$ff_k.pub"; done
ff_st=$(LC_ALL=C stat -c 'stat=%F|%a|%U|%G|%u|%g|%s|%n' -- "$@" 2>/dev/null)
printf '%s\\n' "$ff_st"
if [ -n "$ff_none" ] || [ -z "$ff_c" ]; then
  ff_i=0
  for ff_k; do
    ff_i=$((ff_i + 1)); [ "$ff_i" -le "$ff_n" ] || break
    printf 'key=%s\\n' "$ff_k"
    if [ -f "$ff_k" ] && [ ! -L "$ff_k" ]; then
      if ! ff_e=$(dd if="$ff_k" iflag=nofollow,nonblock count=0 status=none 2>&1); then printf 'unreadable=%s\\n' "\${ff_e%%"
"*}"
      elif ff_o=$(dd if="$ff_k" iflag=nofollow,nonblock bs=${KEY_READ_LIMIT} count=1 status=none 2>/dev/null | ssh-keygen -y -P '' -f /dev/stdin 2>&1); then printf 'public=%s\\n' "\${ff_o%%"
"*}"
      else printf 'unloadable=%s\\n' "\${ff_o%%"
"*}"; fi
    elif [ ! -e "$ff_k" ] && [ ! -L "$ff_k" ] && [ -f "$ff_k.pub" ] && [ ! -L "$ff_k.pub" ]; then
      ff_t=$(dd if="$ff_k.pub" iflag=nofollow,nonblock bs=64 count=1 status=none 2>/dev/null); printf 'pubtype=%s\\n' "\${ff_t%%[ 	]*}"
    fi
  done
fi
ff_fix=
${forEachLine('ff_st', `case "$ff_l" in *.pub | 'stat=directory|'*) ;; 'stat=regular file|'[0-7]00'|root|'* | 'stat=regular file|'[0-7][0-7]00'|root|'*) ;; *) ff_fix=yes ;; esac`)}
if [ -n "$ff_fix" ]; then
  ff_g=; while IFS=: read -r ff_gn _ ff_gid _; do if [ "$ff_gn" = ssh_keys ]; then ff_g=$ff_gid; break; fi; done < /etc/group
  if [ -n "$ff_g" ]; then
    if unshare -m sh -c 'mount -t tmpfs -o size=64k,mode=0700 tmpfs /run && ssh-keygen -q -N "" -t ed25519 -f /run/k </dev/null >/dev/null 2>&1 && chgrp ssh_keys /run/k && chmod 0640 /run/k && ssh-keygen -y -P "" -f /run/k >/dev/null 2>&1'; then echo "keys_group=$ff_g accepted"; else echo "keys_group=$ff_g refused"; fi
  fi
fi
true`,
});

/** One HostKey as the fact saw it. */
export interface HostKeyFile {
  path: string;
  /** Undefined where it does not exist. */
  stat?: FileStat;
  /** Its directory, undefined where that does not exist. */
  dir?: FileStat;
  /** Read and loaded: its public key line (type, blob, comment), or why it did not load or could not be read. */
  loaded?: { public: string } | { unloadable: string } | { unreadable: string };
  /** For a missing key, the type its .pub names. */
  pubType?: string;
  /** What sshd said of it (its lines naming the path in quotes). */
  said: string[];
}

export interface HostKeyFacts {
  keys: HostKeyFile[];
  /** sshd loads none of them ("no hostkeys available"). */
  loadedNone: boolean;
  overSsh: boolean;
  /** Where the host has group ssh_keys: its gid, and whether its sshd takes a key of that group at mode 0640. */
  keysGroup?: { gid: number; accepted: boolean };
  /** HostKeyAgent is set: a key whose file holds only the public half may be served by the agent. */
  agent: boolean;
}

/**
 * The facts, from the host_keys fact and sshd -T's answer; undefined where sshd -T itself fails (the HostKeys are
 * then unknown), or `absent` without sshd.
 */
export function readHostKeyFacts(keys: ExecResult, effective: ExecResult): HostKeyFacts | 'absent' | undefined {
  const sshd = factRecords(effective);
  if (first(sshd, 'sshd') === 'absent') return 'absent';
  const r = factRecords(keys);
  if (first(r, 'hostkeys') === 'unknown') return undefined;
  const stats = new Map(parseChain(r.get('stat') ?? []).map(({ path, stat }) => [path, stat]));
  const saidLines = [...(sshd.get('hostkeys_said') ?? []), ...(sshd.get('effective') ?? [])];
  const read = readPerKey(keys.stdout);
  const paths = (sshd.get('effective') ?? []).filter((l) => l.startsWith('hostkey ')).map((l) => l.slice('hostkey '.length));
  const group = /^(\d+) (accepted|refused)$/.exec(first(r, 'keys_group') ?? '');
  const agent = (sshd.get('effective') ?? []).find((l) => l.toLowerCase().startsWith('hostkeyagent '));
  return {
    keys: paths.map((path) => ({
      path,
      stat: stats.get(path),
      dir: stats.get(path.slice(0, path.lastIndexOf('/')) || '/'),
      ...read.get(path),
      said: saidLines.filter((l) => l.includes(`'${path}'`) || l.includes(`"${path}"`)),
    })),
    loadedNone: first(r, 'loaded') === 'none',
    overSsh: first(r, 'session') === 'ssh',
    keysGroup: group ? { gid: Number(group[1]), accepted: group[2] === 'accepted' } : undefined,
    agent: agent !== undefined && agent.slice('hostkeyagent '.length).trim().toLowerCase() !== 'none',
  };
}

/** The `key=` blocks, in order: each record after a `key=` line is that key's. */
function readPerKey(stdout: string): Map<string, Pick<HostKeyFile, 'loaded' | 'pubType'>> {
  const out = new Map<string, Pick<HostKeyFile, 'loaded' | 'pubType'>>();
  let current: Pick<HostKeyFile, 'loaded' | 'pubType'> | undefined;
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    const [name, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (name === 'key') out.set(value, (current = {}));
    else if (!current) continue;
    else if (name === 'public') current.loaded = { public: value };
    else if (name === 'unloadable') current.loaded = { unloadable: value };
    else if (name === 'unreadable') current.loaded = { unreadable: value };
    else if (name === 'pubtype') current.pubType = value;
  }
  return out;
}
