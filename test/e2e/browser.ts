// Headless Chromium from Debian's packages (never a downloaded browser), driven by playwright-core, for the HTML report's
// tests; installed with apt-get when missing, as the lab installs its tools.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const PACKAGE = 'chromium';

export interface CommandResult {
  code: number;
  output: string;
}

/** Runs a command to its end: its exit code and what it printed (stderr last, where apt says why). */
export type CommandRunner = (cmd: string, args: string[]) => Promise<CommandResult>;

export interface InstallEnvironment {
  exists: (path: string) => boolean;
  isRoot: boolean;
  run: CommandRunner;
  say: (line: string) => void;
}

const runCommand: CommandRunner = (cmd, args) =>
  new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => resolve({ code: 127, output: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, output: `${Buffer.concat(out)}${Buffer.concat(err)}`.trim() }));
  });

const thisMachine: InstallEnvironment = { exists: existsSync, isRoot: process.getuid?.() === 0, run: runCommand, say: (line) => process.stderr.write(`${line}\n`) };

const INSTALL = ['install', '-y', '-qq', '--no-install-recommends', PACKAGE];

/**
 * Debian's chromium at CHROMIUM, installed when missing: apt-get install, and when that fails (no package lists yet,
 * or stale ones) apt-get update and install again. Needs root; without it, says what to run.
 */
export async function ensureChromium(env: InstallEnvironment = thisMachine): Promise<void> {
  if (env.exists(CHROMIUM)) return;
  if (!env.isRoot) throw new Error(`${CHROMIUM} is missing and installing it needs root: run the tests as root, or run apt-get install -y ${PACKAGE} as root first`);
  env.say(`browser: installing ${PACKAGE} (apt-get)`);
  let install = await env.run('apt-get', INSTALL);
  if (install.code !== 0) {
    const update = await env.run('apt-get', ['update', '-qq']);
    if (update.code !== 0) throw new Error(`browser: apt-get update failed (${update.code}): ${update.output}`);
    install = await env.run('apt-get', INSTALL);
  }
  if (install.code !== 0) throw new Error(`browser: apt-get install ${PACKAGE} failed (${install.code}): ${install.output}`);
  if (!env.exists(CHROMIUM)) throw new Error(`browser: apt-get installed ${PACKAGE}, but ${CHROMIUM} is still missing`);
}

/** A fresh headless Chromium (playwright gives it a new profile directory and removes it on close). Close it in `after`. */
export async function launchChromium(): Promise<Browser> {
  await ensureChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
