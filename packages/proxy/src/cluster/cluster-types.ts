/**
 * The public types of a cluster primary's handle (worker states, the worker list, the events), and the
 * one helper the primary needs from the network.
 * @module
 */
import { createServer, type AddressInfo } from 'node:net';
import type { WorkerRequest } from './messages';

/**
 * Where a worker is in its life: forked and not yet listening, serving, or retiring (closing after a
 * rolling restart or {@link Cluster.close}).
 *
 * @example
 * ```ts
 * import type { WorkerState } from '@switchboard/proxy';
 * const serving = (s: WorkerState) => s === 'listening';
 * ```
 * @group Cluster
 */
export type WorkerState = 'starting' | 'listening' | 'retiring';

/**
 * One worker as {@link Cluster.workers} lists it.
 *
 * @example
 * ```ts
 * import type { WorkerInfo } from '@switchboard/proxy';
 * const line = (w: WorkerInfo) => `worker ${w.id} (pid ${w.pid}) ${w.state}`;
 * ```
 * @group Cluster
 */
export interface WorkerInfo {
  readonly id: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  /** When it was forked (ms since the epoch). */
  readonly startedAt: number;
}

/**
 * Events of a {@link Cluster} (the primary's handle).
 *
 * @example
 * ```ts
 * import type { ClusterEvents } from '@switchboard/proxy';
 * type ExitListener = (...args: ClusterEvents['workerExit']) => void;
 * ```
 * @group Cluster
 */
export interface ClusterEvents {
  /** A worker listens on the shared port. */
  workerListening: [id: number];
  /** A worker was asked to retire (rolling restart or close); it accepts nothing new from now on. */
  workerRetiring: [id: number];
  /** A worker's process exited; `replaced` says whether a new worker will be forked for it. */
  workerExit: [id: number, code: number | null, signal: string | null, replaced: boolean];
  /** A worker did not answer a request in time (`requestTimeout`); the answer was given without it. */
  requestTimeout: [id: number, op: WorkerRequest['op']];
}

/** A port free on `host` now (the kernel's pick for port 0, released at once). @internal */
export function freePort(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, ...(host !== undefined && { host }) }, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
