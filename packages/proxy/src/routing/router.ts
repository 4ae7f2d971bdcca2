/**
 * Picks the route of an HTTP request or an upgrade, or answers the client
 * itself (404 when nothing matches, 400 for a path that could escape its
 * route) before any backend is contacted.
 * @internal
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientKey } from '../connection-table';
import { BadRequestError, NoRouteError, type SwitchboardError } from '../errors';
import { sendHttpError, sendRawError } from '../http/error-response';
import type { ResolvedOptions } from '../resolve-options';
import type { ResolvedRoute } from './resolve-routes';
import type { Route } from './route';
import { hasDotSegment, type RouteTable } from './route-table';
import { planForward } from './forward-plan';

/** @internal */
export class Router {
  readonly #table: RouteTable<ResolvedRoute>;
  readonly #routes: ReadonlyMap<string, Route>;
  /** The only route when nothing else is configured: the fast path skips matching. */
  readonly #only: Route | undefined;
  /** Some route matches on a path prefix, so dot segments must not cross between routes. */
  readonly #byPath: boolean;

  /** Hooks edit or read a plan: make one for every request. */
  readonly #alwaysPlan: boolean;

  constructor(table: RouteTable<ResolvedRoute>, routes: ReadonlyMap<string, Route>, alwaysPlan: boolean) {
    this.#table = table;
    this.#alwaysPlan = alwaysPlan;
    this.#routes = routes;
    const all = [...routes.values()];
    this.#only = all.length === 1 && all[0]!.spec.host === undefined && all[0]!.spec.path === undefined ? all[0] : undefined;
    this.#byPath = all.some((r) => r.spec.path !== undefined);
  }

  /**
   * The route for a request (its forward plan made), or the refusal to answer with. `target` is the
   * request target as the client sent it (a mounted middleware passes `originalUrl`).
   */
  resolve(req: IncomingMessage, target = req.url ?? '/'): Route | SwitchboardError {
    const route = this.#match(req, target);
    if (route instanceof Error) return route;
    const planned = planForward(req, route.spec, target, this.#alwaysPlan, route.onResponse);
    return planned instanceof Error ? planned : route;
  }

  #match(req: IncomingMessage, target: string): Route | SwitchboardError {
    if (this.#only !== undefined) return this.#only;
    const context = (): { clientAddress: string } => ({ clientAddress: clientKey(req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0) });
    // `/api/../admin` matches /api here but is /admin to most backends: refused rather than guessed.
    if (this.#byPath && hasDotSegment(target)) return new BadRequestError('path has dot segments or encoded slashes', context());
    const spec = this.#table.match(req.headers.host, target);
    const route = spec === undefined ? undefined : this.#routes.get(spec.id);
    return route ?? new NoRouteError('no route matches the request', context());
  }

  /** The route of an HTTP request; undefined once the request has been answered. */
  forHttp(req: IncomingMessage, res: ServerResponse, options: ResolvedOptions, reportError: (err: SwitchboardError) => void, target?: string): Route | undefined {
    const route = this.resolve(req, target);
    if (!(route instanceof Error)) return route;
    reportError(route);
    sendHttpError(res, route, options.retryAfter, options.server);
    return undefined;
  }

  /** The route of an upgrade; undefined once the client has been answered on its socket. */
  forUpgrade(req: IncomingMessage, socket: Duplex, options: ResolvedOptions, reportError: (err: SwitchboardError) => void, target?: string): Route | undefined {
    const route = this.resolve(req, target);
    if (!(route instanceof Error)) return route;
    socket.on('error', noop);
    reportError(route);
    sendRawError(socket, route, options.retryAfter, options.server);
    return undefined;
  }
}

function noop(): void {}
