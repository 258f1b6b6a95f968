// Local transport: runs scripts with this machine's sh, for the localhost inventory.
import { spawn } from 'node:child_process';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './types.js';

export class LocalTransport implements Transport {
  readonly access = 'local';

  constructor(
    private readonly become: boolean,
    private readonly defaultTimeoutMs: number,
  ) {}

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const [cmd, args] = this.become && process.getuid?.() !== 0 ? ['sudo', ['-n', 'sh', '-s']] : ['sh', ['-s']];
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args as string[], { stdio: ['pipe', 'pipe', 'pipe'] });
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
