import type { HealthCheckOptions, OutlierDetectionOptions } from './backends/health-options';
import type { OriginPattern } from './edge/origin-policy';
import type { TrustProxySetting } from './edge/trust-proxy';
import type { StrategyName } from './strategies/registry';
import type { Strategy } from './strategies/strategy';
import type { RoutingOptions } from './routing/route-options';
import type { HookOptions } from './routing/hook-options';
import type { LoggingOptions } from './logging/logger-option';
import type { SharedStateField } from './shared-state/shared-state-options';
import type { DataPlaneMode } from './native/data-plane';
import type { Http2Options } from './http2/http2-options';


/**
 * One backend node, in full form.
 *
 * @example
 * ```ts
 * import type { BackendSpec } from '@switchboard/proxy';
 * const spec: BackendSpec = { url: 'http://127.0.0.1:9002', id: 'b', weight: 2 };
 * ```
 * @group Options
 */
export interface BackendSpec {
  /** Base URL: `http:`/`ws:` or `https:`/`wss:`, host and port. */
  readonly url: string;
  /**
   * Stable id used by strategies, events and the connection table.
   * @defaultValue the URL's `host`, e.g. `127.0.0.1:9001`
   * @remarks Hash tables are built from ids, so give ids that do not change when a node moves address.
   */
  readonly id?: string;
  /**
   * Relative weight, a positive integer.
   * @defaultValue 1
   */
  readonly weight?: number;
  /**
   * Most live connections this backend takes; a full backend is skipped.
   * @defaultValue `Infinity`
   */
  readonly maxConnections?: number;
}

/**
 * Which backend response headers are removed before the response reaches the client.
 *
 * @remarks
 * An array replaces the default list ({@link DEFAULT_HIDDEN_HEADERS}); an object
 * edits it. A name ending in `*` is a prefix (`x-backend*`). Case-insensitive.
 *
 * @example
 * ```ts
 * import type { HideHeadersOption } from '@switchboard/proxy';
 * const keepVia: HideHeadersOption = { add: ['x-served-by'], remove: ['via'] };
 * ```
 * @group Options
 */
export type HideHeadersOption = readonly string[] | { readonly add?: readonly string[]; readonly remove?: readonly string[] };

/**
 * TLS settings for `https:`/`wss:` backends.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import type { BackendTlsOptions } from '@switchboard/proxy';
 * const tls: BackendTlsOptions = { ca: readFileSync('internal-ca.pem'), servername: 'api.internal' };
 * ```
 * @group Options
 */
export interface BackendTlsOptions {
  /**
   * Trusted CA certificates (PEM), replacing Node's default set.
   * @defaultValue Node's default CA set
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /**
   * SNI and certificate name to check, when it differs from the backend URL's host.
   * @defaultValue the backend URL's host name
   */
  readonly servername?: string;
  /**
   * Verify the backend's certificate.
   * @defaultValue true
   * @remarks Turning this off lets anyone on the path impersonate the backend.
   */
  readonly rejectUnauthorized?: boolean;
  /**
   * Client certificate (PEM) for backends that require mutual TLS; goes with {@link BackendTlsOptions.key}.
   * @defaultValue none: no client certificate is sent
   */
  readonly cert?: string | Buffer;
  /**
   * Private key (PEM) of {@link BackendTlsOptions.cert}.
   * @defaultValue none
   */
  readonly key?: string | Buffer;
}

/**
 * Options of {@link createProxy}. Durations are in milliseconds.
 *
 * @example
 * ```ts
 * import { createProxy, type ProxyOptions } from '@switchboard/proxy';
 * const options: ProxyOptions = {
 *   backends: ['http://127.0.0.1:9001', { url: 'http://127.0.0.1:9002', id: 'b', weight: 2 }],
 *   strategy: 'round-robin',
 *   connectTimeout: 2000,
 * };
 * const proxy = createProxy(options);
 * ```
 * @group Options
 */
