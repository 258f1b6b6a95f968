// The operator's side of a key login, as OpenSSH's ssh would see it: each identity file and, when asked for, the agent.
import { readFileSync, statSync } from 'node:fs';
import ssh2, { type ParsedKey } from 'ssh2';
import type { SshAccess } from '../config/inventory.js';

const { utils, OpenSSHAgent } = ssh2;

export type OperatorCause = 'identity-missing' | 'identity-unprotected' | 'identity-unusable' | 'identity-pub-mismatch' | 'agent-unavailable' | 'agent-missing-key';

export interface OperatorIssue {
  cause: OperatorCause;
  detail: string;
  /** The identity file it is about; none for the agent. */
  path?: string;
}

export interface IdentityCheck {
  path: string;
  /** The key, when it parses with the inventory's passphrase. */
  key?: ParsedKey;
  issues: OperatorIssue[];
}

/** One identity file: there, readable by its owner alone (ssh refuses it otherwise), parses, and its `.pub` is its own. */
export function checkIdentity(path: string, passphrase: string | undefined, uid = process.getuid?.() ?? -1): IdentityCheck {
  const issues: OperatorIssue[] = [];
  const out: IdentityCheck = { path, issues };
  let data: Buffer;
  try {
    const st = statSync(path);
    // sshkey_perm_ok(): a key the user owns with any group or other bit is refused ("UNPROTECTED PRIVATE KEY FILE").
    if (st.uid === uid && (st.mode & 0o077) !== 0) {
      issues.push({ cause: 'identity-unprotected', path, detail: `${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: ssh refuses a private key that group or others can access ("UNPROTECTED PRIVATE KEY FILE")` });
    }
    data = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    issues.push(code === 'ENOENT' ? { cause: 'identity-missing', path, detail: `${path} does not exist` } : { cause: 'identity-unusable', path, detail: `cannot read ${path}: ${code ?? String(err)}` });
    return out;
  }
  const parsed = utils.parseKey(data, passphrase);
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.isPrivateKey?.() === false) {
    const why = parsed instanceof Error ? parsed.message : 'it is not a private key';
    const encrypted = /encrypted|passphrase|decrypt/i.test(why);
    const detail = encrypted && passphrase === undefined ? `${path} is encrypted and the inventory gives no passphrase (${why})` : encrypted ? `${path} does not decrypt with the inventory's passphrase (${why})` : `${path} does not parse as a private key: corrupted or not a key (${why})`;
    issues.push({ cause: 'identity-unusable', path, detail });
    return out;
  }
  out.key = parsed;
  const pubPath = `${path}.pub`;
  let pubText: Buffer | undefined;
  try {
    pubText = readFileSync(pubPath);
  } catch {
    return out; // no .pub: ssh derives the public key from the private one
  }
  const pub = utils.parseKey(pubText);
  if (pub instanceof Error || Array.isArray(pub) || !pub.getPublicSSH().equals(parsed.getPublicSSH())) {
    issues.push({ cause: 'identity-pub-mismatch', path, detail: `${pubPath} is not the public half of ${path}${pub instanceof Error ? ` (it does not parse: ${pub.message})` : ''}: ssh offers the key in ${pubPath}, then cannot sign for it` });
  }
  return out;
}

/** The public keys the agent at `socket` holds (their wire blobs), or why it could not be asked; bounded by `timeoutMs`. */
export function agentKeys(socket: string, timeoutMs: number): Promise<Buffer[] | string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`the agent at ${socket} did not answer within ${timeoutMs / 1000} s`), timeoutMs);
    new OpenSSHAgent(socket).getIdentities((err, keys) => {
      clearTimeout(timer);
      resolve(err ? `cannot reach the agent at ${socket} (${(err as NodeJS.ErrnoException).code ?? err.message})` : (keys ?? []).map(blobOf));
    });
  });
}

/** The wire blob of what the agent listed: ssh2 hands back parsed keys (typed as possibly a key entry). */
function blobOf(k: unknown): Buffer {
  if (k && typeof k === 'object' && 'getPublicSSH' in k) return (k as ParsedKey).getPublicSSH();
  if (k && typeof k === 'object' && 'pubKey' in k) return blobOf((k as { pubKey: unknown }).pubKey);
  return Buffer.isBuffer(k) ? k : Buffer.alloc(0);
}

/** Everything wrong on this machine's side for `access`: each identity file, then the agent when `agent: true` asks for it. */
export async function checkOperator(access: SshAccess, timeoutMs: number): Promise<{ identities: IdentityCheck[]; issues: OperatorIssue[] }> {
  const identities = access.identities.map((p) => checkIdentity(p, access.passphrase));
  const issues = identities.flatMap((i) => i.issues);
  if (access.agentAsked && access.agent) {
    const held = await agentKeys(access.agent, timeoutMs);
    const mine = identities.flatMap((i) => (i.key ? [i.key.getPublicSSH()] : []));
    if (typeof held === 'string') issues.push({ cause: 'agent-unavailable', detail: `agent: true, but ${held}` });
    else if (held.length === 0) issues.push({ cause: 'agent-missing-key', detail: `agent: true, but the agent at ${access.agent} holds no key` });
    else if (mine.length > 0 && !held.some((h) => mine.some((m) => m.equals(h)))) issues.push({ cause: 'agent-missing-key', detail: `agent: true, but the agent at ${access.agent} holds ${held.length} key${held.length === 1 ? '' : 's'}, none of them ${access.identities.join(', ')}` });
  }
  return { identities, issues };
}
