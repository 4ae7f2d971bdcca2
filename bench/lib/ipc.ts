/**
 * Child-side helpers: every bench child talks to the orchestrator over the fork IPC channel.
 *
 * A child exits when told `{ type: 'stop' }`, and also when the channel closes (the orchestrator died),
 * so no child outlives a crashed run.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export interface Message {
  type: string;
  [key: string]: unknown;
}

export function send(msg: Message): void {
  if (process.send !== undefined && process.connected) process.send(msg);
}

/** Runs `cleanup` (bounded by `graceMs`) then exits, on `stop` or when the parent goes away. */
export function exitOnStop(cleanup: () => Promise<void> | void, graceMs = 2000): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(0), graceMs);
    timer.unref();
    Promise.resolve()
      .then(cleanup)
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('message', (m: Message) => {
    if (m !== null && typeof m === 'object' && m.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
}

/**
 * Answers `{ type: 'gc' }` with `{ type: 'gc-done', collected }` after full garbage collections
 * (the child must run with `--expose-gc`; without it `collected` is false). The memory rows use it to
 * read a Node proxy's RSS without the garbage of the moment in it.
 */
export function answerGcRequests(): void {
  process.on('message', (m: Message) => {
    if (m === null || typeof m !== 'object' || m.type !== 'gc') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) {
      send({ type: 'gc-done', collected: false });
      return;
    }
    // A few rounds a turn apart: finalizers and weak callbacks free more on the next one.
    let left = 3;
    const step = (): void => {
      gc();
      if (--left > 0) setTimeout(step, 20);
      else send({ type: 'gc-done', collected: true });
    };
    step();
  });
}

/**
 * Event-loop utilization over a window the orchestrator chooses: `{ type: 'elu-start' }` ->
 * `{ type: 'elu-started' }`, then `{ type: 'elu-stop' }` -> `{ type: 'elu', utilization }` (0..1, the share
 * of the window the JS loop was busy rather than waiting in epoll). The measured window of a run is then
 * free of start-up, warm-up and shutdown.
 */
export function answerEluRequests(): void {
  let start: EventLoopUtilization | undefined;
  process.on('message', (m: Message) => {
    if (m === null || typeof m !== 'object') return;
    if (m.type === 'elu-start') {
      start = performance.eventLoopUtilization();
      send({ type: 'elu-started' });
    } else if (m.type === 'elu-stop') {
      const utilization = start === undefined ? Number.NaN : performance.eventLoopUtilization(start).utilization;
      send({ type: 'elu', utilization });
    }
  });
}
