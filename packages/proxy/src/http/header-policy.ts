/**
 * Pure header transforms: hop-by-hop removal, X-Forwarded-* / Forwarded,
 * hiding backend metadata (in headers and trailers), Location rewriting (the
 * URL side is in public-origin.ts). No sockets and no state.
 *
 * Headers travel as flat raw arrays (`[name, value, name, value, ...]`), the
 * form Node's `rawHeaders` has and `writeHead`/undici accept, so duplicates and
 * order survive and no intermediate object is built.
 */
import { rewriteBackendUrl } from './public-origin';

export { hostKey, publicOriginOf, requestHost, rewriteBackendUrl } from './public-origin';

/** Headers that describe one hop, never forwarded (RFC 9110 section 7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'http2-settings'];

/**
 * Request headers the proxy sets itself (or Node answers itself: `expect: 100-continue`), and headers that make the
 * same claims under other names: apps and frameworks believe them (Rack takes `X-Forwarded-Ssl: on` or
 * `Front-End-Https: on` as https, many apps take `X-Real-IP` as the client), so a client must not write them. Every
 * other `X-Forwarded-*` name goes too, by prefix ({@link isForwardingName}).
 */
const PROXY_OWNED_REQUEST = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'expect', 'x-real-ip', 'front-end-https', 'x-url-scheme'];

/**
 * End-to-end headers a `Connection` header may not remove: the backend would then see the proxy's own request
 * target (`Host: 127.0.0.1:9001`, which an echoing app reveals), a body without its length, or a handshake
 * without its key.
 */
const NEVER_HOP_BY_HOP = ['host', 'content-length', 'sec-websocket-key', 'sec-websocket-version'];

/** What a header name is to the proxy, as bit flags. */
const HOP = 1;
const PROXY_OWNED = 2;
const IS_HOST = 4;
const IS_UPGRADE = 8;
const PROTECTED = 16;

/** A header name the proxy treats specially: its lowercase form and what it is. */
interface KnownName {
  readonly lower: string;
  readonly flags: number;
}

/**
 * Known names grouped by length (index = length). Looking a raw name up costs
 * an index and one or two case-insensitive compares, and unlike
 * `toLowerCase()` plus a Set lookup it allocates nothing for capitalised
 * names (`Content-Length`), which are the common case.
 */
const KNOWN: readonly (readonly KnownName[] | undefined)[] = (() => {
  const byLength: KnownName[][] = [];
  const add = (names: readonly string[], flags: number): void => {
    for (const lower of names) (byLength[lower.length] ??= []).push({ lower, flags: lower === 'upgrade' ? flags | IS_UPGRADE : flags });
  };
  add(HOP_BY_HOP, HOP);
  add(PROXY_OWNED_REQUEST, PROXY_OWNED);
  add(['host'], IS_HOST | PROTECTED);
  add(NEVER_HOP_BY_HOP.filter((n) => n !== 'host'), PROTECTED);
  return byLength;
})();

/** The known name `s.slice(start, end)` is, found without slicing. */
function knownNameAt(s: string, start: number, end: number): KnownName | undefined {
  const same = KNOWN[end - start];
  if (same === undefined) return undefined;
  for (let i = 0; i < same.length; i++) if (matchesLowerAt(s, start, same[i]!.lower)) return same[i];
  return undefined;
}

function knownName(name: string): KnownName | undefined {
  return knownNameAt(name, 0, name.length);
}

/** The lowercase hop-by-hop name `name` stands for, or undefined. */
function hopByHopName(name: string): string | undefined {
  const known = knownName(name);
  return known !== undefined && (known.flags & HOP) !== 0 ? known.lower : undefined;
}

/**
 * True when `name` equals the lowercase literal `lower`, ignoring ASCII case.
 * @internal
 */
export function equalsLower(name: string, lower: string): boolean {
  return name.length === lower.length && matchesLowerAt(name, 0, lower);
}

/** True when `name` starts with the lowercase literal `prefix`, ignoring ASCII case. */
function startsWithLower(name: string, prefix: string): boolean {
  return name.length >= prefix.length && matchesLowerAt(name, 0, prefix);
}

/** True when `s` holds the lowercase literal `lower` at `offset`, ignoring ASCII case; no string is allocated. */
function matchesLowerAt(s: string, offset: number, lower: string): boolean {
  if (s.length - offset < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = s.charCodeAt(offset + i);
    const l = lower.charCodeAt(i);
    // Only letters fold: a blanket `| 0x20` would also pair '-' with CR.
    if (c !== l && !(l >= 0x61 && l <= 0x7a && c === l - 0x20)) return false;
  }
  return true;
}

/** What `String#trim` removes (WhiteSpace and LineTerminator), so tokens come out exactly as `trim()` gave them. */
function isTrimmed(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Tokens listed in `Connection` headers: those headers are hop-by-hop too.
 *
 * @remarks
 * Tokens that already name a hop-by-hop header (`keep-alive`, `upgrade`, the
 * usual ones) add nothing and are skipped, so the common `Connection:
 * keep-alive` allocates no Set. The value is scanned by character code rather
 * than split, for the same reason. Tokens naming a protected end-to-end header
 * ({@link NEVER_HOP_BY_HOP}) are skipped too: `Connection: host` removes nothing.
 */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || !equalsLower(raw[i]!, 'connection')) continue;
    const value = raw[i + 1]!;
    let start = 0;
    while (start <= value.length) {
      let end = value.indexOf(',', start);
      if (end === -1) end = value.length;
      let a = start;
      let b = end;
      while (a < b && isTrimmed(value.charCodeAt(a))) a++;
      while (b > a && isTrimmed(value.charCodeAt(b - 1))) b--;
      if (b > a) {
        const known = knownNameAt(value, a, b);
        // Hop-by-hop names are dropped anyway; protected ones are never dropped.
        if (known === undefined || (known.flags & (HOP | PROTECTED)) === 0) (tokens ??= new Set()).add(value.slice(a, b).toLowerCase());
      }
      start = end + 1;
    }
  }
  return tokens;
}

