import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Resources } from './servers';

/** The built bin, as `npx switchboard` runs it (packages/proxy/bin/switchboard.js loads dist/cli/main.js). */
export const CLI_BIN = resolve(__dirname, '../../packages/proxy/bin/switchboard.js');

/** A running `switchboard` child: its output so far, and helpers to wait on it. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  /** Waits until stdout+stderr match `pattern`; fails with the output so far after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const start = Date.now();
    for (;;) {
      const m = (this.stdout + this.stderr).match(pattern);
      if (m !== null) return m;
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${pattern}; output:\n${this.stdout}${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for the start line and returns the port it printed. */
  async listeningPort(): Promise<number> {
    const m = await this.waitForOutput(/switchboard listening on http:\/\/127\.0\.0\.1:(\d+)/);
    return Number(m[1]);
  }
}

/** Spawns the bin with `args`; `res` kills it (SIGKILL) at clean-up if it is still running. */
export function spawnCli(res: Resources, args: readonly string[], cwd?: string): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const cli = new CliProcess(child);
  res.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await cli.exited;
    }
  });
  return cli;
}

/** A temporary directory holding a config file; `res` removes it at clean-up. */
export function configDir(res: Resources): { dir: string; file: string; write(config: unknown): void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
  res.add(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'switchboard.json');
  return { dir, file, write: (config) => writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2)) };
}
