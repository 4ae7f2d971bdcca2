import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Backend } from '../backends/backend-pool';
import { entryContext, type ConnectionEntry } from '../connection-table';
import type { LiveConnection, ProxyContext } from '../context';
import {
  BackendResetError,
  ClientResetError,
  IdleTimeoutError,
  MessageTooBigError,
  ProxyClosingError,
  WebSocketProtocolError,
  type SwitchboardError,
} from '../errors';
import type { NativeRelay, NativeRelayCause, NativeRelayEnd, NativeRelayHandler } from '../native/native-relay';

/** How long a peer may take to finish a close the proxy (or the relay) started, in ms; as splice.ts. */
const PARTING_GRACE = 1000;

/** errno -> name (104 -> 'ECONNRESET'), for messages shaped like the JS path's. */
let errnoNames: Map<number, string> | undefined;
function errnoName(errno: number): string {
  errnoNames ??= new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

function onTimer(conn: NativeSplicedWebSocket): void {
  conn.timerFired();
}
function onIdleCheck(conn: NativeSplicedWebSocket): void {
  conn.idleCheck();
}

/**
 * A WebSocket after its 101 whose bytes the native relay moves (native/README.md). The JS side keeps
 * the policy, with the same surface and the same errors as the JS {@link SplicedWebSocket}: the table
 * entry, idle / half-close / parting timers, close requests for drain and shutdown, and the end report.
 * Holds no socket (the relay owns dup()ed fds): what an idle connection keeps in JS is this object.
 * @internal
 */
export class NativeSplicedWebSocket implements LiveConnection, NativeRelayHandler {
  readonly #ctx: ProxyContext;
  readonly #backend: Backend;
  readonly #entry: ConnectionEntry;
  readonly #relay: NativeRelay;
  readonly #tracking: boolean;
  #id = -1;
  #timer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleBytes = -1;
  #pinged = false;
  #closing = false;
  #done = false;
  #reason: SwitchboardError | undefined;

  constructor(ctx: ProxyContext, relay: NativeRelay, backend: Backend, entry: ConnectionEntry) {
    this.#ctx = ctx;
    this.#relay = relay;
    this.#backend = backend;
    this.#entry = entry;
    const o = ctx.options;
    this.#tracking = o.frameTracking || Number.isFinite(o.maxFramePayload) || Number.isFinite(o.maxMessageSize);
  }

  /**
   * Hands the sockets to the relay, the 101 `head` first; false (nothing touched, nothing sent) when the
   * relay refuses them, and the JS splice serves instead.
   */
  adopt(client: Socket, backend: Socket, head: Buffer, toClient: Buffer, toBackend: Buffer | undefined): boolean {
    const o = this.#ctx.options;
    const id = this.#relay.adopt(
      client,
      backend,
      {
        frameTracking: o.frameTracking,
        maxFramePayload: o.maxFramePayload,
        maxMessageSize: o.maxMessageSize,
        headToClient: head,
        ...(toClient.length > 0 && { toClient }),
        ...(toBackend !== undefined && { toBackend }),
      },
      this,
    );
    if (id === false) return false;
    this.#id = id;
    const entry = this.#entry;
    entry.dataPlane = 'native';
    // connections() reads the relay's counters through this; the relay thread pays nothing for it.
    entry.live = this;
    this.#ctx.live.add(this);
    if (o.idleTimeout > 0) this.#idleTimer = setTimeout(onIdleCheck, o.idleTimeout, this);
    return true;
  }

  get protocol(): 'websocket' {
    return 'websocket';
  }

  get backendId(): string {
    return this.#entry.backendId;
  }

  get bytesIn(): number {
    return this.#relay.bytesIn(this.#id);
  }

  get bytesOut(): number {
    return this.#relay.bytesOut(this.#id);
  }

  close(code: number, text: string, timeout: number, report: SwitchboardError): void {
    this.#requestClose(code, text, timeout, report);
  }

  abort(): void {
    this.teardown(new ProxyClosingError('proxy is shutting down', entryContext(this.#entry)));
  }

  /** Ends the connection now: the relay closes both fds; the end is reported here, not when the relay confirms it. */
  teardown(reason: SwitchboardError | undefined): void {
    if (this.#done) return;
    this.#relay.destroy(this.#id);
    this.#finish(reason ?? this.#reason, this.bytesIn, this.bytesOut);
  }

  /** Once per idleTimeout: traffic since the last check, else a ping, else an idle close (as splice.ts). */
  idleCheck(): void {
    this.#idleTimer = undefined;
    if (this.#done || this.#closing) return;
    const total = this.bytesIn + this.bytesOut;
    if (total !== this.#idleBytes) {
      this.#idleBytes = total;
      this.#pinged = false;
    } else if (this.#ctx.options.idlePing && this.#tracking && !this.#pinged) {
      this.#pinged = true;
      this.#relay.ping(this.#id);
    } else {
      this.#requestClose(1001, 'idle timeout', PARTING_GRACE, new IdleTimeoutError('no traffic in either direction', entryContext(this.#entry)));
      return;
    }
    this.#idleTimer = setTimeout(onIdleCheck, this.#ctx.options.idleTimeout, this);
  }

  /** The half-close or parting grace period is over. */
  timerFired(): void {
    this.#timer = undefined;
    this.teardown(undefined);
  }

  relayHalfClosed(): void {
    if (this.#done || this.#closing) return;
    const timeout = this.#ctx.options.halfCloseTimeout;
    if (timeout === 0) this.teardown(undefined);
    else this.#timer ??= setTimeout(onTimer, timeout, this);
  }

  relayClosing(cause: NativeRelayCause): void {
    if (this.#done) return;
    this.#closing = true;
    this.#reason ??= this.#causeError(cause);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(onTimer, PARTING_GRACE, this);
  }

  relayEnded(end: NativeRelayEnd): void {
    if (this.#done) return;
    this.#finish(this.#reason ?? this.#causeError(end.cause) ?? this.#howError(end), end.bytesIn, end.bytesOut);
  }

  #requestClose(code: number, text: string, timeout: number, report: SwitchboardError | undefined): void {
    if (this.#done || this.#closing) return;
    if (!this.#tracking) {
      // Without frame boundaries no close frame can be placed safely.
      this.teardown(report);
      return;
    }
    this.#closing = true;
    this.#reason = report;
    this.#relay.requestClose(this.#id, code, text);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(onTimer, timeout, this);
  }

  /** The error for a close the relay started itself (the same classes and messages as splice.ts). */
  #causeError(cause: NativeRelayCause): SwitchboardError | undefined {
    const ctx = entryContext(this.#entry);
    switch (cause) {
      case 'too-big-client':
        return new MessageTooBigError('client sent a frame or message over the limit', ctx);
      case 'too-big-backend':
        return new MessageTooBigError('backend sent a frame or message over the limit', ctx);
      case 'violation-client':
        return new WebSocketProtocolError('client broke the WebSocket framing', ctx);
      case 'violation-backend':
        return new WebSocketProtocolError('backend broke the WebSocket framing', ctx);
      case 'backend-lost':
        return new BackendResetError('backend ended the connection without a close frame', ctx);
      default:
        return undefined;
    }
  }

  #howError(end: NativeRelayEnd): SwitchboardError | undefined {
    const ctx = entryContext(this.#entry);
    if (end.how === 'client-error') return new ClientResetError(`client socket error: ${errnoName(end.errno)}`, ctx);
    if (end.how === 'backend-error') {
      return new BackendResetError(end.errno === 0 ? 'backend closed the connection' : `backend socket error: ${errnoName(end.errno)}`, ctx);
    }
    return undefined;
  }

  #finish(reason: SwitchboardError | undefined, bytesIn: number, bytesOut: number): void {
    this.#done = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#idleTimer);
    this.#timer = undefined;
    this.#idleTimer = undefined;
    // The counter slot goes back to the relay: the entry keeps the final figures.
    const entry = this.#entry;
    entry.bytesIn = bytesIn;
    entry.bytesOut = bytesOut;
    entry.live = undefined;
    this.#ctx.live.delete(this);
    this.#ctx.finish(this.#backend, entry, reason);
  }
}
