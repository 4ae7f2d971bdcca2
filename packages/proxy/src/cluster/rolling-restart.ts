/**
 * A rolling restart: workers are replaced one at a time, and each is retired only once its replacement
 * listens, so the port always has a listening worker and the machine never loses more than one
 * worker's share of connections at once. A retired worker closes its listener first (node:cluster
 * hands new connections to the others from then on), then sends its WebSockets 1012 (Service Restart)
 * so clients reconnect at once, onto the workers that listen.
 * @internal
 * @module
 */

/** What the restart needs from the primary. @internal */
export interface RollingHost<W> {
  /** The workers to replace, in order (a snapshot taken when the restart begins). */
  current(): readonly W[];
  /** Whether this worker is still alive and not already retiring. */
  stillServing(worker: W): boolean;
  /** Forks a worker; resolves once it listens, rejects if it exits or times out first. */
  spawn(): Promise<unknown>;
  /** Retires a worker with this close code; resolves once its process has exited. */
  retire(worker: W, code: number): Promise<void>;
}

/** The close code retiring workers send: 1012, Service Restart ("reconnect now"). */
export const RESTART_CLOSE_CODE = 1012;

/**
 * Replaces every current worker, one at a time. A replacement that fails to start stops the restart
 * (the rejection says why) and leaves the remaining old workers serving.
 * @internal
 */
export async function rollWorkers<W>(host: RollingHost<W>): Promise<void> {
  for (const old of host.current()) {
    if (!host.stillServing(old)) continue;
    await host.spawn();
    if (host.stillServing(old)) await host.retire(old, RESTART_CLOSE_CODE);
  }
}
