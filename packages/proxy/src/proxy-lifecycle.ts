/**
 * The Proxy's end of life and its waits: `shutdown()` (the body of `close()`/`destroy()`), the waiters that
 * `drain()` and `close()` use to learn that connections are gone, and the close-code check of both.
 */
import type { LiveConnection } from './context';
import type { Listener } from './edge/listener';
import { ProxyClosingError } from './errors';
import type { DataPlane } from './native/data-plane';
import type { Route } from './routing/route';
import type { SharedState } from './shared-state/shared-state';

/** Close codes RFC 6455 lets an endpoint put in a close frame. */
export function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999));
}

/** Checks run each time a connection ends, until they hold or time out. */
export class ConnectionWaiters {
  readonly #waiters = new Set<() => void>();

  /** Called once per ended connection. */
  notify(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves true once `check()` holds after a connection ends, false after `timeout` ms. */
  waitUntil(check: () => boolean, timeout: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(ok);
      };
      const waiter = (): void => {
        if (check()) done(true);
      };
      const timer = setTimeout(() => done(false), timeout);
      this.#waiters.add(waiter);
    });
  }
}

/** What a shutdown closes; `listeners` have already been taken from the proxy. */
export interface ShutdownParts {
  readonly listeners: readonly Listener[];
  readonly shared: SharedState | undefined;
  readonly dataPlane: DataPlane;
  readonly routes: Iterable<Route>;
  readonly waiters: ConnectionWaiters;
  /** Every live connection of every route, read anew at each call. */
  live(): LiveConnection[];
  /**
   * How many connections are live. The wait below runs this after every ended connection, so it must not
   * build the list: with 10,000 connections closing, `live().length` there was quadratic (found by bench:100k).
   */
  liveCount(): number;
}

/**
 * Stops accepting, then (when `graceful`) sends every live WebSocket the close `code` and waits up to
 * `closeTimeout` ms; destroys whatever is left and closes routes, the data plane and the shared state.
 */
export async function shutdown(parts: ShutdownParts, graceful: boolean, closeTimeout: number, code: number): Promise<void> {
  const { listeners } = parts;
  const serversClosed = Promise.all(listeners.map((l) => l.close()));
  // Leaves the fleet table at once: peers stop counting this proxy while it drains.
  const sharedClosed = parts.shared?.close();
  if (graceful) {
    for (const conn of parts.live()) conn.close(code, 'proxy shutting down', closeTimeout, new ProxyClosingError('proxy is shutting down', { backendId: conn.backendId }));
    await parts.waiters.waitUntil(() => parts.liveCount() === 0, closeTimeout);
  }
  for (const conn of parts.live()) conn.abort();
  // Every native connection has been destroyed above; this also joins the relay thread.
  parts.dataPlane.close();
  for (const l of listeners) l.closeAllConnections();
  await Promise.all([...parts.routes].map((r) => r.close(graceful)));
  await serversClosed;
  await sharedClosed;
}