/** `name.toLowerCase()`, but a name with nothing to lowercase is returned as is, not copied. */
function lowerName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) return name.toLowerCase();
  }
  return name;
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
  /**
   * Host to send when the request has none (HTTP/1.0): the address the client reached the proxy at
   * ({@link requestHost}). Without it the HTTP client fills in the backend's own address.
   */
  readonly fallbackHost?: string | undefined;
}

/** True for `X-Forwarded-*`: every such name is the proxy's to write, never the client's. */
function isForwardingName(name: string): boolean {
  return name.length > 12 && matchesLowerAt(name, 0, 'x-forwarded-');
}

function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

/**
 * Request headers for the backend: hop-by-hop removed, X-Forwarded-* replaced.
 *
 * @remarks
 * X-Forwarded-*, Forwarded and their aliases from the client are dropped, and
 * For/Proto/Host (or Forwarded) set afresh: a client must not be able to choose
 * the address or scheme a backend believes it has.
 * @internal
 */
export function forwardRequestHeaders(raw: readonly string[], ctx: ForwardContext): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const flags = knownName(name)?.flags ?? 0;
    if ((flags & IS_HOST) !== 0) host ??= raw[i + 1];
    if ((flags & (HOP | PROXY_OWNED)) !== 0 || isForwardingName(name) || (named !== undefined && named.has(lowerName(name)))) {
      if (!(ctx.upgrade && (flags & IS_UPGRADE) !== 0)) continue;
    }
    out.push(name, raw[i + 1]!);
  }
  if (host === undefined && ctx.fallbackHost !== undefined) {
    host = ctx.fallbackHost;
    out.push('Host', host);
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
 * so the per-response check compares a name with the few hidden names of its
 * length and the prefixes, case-insensitively and without copying it.
 * @internal
 */
export interface HiddenHeaders {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  /** `exact` grouped by length: a response header name is compared with the few of its length, without lowercasing it. */
  readonly byLength: ReadonlyMap<number, readonly string[]>;
}

/** @internal */
export function compileHidden(names: readonly string[]): HiddenHeaders {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const byLength = new Map<number, string[]>();
  for (const name of names) {
    const n = name.toLowerCase();
    if (n.endsWith('*')) {
      prefixes.push(n.slice(0, -1));
    } else if (!exact.has(n)) {
      exact.add(n);
      const same = byLength.get(n.length);
      if (same === undefined) byLength.set(n.length, [n]);
      else same.push(n);
    }
  }
  return { exact, prefixes, byLength };
}

function isHidden(name: string, hidden: HiddenHeaders): boolean {
  const same = hidden.byLength.get(name.length);
  if (same !== undefined) for (let i = 0; i < same.length; i++) if (equalsLower(name, same[i]!)) return true;
  const prefixes = hidden.prefixes;
  for (let i = 0; i < prefixes.length; i++) if (startsWithLower(name, prefixes[i]!)) return true;
  return false;
}

/** Hop-by-hop headers a 101 must keep: they carry the switch itself. @internal */
export const KEEP_FOR_UPGRADE: ReadonlySet<string> = new Set(['connection', 'upgrade']);
/** Hop-by-hop headers kept when a body is relayed byte for byte (a refused upgrade): its framing. @internal */
export const KEEP_FOR_RAW_BODY: ReadonlySet<string> = new Set(['transfer-encoding']);
/** A response Node re-frames itself keeps no hop-by-hop header. @internal */
export const KEEP_NONE: ReadonlySet<string> = new Set();

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
  const out = filterFields(raw, policy, publicOrigin, keep);
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
 * Trailer fields for the client, filtered as response headers are: hidden
 * names and hop-by-hop fields dropped, Location and Content-Location rewritten.
 * A trailer is a header that comes late; a backend that names itself there
 * must be hidden all the same.
 * @internal
 */
export function filterTrailers(raw: readonly string[], policy: ResponsePolicy, publicOrigin: string | undefined): string[] {
  return filterFields(raw, policy, publicOrigin, KEEP_NONE);
}

/**
 * A raw chunked trailer section (the field lines after the last chunk, and the
 * blank line that ends the body), filtered by {@link filterTrailers} and
 * written back with CRLF line ends. For a body relayed byte for byte (a
 * refused upgrade); a line that is not `name: value` is dropped.
 * @internal
 */
export function filterTrailerBlock(block: string, policy: ResponsePolicy, publicOrigin: string | undefined): string {
  const raw: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(line.slice(0, colon))) continue;
    raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const kept = filterTrailers(raw, policy, publicOrigin);
  let out = '';
  for (let i = 0; i < kept.length; i += 2) out += `${kept[i]}: ${kept[i + 1]}\r\n`;
  return `${out}\r\n`;
}

function filterFields(raw: readonly string[], policy: ResponsePolicy, publicOrigin: string | undefined, keep: ReadonlySet<string>): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  const backendHosts = policy.backendHosts;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    let value = raw[i + 1]!;
    const hop = hopByHopName(name);
    if (hop !== undefined) {
      if (!keep.has(hop)) continue;
    } else if (named !== undefined) {
      const lower = lowerName(name);
      if (named.has(lower) && !keep.has(lower)) continue;
    }
    if (isHidden(name, policy.hidden)) continue;
    if (backendHosts !== undefined && (equalsLower(name, 'location') || equalsLower(name, 'content-location'))) {
      value = rewriteBackendUrl(value, backendHosts, publicOrigin);
    }
    out.push(name, value);
  }
  return out;
}

