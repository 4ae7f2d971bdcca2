/**
 * One forked worker as the primary tracks it: its state, whether it got its `init`, whether its exit is
 * planned, and promises for "listening" and "exited". Forking sets node:cluster up for Switchboard's IPC
 * (advanced serialization) and arms the start timeout.
 * @internal
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import type { ResolvedClusterOptions } from './cluster-options';
import type { WorkerState } from './cluster-types';
import { isClusterMessage, type FromWorker, type WireError } from './messages';

/** @internal */
export interface Slot {
  readonly worker: Worker;
  readonly id: number;
  readonly startedAt: number;
  state: WorkerState;
  initSent: boolean;
  /** Set when the primary decided this worker ends: its exit is not a crash. */
  retired: boolean;
  failure: WireError | undefined;
  readonly listening: Promise<void>;
  settleListening(err?: Error): void;
  readonly exited: Promise<void>;
}

/** Where a slot's IPC messages and exit go. @internal */
export interface SlotHandlers {
  message(message: FromWorker, startTimer: NodeJS.Timeout): void;
  exit(code: number | null, signal: string | null): void;
}

/**
 * Forks a worker. `listening` resolves when the primary calls `settleListening()` (on its `listening`
 * message) and rejects on `settleListening(err)`; a worker that does not listen within `startTimeout` is
 * killed (its exit then rejects it with the reason).
 * @internal
 */
export function forkSlot(options: ResolvedClusterOptions, env: Record<string, string>, on: SlotHandlers): Slot {
  const { exec, args } = options;
  cluster.setupPrimary({ serialization: 'advanced', ...(exec !== undefined && { exec }), ...(args !== undefined && { args: [...args] }) });
  const worker = cluster.fork(env);
  let settle!: (err?: Error) => void;
  const listening = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
  listening.catch(() => undefined);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const slot: Slot = { worker, id: worker.id, startedAt: Date.now(), state: 'starting', initSent: false, retired: false, failure: undefined, listening, settleListening: settle, exited };
  const startTimer = setTimeout(() => {
    slot.failure ??= { name: 'Error', message: `worker did not listen within ${options.startTimeout} ms` };
    worker.process.kill('SIGKILL');
  }, options.startTimeout);
  // IPC write errors after a worker died: its exit is what counts.
  worker.on('error', () => undefined);
  worker.on('message', (message: unknown) => {
    if (isClusterMessage<FromWorker>(message)) on.message(message, startTimer);
  });
  worker.once('exit', (code: number | null, signal: string | null) => {
    clearTimeout(startTimer);
    on.exit(code, signal);
  });
  return slot;
}