export interface ProxyOptions extends RoutingOptions, HookOptions, LoggingOptions, SharedStateField {
  /**
   * The backend pool: URLs or {@link BackendSpec}s. At least one, unless `routes` are given: then
   * these make the route `default`, which serves requests no route matches.
   */
  readonly backends?: readonly (string | BackendSpec)[];
  /**
   * A built-in strategy name or a {@link Strategy} object.
   * @defaultValue `'round-robin'`
   */
  readonly strategy?: StrategyName | Strategy;
  /**
   * Time for the TCP (and TLS) connection to a backend, in ms.
   * @defaultValue 5000
   */
  readonly connectTimeout?: number;
  /**
   * Time for a backend to answer a WebSocket upgrade once connected, in ms.
   * @defaultValue 10000
   */
  readonly handshakeTimeout?: number;
  /**
   * Time for a backend to send HTTP response headers, in ms.
   * @defaultValue 60000
   */
  readonly headersTimeout?: number;
  /**
   * Longest pause between two chunks of an HTTP response body, in ms; 0 disables it.
   * @defaultValue 300000
   * @remarks Long polls and server-sent events need a large value or 0.
   */
  readonly bodyTimeout?: number;
  /**
   * How long `close()` waits for in-flight requests before destroying them, in ms.
   * @defaultValue 10000
   */
  readonly closeTimeout?: number;
  /**
   * After one side of a spliced connection ends, how long the other may stay open, in ms.
   * @defaultValue 5000
   * @remarks A peer that never answers a FIN would otherwise hold its socket forever.
   */
  readonly halfCloseTimeout?: number;
  /**
   * Set `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` toward backends.
   * @defaultValue true
   */
  readonly xForwarded?: boolean;
  /**
   * Also set the RFC 7239 `Forwarded` header.
   * @defaultValue false
   */
  readonly forwarded?: boolean;
  /**
   * Backend response headers to remove.
   * @defaultValue {@link DEFAULT_HIDDEN_HEADERS}
   */
  readonly hideHeaders?: HideHeadersOption;
  /**
   * The proxy's own `Server` header on every response, or none.
   * @defaultValue undefined (no `Server` header)
   */
  readonly server?: string;
  /**
   * Rewrite absolute `Location`/`Content-Location` headers that point at a backend to the proxy's public host.
   * @defaultValue true
   */
  readonly rewriteLocation?: boolean;
  /**
   * `Retry-After` seconds on 503 answers.
   * @defaultValue 1
   */
  readonly retryAfter?: number;
  /**
   * How many other backends a WebSocket upgrade (or an idempotent HTTP request
   * without a body) is retried on when its backend refuses or does not connect
   * or answer in time. The client sees at most one 502/503/504.
   * @defaultValue 2
   */
  readonly retries?: number;
  /**
   * Most live connections through the proxy as a whole; excess arrivals get 503 with `Retry-After`.
   * @defaultValue `Infinity`
   */
  readonly maxConnections?: number;
  /**
   * Close a WebSocket that carried no traffic either way for this long, in ms; 0 disables it.
   * @defaultValue 0
   * @remarks Checked once per period, so a silent connection ends between one and two periods after its last byte.
   */
  readonly idleTimeout?: number;
  /**
   * With {@link ProxyOptions.idleTimeout}: first send a ping to each side, and close only if the next period is silent too.
   * @defaultValue false
   */
  readonly idlePing?: boolean;
  /**
   * Which peers may speak for their clients: their `X-Forwarded-For` /
   * `Forwarded` headers (and PROXY protocol headers) are believed. A list of
   * addresses, CIDR ranges or presets (`'loopback'`, `'linklocal'`,
   * `'uniquelocal'`), a function, or `true` for every peer.
   * @defaultValue false: forwarding headers from clients are overwritten, never believed
   * @remarks `true` lets any client choose the address the proxy and backends see; a warning is emitted once.
   */
  readonly trustProxy?: TrustProxySetting;
  /**
   * Accept a PROXY protocol v1/v2 header (HAProxy, nginx, AWS NLB) at the start of each
   * connection from a trusted peer, so the real client ip:port reaches the connection table and
   * the hash strategies. Applies to servers made by `listen()`.
   * @defaultValue false
   */
  readonly proxyProtocol?: boolean;
  /**
   * Origins allowed to open WebSockets (exact origins, `https://*.example.com` patterns or RegExps);
   * others get 403. Cross-site WebSocket hijacking defence.
   * @defaultValue undefined (no Origin check)
   */
  readonly allowedOrigins?: readonly OriginPattern[];
  /**
   * With {@link ProxyOptions.allowedOrigins}: refuse upgrades that carry no Origin header.
   * @defaultValue false (browsers always send Origin; its absence means a non-browser client)
   */
  readonly requireOrigin?: boolean;
  /**
   * Most connections (WebSockets plus in-flight HTTP requests) one client IP may hold; excess gets 429.
   * @defaultValue no limit
   */
  readonly maxConnectionsPerClient?: number;
  /**
   * Token bucket of WebSocket upgrades per client IP; excess gets 429 with `Retry-After`.
   * @defaultValue no limit
   */
  readonly upgradeRate?: { readonly perSecond: number; readonly burst: number };
  /**
   * Most client IPs the rate table remembers (least recently seen forgotten first): the memory bound under spoofed-address floods.
   * @defaultValue 100000
   */
  readonly maxTrackedClients?: number;
  /**
   * Longest request target accepted; longer gets 414.
   * @defaultValue 8192
   */
  readonly maxUrlLength?: number;
  /**
   * Most request header lines accepted; more gets 431.
   * @defaultValue 100
   */
  readonly maxHeaderCount?: number;
  /**
   * Time a client has to send its request headers on servers made by `listen()`, in ms (slowloris defence); 408 after it.
   * @defaultValue 20000
   */
  readonly clientHeadersTimeout?: number;
  /**
   * Largest WebSocket frame payload relayed, in bytes; a bigger frame closes the connection with 1009 on both sides.
   * @defaultValue Infinity
   */
  readonly maxFramePayload?: number;
  /**
   * Largest (possibly fragmented) WebSocket message relayed, in bytes; bigger closes with 1009 on both sides.
   * @defaultValue Infinity
   */
  readonly maxMessageSize?: number;
  /**
   * Active health checks: an HTTP probe per backend through undici.
   * @defaultValue off; `{}` turns them on with {@link DEFAULT_HEALTH_CHECK} (`GET /healthz` every 5 s, fall 3, rise 2)
   * @remarks Off unless asked: probing a path the backends do not serve would take them all down.
   */
  readonly healthCheck?: HealthCheckOptions | false;
  /**
   * Passive health (outlier ejection): consecutive failures the backend caused (refused or timed-out
   * connections, resets, invalid responses; 5xx answers only with `countServerErrors`) take a backend
   * out for an ejection time that doubles on each repeat, at most half of the backends at a time.
   * @defaultValue on with {@link DEFAULT_OUTLIER_DETECTION} (5 failures, 30 s doubling up to 300 s, 5xx
   * not counted, `maxEjectionPercent` 50); `false` disables it
   */
  readonly outlierDetection?: OutlierDetectionOptions | false;
  /**
   * Panic mode: when fewer than this percentage (0 to 100) of the backends that are not draining are
   * `up`, new connections are balanced across all of them, up and down alike, instead of only the up
   * ones. `0` turns panic mode off.
   * @defaultValue 50 (Envoy's healthy panic threshold)
   * @remarks Health checks and ejections can be wrong all at once (a broken probe path, a shared
   * dependency, failures clients provoke); concentrating every client on the last healthy backends
   * would take those down too, and an empty pool answers 503 to everyone. In panic a request that
   * lands on a backend that really is dead fails like any connect failure and is retried on another
   * backend when it can be. The proxy emits `panicChange` when panic mode begins or ends, and
   * `proxy.isPanicking()` tells the current mode; `proxy.backends()` keeps reporting each backend's
   * own state.
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'], healthCheck: {}, panicThreshold: 30 });
   * proxy.on('panicChange', (panic, healthy, total) => console.log(`panic ${panic}: ${healthy} of ${total} healthy`));
   * ```
   */
  readonly panicThreshold?: number;
  /**
   * Which data plane relays WebSocket bytes after the 101: the native relay (a C++ thread with an
   * epoll loop, built at install) or the JavaScript splice.
   * @defaultValue `'auto'`, or the `SWITCHBOARD_DATA_PLANE` environment variable (`auto`, `js` or `native`) when set
   * @remarks
   * `'auto'` hands a WebSocket to the native relay when the addon loaded (Linux), the client is a plain
   * TCP socket and the backend is `http:`/`ws:`; TLS on either side, other platforms and a failed build
   * use the JS splice. Both behave the same (limits, close codes, timeouts, events, byte counters);
   * each connection record says which one carries it (`dataPlane`), and `proxy.dataPlane` says whether
   * the native one is available and why not. `'native'` makes `createProxy()` throw
   * `ERR_INVALID_OPTION` (naming the load error) when the addon is not available, instead of running
   * on the JS path unnoticed. `'js'` never uses the addon. The environment variable only changes the
   * default: an explicit option wins.
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], dataPlane: 'js' });
   * console.log(proxy.dataPlane); // { mode: 'js', native: false, reason: "dataPlane is 'js'" }
   * ```
   */
  readonly dataPlane?: DataPlaneMode;
  /**
   * Limits for HTTP/2 client connections: concurrent streams, header list size, and the rapid-reset, PING and
   * SETTINGS flood counters. See {@link Http2Options}.
   * @defaultValue {@link DEFAULT_HTTP2}
   * @remarks HTTP/2 is served when you attach the proxy to a `node:http2` secure server or call
   * `proxy.listen({ tls, http2: true })`; these limits apply to both.
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], http2: { maxConcurrentStreams: 50 } });
   * ```
   */
  readonly http2?: Http2Options;
  /**
   * TLS settings for `https:`/`wss:` backends.
   * @defaultValue Node's defaults: system CAs, certificate checked against the URL's host
   */
  readonly backendTls?: BackendTlsOptions;
  /**
   * Local addresses to open backend connections from, used in turn.
   * @defaultValue [] (the kernel chooses)
   * @remarks Node binds the source address before connecting, so Linux gives
   * each bound address at most `ip_local_port_range` ports (~28k by default)
   * across all backends; N addresses raise the ceiling N-fold. On Linux,
   * 127.0.0.2, 127.0.0.3, ... are local without configuration.
   */
  readonly sourceAddresses?: readonly string[];
  /**
   * Follow WebSocket frame boundaries on every spliced connection (headers
   * only; payloads are never copied or parsed).
   * @defaultValue true
   * @remarks Needed for the proxy's own close frames (drain 1012, shutdown
   * 1001, 1011 when a backend vanishes) and idle pings. Turned off, those
   * cases destroy the sockets instead (clients see 1006); it exists to
   * measure the tracker's cost.
   */
  readonly frameTracking?: boolean;
  /**
   * Default time `drain()` and `removeBackend(id, { drain: true })` give WebSockets to close, in ms.
   * @defaultValue 30000
   */
  readonly drainTimeout?: number;
}

/**
 * Backend response headers hidden by default: they reveal backend software or topology.
 *
 * @example
 * ```ts
 * import { DEFAULT_HIDDEN_HEADERS } from '@switchboard/proxy';
 * console.log(DEFAULT_HIDDEN_HEADERS.includes('x-powered-by')); // true
 * ```
 * @group Constants
 */
export const DEFAULT_HIDDEN_HEADERS: readonly string[] = Object.freeze([
  'server',
  'x-powered-by',
  'x-aspnet-version',
  'x-aspnetmvc-version',
  'x-runtime',
  'via',
  'x-backend*',
]);

/** @internal */
export const DEFAULTS = Object.freeze({
  connectTimeout: 5000,
  handshakeTimeout: 10_000,
  headersTimeout: 60_000,
  bodyTimeout: 300_000,
  closeTimeout: 10_000,
  halfCloseTimeout: 5000,
  retryAfter: 1,
  retries: 2,
  drainTimeout: 30_000,
  panicThreshold: 50,
});
