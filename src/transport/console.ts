// Console transport: log in on a serial-style console (a TCP console server or a spawned command), then run scripts
// framed by random markers. Every module runs over it unchanged. On a console stderr arrives merged into stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { Duplex } from 'node:stream';
import type { ConsoleSpec } from '../config/inventory.js';
import { shq } from '../util/shell.js';
import { ConsoleBuffer, ConsoleOverflow } from './console-stream.js';
import { outputLimitError } from './output-cap.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './types.js';

export interface ConsoleTarget {
  name: string;
  console: ConsoleSpec;
  become?: 'sudo';
  commandTimeoutMs: number;
  /** The most one script may print before the console is given up. */
  maxOutputBytes: number;
}

const LOGIN = /(?:^|\n)[^\n]*login: *$/i;
const PASSWORD = /password: *$/i;
const INCORRECT = /login incorrect|authentication failure|permission denied/i;
const PROMPT = /[#$%>] *$/;
const MAX_DIALOGUE_STEPS = 12;
/** How long a silent console gets before one Enter wakes it. */
const WAKE_AFTER_MS = 1500;
const LOGOUT_WAIT_MS = 2000;

export class ConsoleTransport implements Transport {
  readonly access = 'console';
  readonly capabilities = { mergesStderr: true, primaryLogin: false };
  private queue: Promise<unknown> = Promise.resolve();
  private broken?: TransportError;

  private constructor(
    private readonly stream: Duplex,
    private readonly buffer: ConsoleBuffer,
    private readonly target: ConsoleTarget,
    private readonly nonce: string,
    private readonly child?: ChildProcess,
  ) {}

  static async connect(target: ConsoleTarget, signal?: AbortSignal): Promise<ConsoleTransport> {
    const { stream, child, telnet } = await open(target);
    const buffer = new ConsoleBuffer(stream, telnet, target.maxOutputBytes);
    const onAbort = () => stream.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    const transport = new ConsoleTransport(stream, buffer, target, randomBytes(6).toString('hex'), child);
    try {
      await transport.login();
      await transport.makePredictable();
      return transport;
    } catch (err) {
      stream.destroy();
      child?.kill();
      if (err instanceof TransportError) throw err;
      if (signal?.aborted) throw new TransportError('connect-timeout', `console of ${target.name}: cancelled`);
      throw new TransportError('protocol', `console of ${target.name}: ${(err as Error).message}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const run = this.queue.then(() => this.run(script, opts.timeoutMs ?? this.target.commandTimeoutMs));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Log out (the shell fleetfix started replaced the login shell) and drop the stream. */
  async close(): Promise<void> {
    if (!this.stream.destroyed && !this.broken) {
      // The session is over when the far end hangs up; a console server that keeps the line open gets 2 s.
      const hungUp = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, LOGOUT_WAIT_MS);
        this.stream.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.stream.end('exit\n');
      await hungUp;
    }
    this.stream.destroy();
    this.child?.kill();
  }

  /**
   * Answer login and password prompts until a shell prompt shows; an already logged-in shell is fine as it is.
   * A console that says nothing at first gets one Enter to wake it: sent blindly, it would answer `login:` with an
   * empty name and shift every later answer by one prompt.
   */
  private async login(): Promise<void> {
    const { console: c, name } = this.target;
    const anyPrompt = new RegExp(`${LOGIN.source}|${PASSWORD.source}|${PROMPT.source}`, 'i');
    const timedOut = (e: Error) => {
      throw new TransportError('connect-timeout', `console of ${name}: no login or shell prompt (${e.message})`);
    };
    let next = await this.buffer.waitFor(anyPrompt, Math.min(WAKE_AFTER_MS, c.promptTimeoutMs)).catch(() => {
      this.stream.write('\r');
      return this.buffer.waitFor(anyPrompt, c.promptTimeoutMs).catch(timedOut);
    });
    for (let step = 0; step < MAX_DIALOGUE_STEPS; step++) {
      const { match, before } = next;
      if (INCORRECT.test(before + match[0]) && step > 0) throw new TransportError('auth-failed', `console of ${name}: login as ${c.user} was refused`);
      if (PASSWORD.test(match[0])) {
        if (c.password === undefined) throw new TransportError('auth-failed', `console of ${name} asks for a password and none is configured (console.password)`);
        this.stream.write(`${c.password}\r`);
      } else if (/login: *$/i.test(match[0])) {
        this.stream.write(`${c.user}\r`);
      } else {
        return;
      }
      next = await this.buffer.waitFor(anyPrompt, c.promptTimeoutMs).catch(timedOut);
    }
    throw new TransportError('auth-failed', `console of ${name}: no shell after ${MAX_DIALOGUE_STEPS} prompts`);
  }

  /**
   * No echo, no output newline translation, and a plain sh reading commands (no prompts, no line editing). The login
   * shell writes no history (bash saves it before exec): a dry run over the console leaves ~/.bash_history as it was.
   */
  private async makePredictable(): Promise<void> {
    const sh = this.target.become === 'sudo' && this.target.console.user !== 'root' ? 'sudo -n env PS1= PS2= sh -s' : 'env PS1= PS2= sh -s';
    this.stream.write(`unset HISTFILE; stty -echo -onlcr 2>/dev/null; exec ${sh} 2>&1\r`);
    const [a, b] = this.markerParts('ready');
    this.stream.write(`printf '%s%s\\n' ${shq(a)} ${shq(b)}\n`);
    await this.buffer.waitFor(new RegExp(`${a}${b}\\n`), this.target.console.promptTimeoutMs).catch((e: Error) => {
      throw new TransportError('protocol', `console of ${this.target.name}: the shell did not answer (${e.message})`);
    });
  }

  private async run(script: string, timeoutMs: number): Promise<ExecResult> {
    if (this.broken) throw this.broken;
    const [a, b] = this.markerParts('end');
    const eof = `FLEETFIX_EOF_${this.nonce}`;
    const payload = Buffer.from(script).toString('base64').replace(/.{1,76}/g, '$&\n');
    this.buffer.clear();
    // The script arrives as base64 lines (a terminal line holds at most 4095 bytes); the marker is written split in
    // two so that the command text itself can never match it.
    this.stream.write([`base64 -d <<'${eof}' | sh`, `${payload}${eof}`, `printf '\\n%s%s:%s\\n' ${shq(a)} ${shq(b)} "$?"`, ''].join('\n'));
    try {
      const { match, before } = await this.buffer.waitFor(new RegExp(`\\n${a}${b}:(\\d+)\\n`), timeoutMs);
      return { code: Number(match[1]), stdout: before, stderr: '' };
    } catch (err) {
      this.stream.write('\x03');
      this.broken = (err as { timeout?: boolean }).timeout
        ? new TransportError('command-timeout', `command on the console of ${this.target.name} did not finish within ${timeoutMs / 1000} s`)
        : err instanceof ConsoleOverflow
          ? outputLimitError(`the console of ${this.target.name}`, this.target.maxOutputBytes, err.received)
          : new TransportError('connection-lost', `console of ${this.target.name}: ${(err as Error).message}`);
      throw this.broken;
    }
  }

  private markerParts(kind: string): [string, string] {
    return [`FFM${this.nonce}`, `${kind.toUpperCase()}`];
  }
}

async function open(target: ConsoleTarget): Promise<{ stream: Duplex; child?: ChildProcess; telnet: boolean }> {
  const c = target.console;
  if (c.tcp) {
    const socket = tcpConnect({ host: c.tcp.host, port: c.tcp.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e: NodeJS.ErrnoException) => reject(new TransportError(e.code === 'ECONNREFUSED' ? 'connect-refused' : 'unreachable', `console of ${target.name} at ${c.tcp!.host}:${c.tcp!.port}: ${e.code ?? e.message}`)));
      socket.setTimeout(c.promptTimeoutMs, () => socket.destroy(new Error('timed out')));
    });
    socket.setTimeout(0);
    return { stream: socket, telnet: true };
  }
  // A command console; `pty: true` runs it under script(1) for commands that insist on a terminal.
  const argv = c.pty ? ['script', '-qfec', c.command!, '/dev/null'] : ['sh', '-c', c.command!];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new TransportError('protocol', `console of ${target.name}: cannot run ${argv[0]}: ${e.message}`)));
  });
  const stream = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  child.stderr!.on('data', (d: Buffer) => stream.emit('data', d));
  child.once('exit', () => stream.destroy());
  return { stream, child, telnet: false };
}
