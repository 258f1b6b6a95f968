// Transports that run a local command which executes sh on the host: this machine itself, or a host reached
// by a command of the operator's (`nsenter ... sh -s`, `docker exec -i ctr sh -s`, `kubectl exec -i pod -- sh -s`).
import { spawn } from 'node:child_process';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './types.js';

export class CommandTransport implements Transport {
  private constructor(
    readonly access: string,
    private readonly argv: string[],
    private readonly defaultTimeoutMs: number,
  ) {}

  /** This machine: sh (through sudo -n when `become` and not already root). */
  static local(become: boolean, timeoutMs: number): CommandTransport {
    return new CommandTransport('local', become && process.getuid?.() !== 0 ? ['sudo', '-n', 'sh', '-s'] : ['sh', '-s'], timeoutMs);
  }

  /** A host reached by `command` (run by this machine's sh), which must run sh on the host reading its script from stdin. */
  static exec(command: string, timeoutMs: number): CommandTransport {
    return new CommandTransport('exec', ['sh', '-c', command], timeoutMs);
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const [cmd, ...args] = this.argv as [string, ...string[]];
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new TransportError('command-timeout', `command did not finish within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new TransportError('protocol', `cannot run ${cmd}: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(script);
    });
  }

  async close(): Promise<void> {}
}
