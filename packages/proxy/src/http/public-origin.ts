/**
 * Where the client thinks it is: the public origin a request addressed, and
 * the rewriting of URL references that would send the client (or show it the
 * way) to a backend instead. Pure, but for a one-entry cache in
 * {@link publicOriginOf}.
 */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** Lowercase `host:port` with the default port made explicit. @internal */
export function hostKey(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`;
}

/** Base for resolving a Location when the public origin is unknown: a host that is never a backend. */
const UNKNOWN_ORIGIN = 'http://switchboard.invalid';

/**
 * A base whose scheme no value has: resolved against it, `http:/host/x` and `http:host/x` take `host` as their
 * authority, as a browser does on a page whose scheme differs (an https page following `http:/host`).
 */
const FOREIGN_BASE = 'x-switchboard:/';

let lastBase = { base: '', origin: '' };

/** The serialised origin of `base`, from a one-entry cache: a proxy's clients use a handful of hosts. */
function baseOrigin(base: string): string {
  if (base !== lastBase.base) lastBase = { base, origin: parseUrl('/', base)?.origin ?? '' };
  return lastBase.origin;
}

function parseUrl(value: string, base: string): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

/** A path-relative reference (`/a`, not `//`, `/\\` or `/<TAB>/`): it cannot name another host, so is not parsed. */
const PLAIN_PATH = /^\/[A-Za-z0-9._~%!$&'()*+,;=:@?#-]/;

/**
 * Rewrites a URL reference that a browser would resolve to a backend into the
 * proxy's public origin (or to a relative reference when the public host is
 * unknown). Returns the value unchanged when it resolves elsewhere.
 *
 * @remarks
 * The value is resolved as a browser does (WHATWG URL), not matched as
 * `scheme://host`: `//host:port/x`, `http:\\host\x`, `http:/host/x`,
 * `HtTp://`, tabs between slashes and `0x7f.1` all reach the backend from some
 * page, so they are all rewritten. It is resolved against the public origin,
 * then against a base of another scheme, so a form that names the backend
 * only from an https page (or only from an http one) is caught on both.
 * @internal
 */
export function rewriteBackendUrl(value: string, backendHosts: ReadonlySet<string>, publicOrigin: string | undefined): string {
  if (value === '' || PLAIN_PATH.test(value)) return value;
  const base = publicOrigin ?? UNKNOWN_ORIGIN;
  let url = parseUrl(value, base);
  if (url === undefined || !backendHosts.has(hostKey(url))) {
    // Only a value read as relative to the base can name a host under another scheme; an absolute one to another
    // host (the common external redirect) is not parsed twice.
    if (url !== undefined && url.origin !== baseOrigin(base)) return value;
    url = parseUrl(value, FOREIGN_BASE);
    if (url === undefined || !backendHosts.has(hostKey(url))) return value;
  }
  const rest = `${url.pathname}${url.search}${url.hash}`;
  return publicOrigin === undefined ? rest : `${publicOrigin}${rest}`;
}

/**
 * The host the client addressed: its Host header, else (HTTP/1.0 sends none)
 * the proxy's own address on that connection, never the backend's.
 * @internal
 */
export function requestHost(req: { readonly headers: { readonly host?: string | undefined }; readonly socket: { readonly localAddress?: string | undefined; readonly localPort?: number | undefined } }): string | undefined {
  const host = req.headers.host;
  if (host !== undefined) return host;
  const address = req.socket.localAddress;
  const port = req.socket.localPort;
  if (address === undefined || port === undefined) return undefined;
  if (address.startsWith('::ffff:') && address.includes('.')) return `${address.slice(7)}:${port}`;
  return address.includes(':') ? `[${address.split('%')[0]}]:${port}` : `${address}:${port}`;
}

/**
 * The origin clients used to reach the proxy, from the request's Host header.
 * @internal
 */
export function publicOriginOf(host: string | undefined, proto: 'http' | 'https'): string | undefined {
  if (host === undefined) return undefined;
  // Clients of one proxy send a handful of Host values: the last answer skips the regex and the concatenation.
  if (host === lastOrigin.host && proto === lastOrigin.proto) return lastOrigin.origin;
  const origin = /^[a-z0-9.\-_~[\]:]+$/i.test(host) ? `${proto}://${host}` : undefined;
  lastOrigin = { host, proto, origin };
  return origin;
}

let lastOrigin: { readonly host: string; readonly proto: string; readonly origin: string | undefined } = { host: '', proto: '', origin: undefined };
