/**
 * A child process the fleet example owns: its output kept for error messages, a wait for a line it prints, and a
 * stop that escalates from SIGTERM to SIGKILL. A process left running by a crashed parent is killed on its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/** Output kept per process for error messages, in characters. */
const MAX_OUTPUT = 8000;
/** How long a process has to exit after SIGTERM before it gets SIGKILL, in ms. */
const STOP_TIMEOUT = 5000;
/** How often {@link OwnedChild.waitFor} looks at the output, in ms. */
const POLL_INTERVAL = 20;

/** A running child. */
export interface OwnedChild {
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr so far (the last {@link MAX_OUTPUT} characters). */
  output(): string;
  /** True until the process has exited. */
  isRunning(): boolean;
  /** Resolves with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM, SIGKILL after {@link STOP_TIMEOUT}; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (for programs that cannot report the port 0 gave them). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Spawns `command`; rejects if it cannot be started (not installed, not executable). `onLine` receives each
 * complete line it prints on stdout or stderr.
 */
export async function spawnOwned(name: string, command: string, args: readonly string[], onLine?: (line: string) => void): Promise<OwnedChild> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let partial = '';
  const keep = (chunk: Buffer): void => {
    const text = chunk.toString();
    output = (output + text).slice(-MAX_OUTPUT);
    if (onLine === undefined) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop()!.slice(-MAX_OUTPUT);
    for (const line of lines) if (line !== '') onLine(line);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const failed = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (failed !== undefined) throw new Error(`cannot start ${name} (${command}): ${failed.message}`, { cause: failed });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  // A parent that dies without stop() must not leave this process behind.
  const killOnExit = (): void => {
    if (running()) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  let stopping: Promise<void> | undefined;
  return {
    name,
    pid: child.pid!,
    output: () => output,
    isRunning: running,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match !== null) return match;
        if (!running()) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, POLL_INTERVAL));
      }
    },
    stop() {
      stopping ??= (async () => {
        if (!running()) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, STOP_TIMEOUT);
        });
        await Promise.race([exited, late]);
        clearTimeout(timer);
        await exited;
      })();
      return stopping;
    },
  };
}
