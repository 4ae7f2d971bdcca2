/**
 * Pure header transforms: hop-by-hop removal, X-Forwarded-* / Forwarded,
 * hiding backend metadata, Location rewriting. No sockets, no state.
 *
 * Headers travel as flat raw arrays (`[name, value, name, value, ...]`), the
 * form Node's `rawHeaders` has and `writeHead`/undici accept, so duplicates and
 * order survive and no intermediate object is built.
 */

/** Headers that describe one hop, never forwarded (RFC 9110 section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Request headers the proxy sets itself (or Node answers itself: `expect: 100-continue`). */
const PROXY_OWNED_REQUEST = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'expect']);

/** Tokens listed in `Connection` headers: those headers are hop-by-hop too. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) {
        const name = t.trim().toLowerCase();
        if (name) (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

/**
 * What the proxy knows about the client when building backend request headers.
 * @internal
 */
export interface ForwardContext {
  /** The client as resolved (trusted PROXY header or forwarding headers, else the peer). */
  readonly clientAddress: string;
  /** The incoming X-Forwarded-For, only when the peer is trusted to have written it: it is extended, not replaced. */
  readonly priorChain?: string | undefined;
  /** The direct peer's address, appended to a trusted chain. */
  readonly peerAddress?: string;
  /** `https` when the client connection is TLS. */
  readonly proto: 'http' | 'https';
  /** Set X-Forwarded-*. */
  readonly xForwarded: boolean;
  /** Set RFC 7239 Forwarded. */
  readonly forwarded: boolean;
  /** Keep `Upgrade` and send `Connection: Upgrade` (WebSocket handshakes). */
  readonly upgrade: boolean;
}

function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

/**
 * Request headers for the backend: hop-by-hop removed, X-Forwarded-* replaced.
 *
 * @remarks
 * X-Forwarded-* and Forwarded from the client are dropped and set afresh: a
 * client must not be able to choose the address a backend believes it has.
 * @internal
 */
export function forwardRequestHeaders(raw: readonly string[], ctx: ForwardContext): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'host') host ??= raw[i + 1];
    if (HOP_BY_HOP.has(lower) || PROXY_OWNED_REQUEST.has(lower) || named?.has(lower)) {
      if (!(ctx.upgrade && lower === 'upgrade')) continue;
    }
    out.push(name, raw[i + 1]!);
  }
  if (ctx.upgrade) out.push('Connection', 'Upgrade');
  if (ctx.xForwarded) {
    const xff = ctx.priorChain !== undefined && ctx.peerAddress !== undefined ? `${ctx.priorChain}, ${ctx.peerAddress}` : ctx.clientAddress;
    out.push('X-Forwarded-For', xff, 'X-Forwarded-Proto', ctx.proto);
    if (host !== undefined) out.push('X-Forwarded-Host', host);
  }
  if (ctx.forwarded) {
    let value = `for=${forwardedNode(ctx.clientAddress)};proto=${ctx.proto}`;
    if (host !== undefined) value += `;host="${host.replace(/["\\]/g, '')}"`;
    out.push('Forwarded', value);
  }
  return out;
}

/**
 * How backend response headers are filtered.
 * @internal
 */
export interface ResponsePolicy {
  /** Headers to remove, compiled once by {@link compileHidden}. */
  readonly hidden: HiddenHeaders;
  /** The proxy's own Server header, if any. */
  readonly server: string | undefined;
  /** Lowercase `host:port` of every backend, for Location rewriting; undefined disables it. */
  readonly backendHosts: ReadonlySet<string> | undefined;
}

/**
 * The hidden-header list split once into exact names and prefixes (`x-backend*`),
 * so the per-response check is a Set lookup plus a few `startsWith`.
 * @internal
 */
export interface HiddenHeaders {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

/** @internal */
export function compileHidden(names: readonly string[]): HiddenHeaders {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const n of names) {
    if (n.endsWith('*')) prefixes.push(n.slice(0, -1));
    else exact.add(n);
  }
  return { exact, prefixes };
}

function isHidden(lower: string, hidden: HiddenHeaders): boolean {
  if (hidden.exact.has(lower)) return true;
  for (const p of hidden.prefixes) if (lower.startsWith(p)) return true;
  return false;
}

/** Hop-by-hop headers a 101 must keep: they carry the switch itself. @internal */
export const KEEP_FOR_UPGRADE: ReadonlySet<string> = new Set(['connection', 'upgrade']);
/** Hop-by-hop headers kept when a body is relayed byte for byte (a refused upgrade): its framing. @internal */
export const KEEP_FOR_RAW_BODY: ReadonlySet<string> = new Set(['transfer-encoding']);
/** A response Node re-frames itself keeps no hop-by-hop header. @internal */
export const KEEP_NONE: ReadonlySet<string> = new Set();

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** Lowercase `host:port` with the default port made explicit. @internal */
export function hostKey(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`;
}

/**
 * Rewrites an absolute URL that points at a backend to the proxy's public
 * origin (or to a relative reference when the public host is unknown).
 * Returns the value unchanged when it points elsewhere or is relative.
 * @internal
 */
export function rewriteBackendUrl(value: string, backendHosts: ReadonlySet<string>, publicOrigin: string | undefined): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (!backendHosts.has(hostKey(url))) return value;
  const rest = `${url.pathname}${url.search}${url.hash}`;
  return publicOrigin === undefined ? rest : `${publicOrigin}${rest}`;
}

/**
 * Response headers for the client: hop-by-hop and hidden headers removed,
 * Location rewritten, the proxy's Server and any strategy headers added.
 *
 * @param keep - hop-by-hop headers this kind of response still needs
 *   ({@link KEEP_FOR_UPGRADE}, {@link KEEP_FOR_RAW_BODY} or {@link KEEP_NONE}).
 * @internal
 */
export function filterResponseHeaders(
  raw: readonly string[],
  policy: ResponsePolicy,
  publicOrigin: string | undefined,
  keep: ReadonlySet<string>,
  extra?: Readonly<Record<string, string | readonly string[]>>,
): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    let value = raw[i + 1]!;
    if ((HOP_BY_HOP.has(lower) || named?.has(lower)) && !keep.has(lower)) continue;
    if (isHidden(lower, policy.hidden)) continue;
    if (policy.backendHosts !== undefined && (lower === 'location' || lower === 'content-location')) {
      value = rewriteBackendUrl(value, policy.backendHosts, publicOrigin);
    }
    out.push(name, value);
  }
  if (policy.server !== undefined) out.push('Server', policy.server);
  if (extra !== undefined) {
    for (const [name, value] of Object.entries(extra)) {
      if (typeof value === 'string') out.push(name, value);
      else for (const v of value) out.push(name, v);
    }
  }
  return out;
}

/**
 * The origin clients used to reach the proxy, from the request's Host header.
 * @internal
 */
export function publicOriginOf(host: string | undefined, proto: 'http' | 'https'): string | undefined {
  if (host === undefined || !/^[a-z0-9.\-_~[\]:]+$/i.test(host)) return undefined;
  return `${proto}://${host}`;
}
