// A bound on what one script may send back (stdout and stderr together): past it, the transport stops reading.
import { TransportError, type ExecResult } from './types.js';

/** The inventory's `max_output` default, in MiB. */
export const DEFAULT_MAX_OUTPUT_MIB = 8;
export const DEFAULT_MAX_OUTPUT_BYTES = DEFAULT_MAX_OUTPUT_MIB * 1024 * 1024;

/** Collects one exec's stdout and stderr within `limit` bytes together; `onOverflow` is called once, when it is passed. */
export class CappedOutput {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private received = 0;
  private over = false;

  constructor(
    private readonly limit: number,
    private readonly onOverflow: (received: number) => void,
  ) {}

  readonly stdout = (chunk: Buffer): void => this.add(this.out, chunk);
  readonly stderr = (chunk: Buffer): void => this.add(this.err, chunk);

  get overflowed(): boolean {
    return this.over;
  }

  result(code: number): ExecResult {
    return { code, stdout: Buffer.concat(this.out).toString('utf8'), stderr: Buffer.concat(this.err).toString('utf8') };
  }

  private add(into: Buffer[], chunk: Buffer): void {
    if (this.over) return;
    this.received += chunk.length;
    if (this.received <= this.limit) {
      into.push(chunk);
      return;
    }
    // What was collected is dropped: the controller keeps no more than the limit, and no part of the answer is used.
    this.over = true;
    this.out.length = 0;
    this.err.length = 0;
    this.onOverflow(this.received);
  }
}

/** The error of a script that sent more than `limit` bytes; `received` is what arrived before reading stopped. */
export function outputLimitError(where: string, limit: number, received: number): TransportError {
  return new TransportError('output-limit', `a script on ${where} sent more than the ${formatBytes(limit)} a script may return (max_output): reading stopped after ${formatBytes(received)}`);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
