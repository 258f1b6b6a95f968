// Console byte streams made readable: telnet IAC negotiation answered and removed, ANSI sequences and CRs stripped.
import type { Duplex } from 'node:stream';

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;

/**
 * Removes telnet commands from `chunk`, refusing every option the far end asks for (DO x -> WONT x, WILL x -> DONT x).
 * `state` carries a sequence split across chunks.
 */
export function stripTelnet(chunk: Buffer, state: { pending: number[] }, reply: (bytes: Buffer) => void): Buffer {
  const out: number[] = [];
  const bytes = [...state.pending, ...chunk];
  state.pending = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== IAC) {
      out.push(b);
      continue;
    }
    const cmd = bytes[i + 1];
    if (cmd === undefined) {
      state.pending = bytes.slice(i);
      break;
    }
    if (cmd === IAC) {
      out.push(IAC);
      i++;
    } else if (cmd === DO || cmd === DONT || cmd === WILL || cmd === WONT) {
      const opt = bytes[i + 2];
      if (opt === undefined) {
        state.pending = bytes.slice(i);
        break;
      }
      if (cmd === DO) reply(Buffer.from([IAC, WONT, opt]));
      if (cmd === WILL) reply(Buffer.from([IAC, DONT, opt]));
      i += 2;
    } else if (cmd === SB) {
      const end = bytes.findIndex((x, j) => j > i && x === SE && bytes[j - 1] === IAC);
      if (end < 0) {
        state.pending = bytes.slice(i);
        break;
      }
      i = end;
    } else {
      i++;
    }
  }
  return Buffer.from(out);
}

// CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), two-byte escapes, and carriage returns.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\r/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** A console that printed more than the buffer's limit since the last match: what it printed is dropped. */
export class ConsoleOverflow extends Error {
  constructor(readonly received: number) {
    super(`the console printed more than the limit (${received} bytes)`);
  }
}

/**
 * Accumulates what a console prints, cleaned, and lets a reader wait for a pattern with a time limit. At most
 * `maxBytes` are kept between one match (or clear) and the next: past them the text is dropped and waits fail.
 */
export class ConsoleBuffer {
  private text = '';
  private waiter?: { re: RegExp; resolve: (m: { match: RegExpExecArray; before: string }) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private telnet = { pending: [] as number[] };
  private closed?: Error;
  private received = 0;
  private overflow?: ConsoleOverflow;

  constructor(
    private readonly stream: Duplex,
    telnet: boolean,
    private readonly maxBytes = Infinity,
  ) {
    stream.on('data', (chunk: Buffer) => {
      if (this.overflow) return;
      const clean = telnet ? stripTelnet(chunk, this.telnet, (b) => stream.write(b)) : chunk;
      this.received += clean.length;
      if (this.received > this.maxBytes) {
        this.text = '';
        this.overflow = new ConsoleOverflow(this.received);
        return this.reject(this.overflow);
      }
      this.text += stripAnsi(clean.toString('utf8'));
      this.check();
    });
    const end = () => this.fail(new Error('the console closed'));
    stream.on('close', end);
    stream.on('end', end);
    stream.on('error', (e: Error) => this.fail(e));
  }

  /** Wait for `re` in what arrived since the last match; the match and the text before it are consumed and returned. */
  waitFor(re: RegExp, timeoutMs: number): Promise<{ match: RegExpExecArray; before: string }> {
    if (this.closed ?? this.overflow) return Promise.reject(this.closed ?? this.overflow);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(Object.assign(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${re}; last output: ${JSON.stringify(this.text.slice(-200))}`), { timeout: true }));
      }, timeoutMs);
      this.waiter = { re, resolve, reject, timer };
      this.check();
    });
  }

  /** Drop everything received so far (an overflow too). */
  clear(): void {
    this.text = '';
    this.received = 0;
    this.overflow = undefined;
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const m = w.re.exec(this.text);
    if (!m) return;
    const before = this.text.slice(0, m.index);
    this.text = this.text.slice(m.index + m[0].length);
    this.received = Buffer.byteLength(this.text);
    clearTimeout(w.timer);
    this.waiter = undefined;
    w.resolve({ match: m, before });
  }

  private fail(e: Error): void {
    this.closed ??= e;
    this.reject(e);
  }

  private reject(e: Error): void {
    const w = this.waiter;
    if (!w) return;
    clearTimeout(w.timer);
    this.waiter = undefined;
    w.reject(e);
  }
}
