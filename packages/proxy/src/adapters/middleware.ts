/**
 * A Connect/Express middleware over a proxy: the request keeps its full path (`originalUrl`, the mount
 * path included), and errors stay with the proxy unless the embedder asks for them.
 * @internal
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SwitchboardError } from '../errors';
import { setErrorDelegate } from '../http/error-response';

/**
 * Options of {@link Proxy.middleware}.
 *
 * @example
 * ```ts
 * import type { MiddlewareOptions } from '@switchboard/proxy';
 * const opts: MiddlewareOptions = { fallthrough: true };
 * ```
 */
export interface MiddlewareOptions {
  /**
   * Call `next()` when no route matches (instead of answering 404), so later handlers run.
   * @defaultValue false
   */
  readonly fallthrough?: boolean;
  /**
   * Call `next(err)` with the proxy's own errors (no backend, backend failures, hook failures) that
   * happen before any response byte, instead of answering them with the generic body.
   * @defaultValue false
   * @remarks Off by default: an Express error handler that echoes `err.message` would show the
   * client what the generic bodies keep from it.
   */
  readonly forwardErrors?: boolean;
}

/**
 * A Connect/Express middleware.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createProxy, type ConnectMiddleware } from '@switchboard/proxy';
 * const proxy = createProxy({ routes: [{ id: 'api', path: '/api', backends: ['http://127.0.0.1:9001'] }] });
 * const mw: ConnectMiddleware = proxy.middleware({ fallthrough: true });
 * createServer((req, res) => mw(req, res, () => res.writeHead(404).end())).listen(8080);
 * ```
 */
export type ConnectMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** What the middleware needs of the proxy. @internal */
export interface MiddlewareTarget {
  /** True when some route (or the default route) serves this request target. */
  routes(req: IncomingMessage, target: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse, target: string, body: unknown): void;
}

/** @internal */
export function createMiddleware(proxy: MiddlewareTarget, options: MiddlewareOptions = {}): ConnectMiddleware {
  const { fallthrough = false, forwardErrors = false } = options;
  return (req, res, next) => {
    // Express strips the mount path from req.url; originalUrl is what the client asked for.
    const target = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    if (fallthrough && !proxy.routes(req, target)) return next();
    if (forwardErrors) setErrorDelegate(req, (err: SwitchboardError) => next(err));
    proxy.serve(req, res, target, (req as IncomingMessage & { body?: unknown }).body);
  };
}
