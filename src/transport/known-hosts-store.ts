// A known_hosts file shared by every connection of a run: read once, appended to under accept-new.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatKnownHostLine, indexKnownHosts, parseKnownHosts, type KnownHostsIndex } from './known-hosts.js';

const stores = new Map<string, KnownHostsStore>();

export class KnownHostsStore {
  private entries: KnownHostsIndex;

  private constructor(readonly path: string) {
    this.entries = indexKnownHosts(parseKnownHosts(readOrEmpty(path)));
  }

  static forPath(path: string): KnownHostsStore {
    let store = stores.get(path);
    if (!store) {
      store = new KnownHostsStore(path);
      stores.set(path, store);
    }
    return store;
  }

  index(): KnownHostsIndex {
    return this.entries;
  }

  /** Append a plain entry (accept-new); the file is created 0600 if missing. */
  add(name: string, keyBlob: Buffer): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const current = readOrEmpty(this.path);
    const sep = current.length > 0 && !current.endsWith('\n') ? '\n' : '';
    appendFileSync(this.path, `${sep}${formatKnownHostLine(name, keyBlob)}\n`, { mode: 0o600 });
    this.entries = indexKnownHosts(parseKnownHosts(readOrEmpty(this.path)));
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
