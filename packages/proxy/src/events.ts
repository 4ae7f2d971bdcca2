import type { BackendSnapshot } from './backends/backend-pool';
import type { ConnectionRecord } from './connection-table';
import type { BackendState } from './strategies/strategy';
import type { SwitchboardError } from './errors';
import type { SharedStateChange } from './shared-state/shared-state';

/**
 * Event name -> listener arguments, for `proxy.on(...)`.
 *
 * @remarks
 * `error` reports a failed connection with its context; it never means the
 * proxy stopped. Unlike a plain EventEmitter, the proxy does not throw when no
 * `error` listener is attached: the failure is then only logged under
 * `NODE_DEBUG=switchboard`.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * proxy.on('connectionOpen', (c) => console.log(`${c.protocol} ${c.client.address} -> ${c.backend.id}`));
 * proxy.on('connectionClose', (c, reason) => console.log(c.id, c.bytesIn, c.bytesOut, reason?.code));
 * proxy.on('error', (err) => console.error(err.code, err.backendId, err.message));
 * ```
 * @group Events
 */
export interface ProxyEvents {
  /** A connection got a backend and a table entry. */
  connectionOpen: [connection: ConnectionRecord];
  /** A connection's table entry was removed; `reason` is set when it ended by an error. */
  connectionClose: [connection: ConnectionRecord, reason: SwitchboardError | undefined];
  /** A connection failed. The proxy keeps serving. */
  error: [error: SwitchboardError];
  /** A backend was added at runtime. */
  backendAdd: [backend: BackendSnapshot];
  /** A backend was removed at runtime. */
  backendRemove: [backend: BackendSnapshot];
  /** A backend's weight was changed with `setWeight()`. */
  backendWeightChange: [backend: BackendSnapshot, previous: number];
  /** A backend changed state (health check, ejection, drain); `backend.state` is the new state. */
  backendStateChange: [backend: BackendSnapshot, previous: BackendState, reason: string];
  /**
   * Panic mode began (`panic` true) or ended: fewer than `panicThreshold` percent of the `total`
   * non-draining backends were `healthy`, so new connections go to all of them, down ones included.
   * `route` is the route whose pool it is (`default` for the top-level backends).
   */
  panicChange: [panic: boolean, healthy: number, total: number, route: string];
  /**
   * With `sharedState`: Redis became usable (`up`, reason `connected` or `resynchronised`) or was lost
   * (`down`, once per outage; the proxy keeps serving with its local state).
   */
  sharedStateChange: [change: SharedStateChange];
}
