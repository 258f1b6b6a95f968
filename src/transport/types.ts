// The Transport contract: run a shell script on a host; a non-zero exit is data, a lost host is a typed error.

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Per-command limit; the transport's default when absent. */
  timeoutMs?: number;
}

/** What a transport is and can do: the engine decides by these, never by the `access` label. */
export interface TransportCapabilities {
  /** stderr arrives inside stdout (a console's terminal has one stream): a batch finds its stderr markers there. */
  mergesStderr: boolean;
  /**
   * The session is the host's primary SSH login (the inventory's user, port and keys), the very login that verifies
   * an apply: its own login answers a check that would make the same one, and when a fresh one fails after changes,
   * the changes cut this path, and are undone over the session still open.
   */
  primaryLogin: boolean;
}

export interface Transport {
  /** How the host was reached, for the report: "ssh", "fallback 1 (port 2222)", "console", "local". Decides nothing. */
  readonly access: string;
  readonly capabilities: TransportCapabilities;
  /** Run `script` with `sh` on the host (script on stdin), as root when `become` is set. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export type TransportErrorKind =
  | 'connect-refused'
  | 'connect-timeout'
  | 'unreachable'
  | 'dns'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'auth-failed'
  | 'connection-lost'
  | 'command-timeout'
  | 'become-failed'
  | 'output-limit'
  | 'protocol';

/** Why a host could not be reached or a command could not finish. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }

  /** A changed or revoked host key stops the host: no fallback may be tried, no console either. */
  get isSecurityEvent(): boolean {
    return this.kind === 'host-key-changed' || this.kind === 'host-key-revoked';
  }
}
