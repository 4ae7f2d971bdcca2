import { channel } from 'node:diagnostics_channel';
import type { BackendSnapshot } from '../backends/backend-pool';
import type { ConnectionRecord } from '../connection-table';
import type { Proxy } from '../create-proxy';
import type { SwitchboardError } from '../errors';
import type { BackendState, ConnectionProtocol } from '../strategies/strategy';

/**
 * The `node:diagnostics_channel` names Switchboard publishes on, one per event.
 *
 * @remarks
 * Every publish is guarded by `channel.hasSubscribers`: with no subscriber, no message object is
 * even built. Messages are plain objects described by {@link DiagnosticsMessages}; a subscriber
 * must not keep them mutable or throw (Node reports a throwing subscriber as an uncaught exception).
 * Messages from every proxy in the process share these channels; `proxy` tells them apart.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { DIAGNOSTICS_CHANNELS, type DiagnosticsMessages } from '@switchboard/proxy';
 * subscribe(DIAGNOSTICS_CHANNELS.connectionOpen, (message) => {
 *   const { connection, route } = message as DiagnosticsMessages['connectionOpen'];
 *   console.log(route, connection.client.address, connection.backend.id);
 * });
 * ```
 * @group Admin
 */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  connectionOpen: 'switchboard:connection:open',
  connectionClose: 'switchboard:connection:close',
  backendState: 'switchboard:backend:state',
  httpResponse: 'switchboard:http:response',
  websocketHandshake: 'switchboard:websocket:handshake',
  retry: 'switchboard:retry',
  error: 'switchboard:error',
} as const);

/**
 * The message published on each of {@link DIAGNOSTICS_CHANNELS}, by key.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { DIAGNOSTICS_CHANNELS, type DiagnosticsMessages } from '@switchboard/proxy';
 * subscribe(DIAGNOSTICS_CHANNELS.httpResponse, (m) => {
 *   const { status, durationMs, backendId } = m as DiagnosticsMessages['httpResponse'];
 *   if (status >= 500) console.warn(`${backendId ?? '(no backend)'} answered ${status} in ${durationMs ?? '?'} ms`);
 * });
 * ```
 * @group Admin
 */
export interface DiagnosticsMessages {
  /** A connection got a backend and a table entry. */
  connectionOpen: { readonly proxy: Proxy; readonly route: string; readonly connection: ConnectionRecord };
  /** A connection's table entry was removed; `reason` is set when it ended by an error. */
  connectionClose: { readonly proxy: Proxy; readonly route: string; readonly connection: ConnectionRecord; readonly reason: SwitchboardError | undefined };
  /** A backend changed state (health, ejection, drain). */
  backendState: { readonly proxy: Proxy; readonly backend: BackendSnapshot; readonly previous: BackendState; readonly reason: string };
  /**
   * An HTTP request was answered: by its backend (`durationMs` is the time to the response head)
   * or by the proxy itself (an error status; `backendId` undefined when none was picked).
   */
  httpResponse: { readonly proxy: Proxy; readonly route: string; readonly backendId: string | undefined; readonly status: number; readonly durationMs: number | undefined };
  /** A WebSocket handshake completed: the backend's 101 was relayed `durationMs` after placement. */
  websocketHandshake: { readonly proxy: Proxy; readonly route: string; readonly backendId: string; readonly durationMs: number };
  /** A failed attempt on `backendId` is being retried on another backend. */
  retry: { readonly proxy: Proxy; readonly route: string; readonly backendId: string; readonly protocol: ConnectionProtocol };
  /** The proxy reported an error (the `error` event). */
  error: { readonly proxy: Proxy; readonly error: SwitchboardError };
}

/** The channel objects, made once: `channel(name)` returns the same object for a name. @internal */
export const channels = {
  connectionOpen: channel(DIAGNOSTICS_CHANNELS.connectionOpen),
  connectionClose: channel(DIAGNOSTICS_CHANNELS.connectionClose),
  backendState: channel(DIAGNOSTICS_CHANNELS.backendState),
  httpResponse: channel(DIAGNOSTICS_CHANNELS.httpResponse),
  websocketHandshake: channel(DIAGNOSTICS_CHANNELS.websocketHandshake),
  retry: channel(DIAGNOSTICS_CHANNELS.retry),
  error: channel(DIAGNOSTICS_CHANNELS.error),
};
