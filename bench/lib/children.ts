import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Message } from './ipc';

/** A child process the orchestrator started, with everything needed to stop it for sure. */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Extra pids owned by this child (nginx workers), killed with it. */
  extraPids: number[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Signal for a graceful stop when there is no IPC channel. */
  readonly stopSignal: NodeJS.Signals;
}

const live = new Set<Child>();

function track(name: string, proc: ChildProcess, stopSignal: NodeJS.Signals): Child {
  if (proc.pid === undefined) throw new Error(`${name}: failed to start`);
  let exited = proc.exitCode !== null || proc.signalCode !== null;
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    extraPids: [],
    stopSignal,
    exited: new Promise<void>((resolve) => {
      if (exited) resolve();
      proc.once('exit', () => {
        exited = true;
        resolve();
      });
    }),
  };
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
}

/**
 * Forks a compiled bench module (a node process of its own, never sharing our event loop).
 * With `nofile`, the child is started as `bash -c 'ulimit -n <nofile>; exec node ...'` so it may hold
 * more descriptors than the orchestrator (raising the hard limit needs root or CAP_SYS_RESOURCE);
 * the IPC channel survives the `exec`.
 */
export function forkChild(name: string, modulePath: string, args: string[], execArgv: string[] = [], env: NodeJS.ProcessEnv = {}, nofile?: number): Child {
  const fullEnv = { ...process.env, ...env };
  if (nofile === undefined) {
    const proc = fork(modulePath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv, env: fullEnv });
    return track(name, proc, 'SIGTERM');
  }
  const script = `ulimit -n ${Math.floor(nofile)} || exit 97; exec "$0" "$@"`;
  const proc = spawn('bash', ['-c', script, process.execPath, ...execArgv, modulePath, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: fullEnv,
  });
  return track(name, proc, 'SIGTERM');
}

/** Spawns a non-node program (nginx); with `nofile`, under `bash -c 'ulimit -n N; exec ...'`. */
export function spawnChild(name: string, command: string, args: string[], stopSignal: NodeJS.Signals, nofile?: number): Child {
  const proc =
    nofile === undefined
      ? spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] })
      : spawn('bash', ['-c', `ulimit -n ${Math.floor(nofile)} || exit 97; exec "$0" "$@"`, command, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  return track(name, proc, stopSignal);
}

/** Whether `ulimit -n <n>` succeeds in a child shell (the hard limit allows it, or we may raise it). */
export function canRaiseNofile(n: number): boolean {
  const r = spawnSync('bash', ['-c', `ulimit -n ${Math.floor(n)}`], { timeout: 5000 });
  return r.status === 0;
}

function isDone(child: Child): boolean {
  return child.proc.exitCode !== null || child.proc.signalCode !== null;
}

/** Waits for the first IPC message with `type`, failing on timeout or on the child's exit. */
export function waitForMessage<T extends Message>(child: Child, type: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: Message): void => {
      if (m === null || typeof m !== 'object') return;
      if (m.type === 'fatal') {
        cleanup();
        reject(new Error(`${child.name}: ${String(m.message)}`));
      } else if (m.type === type) {
        cleanup();
        resolve(m as T);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`${child.name} exited (code ${code}, signal ${signal}) while waiting for '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name}: no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    function cleanup(): void {
      clearTimeout(timer);
      child.proc.removeListener('message', onMessage);
      child.proc.removeListener('exit', onExit);
    }
    child.proc.on('message', onMessage);
    child.proc.once('exit', onExit);
    if (isDone(child)) onExit(child.proc.exitCode, child.proc.signalCode);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Asks a child to stop, waits up to `graceMs`, then SIGKILLs it (and its extra pids). Never throws. */
export async function stopChild(child: Child | undefined, graceMs = 3000): Promise<void> {
  if (child === undefined) return;
  if (!isDone(child)) {
    if (child.proc.connected) {
      try {
        child.proc.send({ type: 'stop' });
      } catch {
        child.proc.kill(child.stopSignal);
      }
    } else {
      child.proc.kill(child.stopSignal);
    }
    await Promise.race([child.exited, sleep(graceMs)]);
  }
  if (!isDone(child)) {
    child.proc.kill('SIGKILL');
    await Promise.race([child.exited, sleep(1000)]);
  }
  for (const pid of child.extraPids) killPid(pid, 'SIGKILL');
  live.delete(child);
}

/** Last resort, synchronous: SIGKILL everything still tracked (used from process 'exit'). */
export function killAllSync(): void {
  for (const child of live) {
    killPid(child.pid, 'SIGKILL');
    for (const pid of child.extraPids) killPid(pid, 'SIGKILL');
  }
  live.clear();
}

export function liveChildren(): number {
  return live.size;
}

/** The hard RLIMIT_NOFILE of this process (from /proc/self/limits), or undefined. */
export function hardNofile(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m === null) return undefined;
    return m[2] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[2]);
  } catch {
    return undefined;
  }
}

/**
 * Opens an event-loop-utilization window in a Node child that answers `elu` requests (lib/ipc.ts); the
 * returned function closes it and resolves to the share of the window its JS loop was busy (0..1).
 */
export async function startEluWindow(child: Child): Promise<() => Promise<number>> {
  const started = waitForMessage(child, 'elu-started', 5000);
  child.proc.send({ type: 'elu-start' });
  await started;
  return async () => {
    const done = waitForMessage<Message & { utilization: number }>(child, 'elu', 5000);
    child.proc.send({ type: 'elu-stop' });
    return (await done).utilization;
  };
}
