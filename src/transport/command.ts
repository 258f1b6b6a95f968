// Transports that run a local command which executes sh on the host: this machine itself, or a host reached
// by a command of the operator's (`nsenter ... sh -s`, `docker exec -i ctr sh -s`, `kubectl exec -i pod -- sh -s`).
import { spawn } from 'node:child_process';
import { CappedOutput, DEFAULT_MAX_OUTPUT_BYTES, outputLimitError } from './output-cap.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './types.js';

export class CommandTransport implements Transport {
  readonly capabilities = { mergesStderr: false, primaryLogin: false };
  private constructor(
    readonly access: string,
    private readonly argv: string[],
    private readonly defaultTimeoutMs: number,
    private readonly maxOutputBytes: number,
    /** The host as errors name it. */
    private readonly host: string,
  ) {}

  /** This machine: sh (through sudo -n when `become` and not already root). */
  static local(become: boolean, timeoutMs: number, maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES, host = 'this machine'): CommandTransport {
    return new CommandTransport('local', become && process.getuid?.() !== 0 ? ['sudo', '-n', 'sh', '-s'] : ['sh', '-s'], timeoutMs, maxOutputBytes, host);
  }

  /** A host reached by `command` (run by this machine's sh), which must run sh on the host reading its script from stdin. */
  static exec(command: string, timeoutMs: number, maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES, host = 'the host'): CommandTransport {
    return new CommandTransport('exec', ['sh', '-c', command], timeoutMs, maxOutputBytes, host);
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const [cmd, ...args] = this.argv as [string, ...string[]];
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      // Past the limit, or the time, the command is killed and our ends of its pipes closed: whatever it started and
      // still writes there gets SIGPIPE.
      const stop = () => {
        child.kill('SIGKILL');
        child.stdout.destroy();
        child.stderr.destroy();
      };
      const output = new CappedOutput(this.maxOutputBytes, (received) => {
        stop();
        settle(() => reject(outputLimitError(`${this.host} (${this.access})`, this.maxOutputBytes, received)));
      });
      const timer = setTimeout(() => {
        stop();
        settle(() => reject(new TransportError('command-timeout', `command on ${this.host} (${this.access}) did not finish within ${timeoutMs / 1000} s`)));
      }, timeoutMs);
      child.stdout.on('data', output.stdout);
      child.stderr.on('data', output.stderr);
      child.on('error', (e) => settle(() => reject(new TransportError('protocol', `cannot run ${cmd}: ${e.message}`))));
      child.on('close', (code, signal) => settle(() => resolve(output.result(code ?? (signal ? 128 : 1)))));
      child.stdin.on('error', () => {});
      child.stdin.end(script);
    });
  }

  async close(): Promise<void> {}
}
