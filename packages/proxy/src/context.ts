import type { IncomingMessage } from 'node:http';
import type { Backend, BackendPool } from './backend-pool';
import type { ConnectionEntry, ConnectionTable } from './connection-table';
import type { SwitchboardError } from './errors';
import type { ResponsePolicy } from './header-policy';
import type { ResolvedOptions } from './options';
import type { ConnectionProtocol, PickContext } from './strategies/strategy';

/**
 * Anything the proxy can end on shutdown.
 * @internal
 */
export interface LiveConnection {
  readonly protocol: ConnectionProtocol;
  /** Ends the connection now; the client gets the reason's status or close code where it still can. */
  teardown(reason: SwitchboardError | undefined): void;
  /**
   * Ends the connection gracefully on proxy shutdown: WebSockets get a 1001
   * close frame both ways and `timeout` ms to finish; HTTP exchanges are left
   * to complete. Errors it reports carry the connection's own context.
   */
  shutdown(timeout: number): void;
  /** Ends the connection now with a ProxyClosingError that carries its context. */
  abort(): void;
}

/**
 * What the HTTP and WebSocket paths share with the proxy that owns them.
 * @internal
 */
export interface ProxyContext {
  readonly options: ResolvedOptions;
  readonly pool: BackendPool;
  readonly table: ConnectionTable;
  readonly responsePolicy: ResponsePolicy;
  readonly live: Set<LiveConnection>;
  /** True once close() or destroy() began. */
  isClosing(): boolean;
  /** Picks a backend and opens its table entry, or returns undefined (-> 503). */
  open(req: IncomingMessage, protocol: ConnectionProtocol): { backend: Backend; entry: ConnectionEntry; pick: PickContext } | undefined;
  /** Removes the entry and reports the end, exactly once per entry. */
  finish(backend: Backend | undefined, entry: ConnectionEntry | undefined, reason: SwitchboardError | undefined): void;
  /** Reports an error that has no table entry (a refused request). */
  reportError(err: SwitchboardError): void;
}
