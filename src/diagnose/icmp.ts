// ICMP echo with the system's ping (iputils): does the host answer at all, does the network say it is unreachable?
import { spawn } from 'node:child_process';
import { asProbe } from './quiet.js';

/**
 * `reply`: the host answered the echo, so it is up. `unreachable`: an ICMP error came back instead (no ARP answer on
 * this link, or a router's "host unreachable"), named in `said`. `silent`: nothing came back. `unavailable`: ping
 * could not be run (`said` says why), so nothing is known.
 */
export type IcmpSeen = { outcome: 'reply' } | { outcome: 'unreachable'; said: string } | { outcome: 'silent' } | { outcome: 'unavailable'; said: string };

/** One echo request to `address`, waiting at most `waitMs` (at least 4 s: a failed ARP takes 3 s to be reported). */
export function ping(address: string, waitMs: number): Promise<IcmpSeen> {
  return asProbe(() => echo(address, waitMs));
}

function echo(address: string, waitMs: number): Promise<IcmpSeen> {
  const waitS = Math.max(4, Math.ceil(waitMs / 1000));
  return new Promise((resolve) => {
    const child = spawn('ping', ['-n', '-c', '1', '-W', String(waitS), '--', address], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    const take = (d: Buffer) => {
      if (out.length < 8192) out += d.toString('latin1');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    // ping bounds itself with -W; this is the guard should it not.
    const timer = setTimeout(() => child.kill('SIGKILL'), (waitS + 2) * 1000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ outcome: 'unavailable', said: e.code === 'ENOENT' ? 'no ping command on this machine (Debian: apt-get install iputils-ping)' : e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(readPing(code, out));
    });
  });
}

/** What ping's exit code and output say (iputils: 0 a reply, 1 none, 2 an error). */
export function readPing(code: number | null, output: string): IcmpSeen {
  if (code === 0) return { outcome: 'reply' };
  const icmpError = /^From \S+ icmp_seq=\d+ (.+)$/m.exec(output);
  if (icmpError) return { outcome: 'unreachable', said: icmpError[1]!.trim() };
  if (code === 1 && / \+\d+ errors?/.test(output)) return { outcome: 'unreachable', said: 'an ICMP error' };
  if (code === 1 && / 0 received/.test(output)) return { outcome: 'silent' };
  const said = output.trim().split('\n').find((l) => l.startsWith('ping:')) ?? `ping ended with ${code === null ? 'a signal' : `exit ${code}`}`;
  return { outcome: 'unavailable', said: said.slice(0, 200) };
}
