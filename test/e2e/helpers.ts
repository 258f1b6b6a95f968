// End-to-end helpers: run the real fleetfix CLI, and fingerprint a lab host's files to prove a dry run touched nothing.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, type LabHost } from '../lab/fleet.js';
import type { RunResult } from '../../src/report/model.js';

const BIN = fileURLToPath(new URL('../../bin/fleetfix.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json?: RunResult;
}

/** Run `fleetfix ARGS` with no TTY; with `--output json` the stdout is parsed. `interruptWhen` resolving sends Ctrl-C. */
export function fleetfix(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; interruptWhen?: Promise<unknown> } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...opts.env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    opts.interruptWhen?.then(() => child.exitCode === null && child.kill('SIGINT')).catch(() => {});
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const run: CliRun = { code: code ?? -1, stdout, stderr: Buffer.concat(err).toString() };
      if (args.includes('json')) {
        try {
          run.json = JSON.parse(stdout) as RunResult;
        } catch {
          /* left undefined: the test's assertion on json reports it */
        }
      }
      resolve(run);
    });
  });
}

/**
 * A digest of everything a change on the host could touch: every write to /etc, /root and /home lands in the
 * host's overlay upper directories, so their listing (mode, owner, size, mtime) and content hashes are equal before
 * and after exactly when those trees are byte-identical. Add the firewall (iptables-save, ip6tables-save, nft) and
 * sshd's pid. /var/log is left out: sshd itself logs every login there.
 */
export async function hostDigest(host: LabHost): Promise<string> {
  const files = await run('sh', ['-c', `cd "$1" && find etc root home -printf '%p %y %m %u %g %s %T@\\n' | sort && find etc root home -type f -print0 | sort -z | xargs -0r sha256sum`, 'sh', `${host.dir}/ov`]);
  const state = await host.sh(`
    iptables-nft-save -t filter 2>&1 | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//g'
    ip6tables-nft-save -t filter 2>&1 | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//g'
    nft -s list ruleset 2>&1
    cat /run/sshd.pid 2>/dev/null || echo 'sshd not running'
  `);
  if (files.code !== 0) throw new Error(`digest of ${host.name} failed: ${files.stderr}`);
  return `${files.stdout}${state.stdout}`;
}

export function hostResult(run: CliRun, name: string) {
  const host = run.json?.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no result for ${name} in ${run.stdout.slice(0, 500)}\n${run.stderr.slice(0, 2000)}`);
  return host;
}

export function checkStatuses(run: CliRun, name: string): Record<string, string> {
  return Object.fromEntries(hostResult(run, name).checks.map((c) => [c.id, c.status]));
}
