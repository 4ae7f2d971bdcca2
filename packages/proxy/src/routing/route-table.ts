/**
 * The route matcher: compiles route host/path patterns once and picks the most
 * specific route for a request's Host and path. Pure: no sockets, no options.
 * @internal
 */

/** What the matcher needs of a route. @internal */
export interface RoutePattern {
  readonly id: string;
  /** Exact host (`api.example.com`) or wildcard (`*.example.com`); no port. */
  readonly host?: string | undefined;
  /** Path prefix on segment boundaries (`/api` matches `/api` and `/api/x`, not `/apix`). */
  readonly path?: string | undefined;
}

interface CompiledRoute<R extends RoutePattern> {
  readonly route: R;
  /** Lowercase exact host, or undefined. */
  readonly exact: string | undefined;
  /** Lowercase `.example.com` of a wildcard, or undefined. */
  readonly suffix: string | undefined;
  /** Normalised prefix without trailing slash; '' matches every path. */
  readonly prefix: string;
}

/** Why a route pattern is unusable, or undefined when it is fine. @internal */
export function patternProblem(p: RoutePattern): string | undefined {
  if (p.host !== undefined) {
    const h = p.host;
    if (typeof h !== 'string' || h.length === 0) return 'host must be a non-empty string';
    const bare = h.startsWith('*.') ? h.slice(2) : h;
    if (!/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(bare)) return `host must be a host name or *.domain without port or path, got ${JSON.stringify(h)}`;
  }
  if (p.path !== undefined) {
    const path = p.path;
    if (typeof path !== 'string' || !path.startsWith('/')) return `path must start with /, got ${JSON.stringify(path)}`;
    if (/[?#%\s]/.test(path) || /\/\.\.?(\/|$)/.test(path) || path.includes('//')) return `path must be a plain prefix (no query, percent-escape, dot segment or empty segment), got ${JSON.stringify(path)}`;
  }
  return undefined;
}

/** The normalised prefix of a route path: no trailing slash, '' for '/' or none. @internal */
export function normalisePrefix(path: string | undefined): string {
  if (path === undefined) return '';
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

function compile<R extends RoutePattern>(route: R): CompiledRoute<R> {
  const host = route.host?.toLowerCase();
  const wildcard = host?.startsWith('*.') === true;
  return { route, exact: wildcard ? undefined : host, suffix: wildcard ? host!.slice(1) : undefined, prefix: normalisePrefix(route.path) };
}

/** Higher is more specific: exact host, then longer wildcard, then no host; then longer path. */
function rank(c: CompiledRoute<RoutePattern>): [number, number] {
  const hostRank = c.exact !== undefined ? 1_000_000 : c.suffix !== undefined ? c.suffix.length : -1;
  return [hostRank, c.prefix.length];
}

/** True when `path` (no query) is `prefix` or below it on a segment boundary. @internal */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f /* / */;
}

/** The Host header's name part, lowercase, without port or trailing dot. @internal */
export function hostName(hostHeader: string | undefined): string {
  if (hostHeader === undefined) return '';
  let h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * Routes sorted most specific first; `match()` returns the first that fits.
 * @internal
 */
export class RouteTable<R extends RoutePattern> {
  readonly #compiled: readonly CompiledRoute<R>[];

  /** Throws an Error naming the problem for a bad pattern, a duplicate id or two routes with the same host and path. */
  constructor(routes: readonly R[]) {
    const ids = new Set<string>();
    const keys = new Set<string>();
    for (const r of routes) {
      const problem = patternProblem(r);
      if (problem !== undefined) throw new Error(`route ${JSON.stringify(r.id)}: ${problem}`);
      if (ids.has(r.id)) throw new Error(`route id ${JSON.stringify(r.id)} is used twice`);
      ids.add(r.id);
      const key = `${r.host?.toLowerCase() ?? ''} ${normalisePrefix(r.path)}`;
      if (keys.has(key)) throw new Error(`route ${JSON.stringify(r.id)} has the same host and path as an earlier route`);
      keys.add(key);
    }
    this.#compiled = routes.map(compile).sort((a, b) => {
      const [ha, pa] = rank(a);
      const [hb, pb] = rank(b);
      return hb - ha || pb - pa;
    });
  }

  /** The most specific route for a Host header and a request target (`/path?query`), or undefined. */
  match(hostHeader: string | undefined, target: string): R | undefined {
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const host = hostName(hostHeader);
    for (const c of this.#compiled) {
      if (c.exact !== undefined && c.exact !== host) continue;
      if (c.suffix !== undefined && !(host.endsWith(c.suffix) && host.length > c.suffix.length)) continue;
      if (underPrefix(path, c.prefix)) return c.route;
    }
    return undefined;
  }

  /** Route ids, most specific first (for docs and debugging). */
  order(): string[] {
    return this.#compiled.map((c) => c.route.id);
  }
}

/**
 * True when a path has a dot segment (`/..`, `/.`, raw or percent-encoded): such a path could match one
 * route's prefix and be resolved by the backend to a path of another, so routed requests refuse it.
 * @internal
 */
export function hasDotSegment(target: string): boolean {
  const q = target.indexOf('?');
  const path = (q < 0 ? target : target.slice(0, q)).replace(/%2e/gi, '.');
  return /\/\.\.?(\/|$)/.test(path) || /%2f/i.test(path) || path.includes('\\');
}
