import type { IncomingMessage } from 'node:http';
import type { Backend, BackendPool } from './backends/backend-pool';
import type { ConnectionEntry, ConnectionTable } from './connection-table';
import type { SwitchboardError } from './errors';
import type { ResponsePolicy } from './http/header-policy';
import type { EdgeGuard } from './edge/edge-guard';
import type { DataPlane } from './native/data-plane';
import type { PassiveFailure } from './backends/outlier-detector';
import type { ResolvedOptions } from './resolve-options';
import type { SourceAddressPool } from './backends/source-addresses';
import type { ConnectionProtocol, PickContext } from './strategies/strategy';
import type { ProxyObserver } from './admin/proxy-metrics';

/**
 * Anything the proxy can end on shutdown.
 * @internal
 */
export interface LiveConnection {
  readonly protocol: ConnectionProtocol;
  /** The backend currently serving the connection. */
  readonly backendId: string;
  /**
   * Asks the connection to end: a WebSocket gets close frame `code` both ways
   * (at frame boundaries) and `timeout` ms to finish before it is destroyed;
   * before its 101 it is refused with `report`'s status. HTTP exchanges finish on their own.
   */
  close(code: number, text: string, timeout: number, report: SwitchboardError): void;
  /** Ends the connection now; the client gets the reason's status or close code where it still can. */
  teardown(reason: SwitchboardError | undefined): void;
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
  /** Client identity, request checks and per-client limits. */
  readonly edge: EdgeGuard;
  /** Local addresses for backend connections, in turn. */
  readonly sources: SourceAddressPool;
  /** Where WebSockets go after their 101: the native relay when it applies, else the JS splice. */
  readonly dataPlane: DataPlane;
  /** True once close() or destroy() began. */
  isClosing(): boolean;
  /**
   * Picks a backend (none of `exclude`) and opens its table entry, or says why not (503, 429).
   * A first attempt takes the client's per-client slot; a retry (with `exclude`) does not:
   * the caller moves the slot from the failed entry with {@link moveSlot}.
   */
  open(req: IncomingMessage, protocol: ConnectionProtocol, exclude?: ReadonlySet<string>): Opened | SwitchboardError;
  /** Removes the entry and reports the end, exactly once per entry. */
  finish(backend: Backend | undefined, entry: ConnectionEntry | undefined, reason: SwitchboardError | undefined): void;
  /** Reports an error that has no table entry (a refused request). */
  reportError(err: SwitchboardError): void;
  /** Passive health: a backend failed in a way it caused, or answered 5xx. Never for client-side errors. */
  backendFailed(backend: Backend, kind: PassiveFailure): void;
  /** Passive health: a backend served a connection. */
  backendSucceeded(backend: Backend): void;
  /** Metrics and diagnostics of answers, handshakes and retries (opens and closes are counted by `open`/`finish`). */
  readonly observer: ProxyObserver;
}

/**
 * A placed connection: its backend, table entry and the context it was picked with.
 * @internal
 */
export interface Opened {
  readonly backend: Backend;
  readonly entry: ConnectionEntry;
  readonly pick: PickContext;
}

/**
 * Moves a per-client limit slot from a failed attempt's entry to its retry's.
 * @internal
 */
export function moveSlot(from: ConnectionEntry, to: ConnectionEntry): void {
  to.release = from.release;
  from.release = undefined;
}
