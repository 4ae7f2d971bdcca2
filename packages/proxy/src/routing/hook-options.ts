import type { IncomingMessage } from 'node:http';
import type { SwitchboardError } from '../errors';

/**
 * What `onRequest` gets besides the request: where it is going, and how to change or refuse it.
 *
 * @example
 * ```ts
 * import type { RequestHookContext } from '@switchboard/proxy';
 * function requireToken(token: string | undefined, ctx: RequestHookContext): void {
 *   if (token === undefined) ctx.reject(401, 'token required\n');
 *   else ctx.setHeader('x-user-token', token);
 * }
 * ```
 */
export interface RequestHookContext {
  /** The matched route's id (`default` for the top-level backends). */
  readonly route: string;
  /** `websocket` for an upgrade, `http` otherwise. */
  readonly protocol: 'http' | 'websocket';
  /** Path and query the backend will get (after stripPrefix and rewrite, before the backend URL's path). */
  readonly path: string;
  /** Sets a request header toward the backend (after the route's `headers`). Throws for proxy-owned names. */
  setHeader(name: string, value: string): void;
  /** Removes a request header toward the backend. */
  removeHeader(name: string): void;
  /**
   * Answers the client with `status` (400-599) and `body` (default: the generic body) instead of
   * forwarding. An upgrade refused this way never reaches a backend.
   */
  reject(status: number, body?: string): void;
}

/**
 * A backend response's head, as `onResponse` may edit it: after the hidden-header policy, which it
 * cannot undo (setting a hidden name throws).
 *
 * @example
 * ```ts
 * import type { ProxyResponseHead } from '@switchboard/proxy';
 * function noStore(res: ProxyResponseHead): void {
 *   if (res.status === 200) res.setHeader('cache-control', 'no-store');
 * }
 * ```
 */
export interface ProxyResponseHead {
  readonly status: number;
  getHeader(name: string): string | string[] | undefined;
  setHeader(name: string, value: string | readonly string[]): void;
  removeHeader(name: string): void;
}

/**
 * What `onResponse` gets besides the response head.
 *
 * @example
 * ```ts
 * import type { ResponseHookContext } from '@switchboard/proxy';
 * const describe = (ctx: ResponseHookContext): string => `${ctx.route} via ${ctx.backend}`;
 * ```
 */
export interface ResponseHookContext {
  readonly route: string;
  /** The id of the backend that answered. */
  readonly backend: string;
  /** The client's request. */
  readonly request: IncomingMessage;
}

/**
 * A custom answer for one of the proxy's own errors (what `errorResponse` returns).
 *
 * @example
 * ```ts
 * import type { ErrorReply } from '@switchboard/proxy';
 * const reply: ErrorReply = { headers: { 'content-type': 'application/json' }, body: '{"error":"unavailable"}' };
 * ```
 */
export interface ErrorReply {
  /** 400-599. @defaultValue the error's own status */
  readonly status?: number;
  /** Added to (and overriding) the generic answer's headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** @defaultValue the generic body (`503 Service Unavailable\n`) */
  readonly body?: string | Buffer;
}

/**
 * Hooks: code that runs per request. Not plain data, so a config file cannot hold them.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001'],
 *   onRequest: async (req, ctx) => {
 *     if (req.headers.authorization === undefined) return ctx.reject(401);
 *     ctx.setHeader('x-authenticated', 'yes');
 *   },
 *   onResponse: (res) => res.setHeader('x-frame-options', 'DENY'),
 *   errorResponse: (err) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: err.code }) }),
 * });
 * ```
 */
export interface HookOptions {
  /**
   * Runs before any backend is contacted, for HTTP requests and WebSocket upgrades alike, after
   * routing. May be async; requests on one client connection still go on in order.
   * @defaultValue none
   * @remarks A hook that throws or rejects answers 500 with the generic body and emits `error`
   * (`ERR_HOOK_FAILED`). A client that leaves while the hook runs is not forwarded.
   */
  readonly onRequest?: (req: IncomingMessage, ctx: RequestHookContext) => void | Promise<void>;
  /**
   * Runs on each HTTP response head from a backend, before it goes out. Synchronous.
   * @defaultValue none
   * @remarks Not called for the 101 of a WebSocket upgrade. A hook that throws answers 500.
   */
  readonly onResponse?: (res: ProxyResponseHead, ctx: ResponseHookContext) => void;
  /**
   * Supplies status, headers and body for the proxy's own error answers (502, 503, 504, 404...).
   * @defaultValue none: the generic bodies
   * @remarks Return undefined to keep the generic answer. Never gets backend answers (a backend's
   * own 500 is relayed as is). A hook that throws keeps the generic answer and emits `error`.
   */
  readonly errorResponse?: (err: SwitchboardError, req: IncomingMessage) => ErrorReply | undefined;
}
