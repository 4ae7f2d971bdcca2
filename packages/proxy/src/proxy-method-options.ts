/** The option objects of the Proxy's methods (`drain`, `removeBackend`, the route selector, `handleRequest`). */

/**
 * Options of {@link Proxy.drain}.
 *
 * @example
 * ```ts
 * import type { DrainOptions } from '@switchboard/proxy';
 * const opts: DrainOptions = { timeout: 10_000, code: 1012 };
 * ```
 * @group Proxy
 */
export interface DrainOptions {
  /**
   * How long WebSockets get to close before they are destroyed, in ms.
   * @defaultValue the proxy's `drainTimeout` (30000)
   */
  readonly timeout?: number;
  /**
   * The close code sent to both sides.
   * @defaultValue 1012 (Service Restart)
   */
  readonly code?: number;
  /**
   * The route whose backend is meant (backend ids are unique within a route).
   * @defaultValue `'default'`, the route of the top-level `backends`
   */
  readonly route?: string;
}

/**
 * Which route a runtime membership call is about.
 *
 * @example
 * ```ts
 * import type { RouteSelector } from '@switchboard/proxy';
 * const where: RouteSelector = { route: 'api' };
 * ```
 */
export interface RouteSelector {
  /**
   * A route id from `options.routes`.
   * @defaultValue `'default'`, the route of the top-level `backends`
   */
  readonly route?: string;
}

/**
 * Options of {@link Proxy.handleRequest}.
 *
 * @example
 * ```ts
 * import type { HandleRequestOptions } from '@switchboard/proxy';
 * const opts: HandleRequestOptions = { body: { name: 'x' } };
 * ```
 * @group Proxy
 */
export interface HandleRequestOptions {
  /**
   * The request body a framework already read from `req`, forwarded in place
   * of the spent stream. A Buffer goes as is, a string in the Content-Type's
   * charset, an object serialized as JSON (`application/json`,
   * `application/*+json`) or as a form (`application/x-www-form-urlencoded`).
   *
   * @defaultValue `req.body` (where Express's body parsers put it)
   * @remarks
   * Used only when the request announced a body and another reader already
   * took it; an unread request is streamed byte for byte as always. The body
   * is sent with its own Content-Length (Transfer-Encoding dropped; for a
   * string or object also Content-Encoding, as parsers decode it). A spent
   * request with no usable body is refused with `ERR_BODY_CONSUMED` (500)
   * before any backend is contacted.
   */
  readonly body?: unknown;
}
