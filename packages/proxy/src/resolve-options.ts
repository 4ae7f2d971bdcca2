/**
 * Option validation: every `createProxy()` option checked once, with an exact
 * sentence on failure, into a new frozen object (the caller's is never mutated).
 * @internal
 */
import { InvalidOptionError } from './errors';
import { checkOptionNames } from './option-names';
import { checkBackendUrlForm } from './routing/backend-url';
import { resolveHealthCheckOptions, resolveOutlierDetectionOptions, type HealthCheckOptions, type OutlierDetectionOptions } from './backends/health-options';
import { DEFAULT_HIDDEN_HEADERS, DEFAULTS, type BackendTlsOptions, type ProxyOptions } from './options';
import type { OriginPattern } from './edge/origin-policy';
import { resolveSourceAddresses } from './backends/source-addresses';
import type { TrustProxySetting } from './edge/trust-proxy';
import { createNamedStrategy, isStrategyName, strategyNames } from './strategies/registry';
import type { Strategy } from './strategies/strategy';
import { resolveHttp2Options, type ResolvedHttp2Options } from './http2/http2-options';
import { DATA_PLANE_ENV, resolveDataPlane, type DataPlaneMode } from './native/data-plane';

/** @internal */
export interface ResolvedBackendSpec {
  readonly id: string;
  readonly url: URL;
  readonly weight: number;
  readonly maxConnections: number;
}

/** @internal */
export interface ResolvedOptions {
  readonly backends: readonly ResolvedBackendSpec[];
  readonly strategy: Strategy;
  readonly connectTimeout: number;
  readonly handshakeTimeout: number;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly closeTimeout: number;
  readonly halfCloseTimeout: number;
  readonly xForwarded: boolean;
  readonly forwarded: boolean;
  readonly hiddenHeaders: readonly string[];
  readonly server: string | undefined;
  readonly rewriteLocation: boolean;
  readonly retryAfter: number;
  readonly retries: number;
  readonly maxConnections: number;
  readonly idleTimeout: number;
  readonly idlePing: boolean;
  readonly frameTracking: boolean;
  readonly sourceAddresses: readonly string[];
  readonly backendTls: BackendTlsOptions;
  readonly healthCheck: HealthCheckOptions | false;
  readonly trustProxy: TrustProxySetting;
  readonly proxyProtocol: boolean;
  readonly allowedOrigins: readonly OriginPattern[] | undefined;
  readonly requireOrigin: boolean;
  readonly maxConnectionsPerClient: number | undefined;
  readonly upgradeRate: { readonly perSecond: number; readonly burst: number } | undefined;
  readonly maxTrackedClients: number | undefined;
  readonly maxUrlLength: number;
  readonly maxHeaderCount: number;
  readonly clientHeadersTimeout: number;
  readonly maxFramePayload: number;
  readonly maxMessageSize: number;
  readonly outlierDetection: OutlierDetectionOptions | false;
  readonly drainTimeout: number;
  readonly panicThreshold: number;
  readonly dataPlane: DataPlaneMode;
  readonly http2: ResolvedHttp2Options;
}

const BACKEND_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:']);

function fail(message: string): never {
  throw new InvalidOptionError(message);
}

function duration(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    fail(`options.${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number of milliseconds, got ${String(value)}`);
  }
  return value;
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(`options.${name} must be a non-negative integer, got ${String(value)}`);
  return value;
}

function bytes(name: string, value: unknown): number {
  if (value === undefined) return Infinity;
  if (typeof value !== 'number' || !(value >= 0) || (Number.isFinite(value) && !Number.isInteger(value))) {
    fail(`options.${name} must be a non-negative integer number of bytes or Infinity, got ${String(value)}`);
  }
  return value;
}

function limit(name: string, value: unknown): number {
  if (value === undefined) return Infinity;
  if (typeof value !== 'number' || !(value >= 1) || (Number.isFinite(value) && !Number.isInteger(value))) {
    fail(`options.${name} must be a positive integer or Infinity, got ${String(value)}`);
  }
  return value;
}

function percent(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) fail(`options.${name} must be a number from 0 to 100, got ${String(value)}`);
  return value;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(`options.${name} must be a boolean, got ${typeof value}`);
  return value;
}

/** @internal */
export function resolveBackend(spec: unknown, where: string): ResolvedBackendSpec {
  const full = typeof spec === 'string' ? { url: spec } : spec;
  if (typeof full !== 'object' || full === null) fail(`${where} must be a URL string or { url, id?, weight? }`);
  const { url, id, weight, maxConnections } = full as Record<string, unknown>;
  if (typeof url !== 'string') fail(`${where}.url must be a string`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail(`${where}.url is not a valid URL: ${url}`);
  }
  if (!BACKEND_PROTOCOLS.has(parsed.protocol)) fail(`${where}.url must use http:, https:, ws: or wss:, got ${parsed.protocol}`);
  checkBackendUrlForm(parsed, where);
  if (id !== undefined && (typeof id !== 'string' || id.length === 0)) fail(`${where}.id must be a non-empty string`);
  if (weight !== undefined && (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1)) {
    fail(`${where}.weight must be a positive integer, got ${String(weight)}`);
  }
  if (maxConnections !== undefined && (typeof maxConnections !== 'number' || !(maxConnections >= 1) || (Number.isFinite(maxConnections) && !Number.isInteger(maxConnections)))) {
    fail(`${where}.maxConnections must be a positive integer or Infinity, got ${String(maxConnections)}`);
  }
  return Object.freeze({
    id: (id as string | undefined) ?? parsed.host,
    url: parsed,
    weight: (weight as number | undefined) ?? 1,
    maxConnections: (maxConnections as number | undefined) ?? Infinity,
  });
}

function resolveHidden(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_HIDDEN_HEADERS;
  const names = (list: unknown, where: string): string[] => {
    if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && n.length > 0)) fail(`${where} must be an array of header names`);
    return (list as string[]).map((n) => n.toLowerCase());
  };
  if (Array.isArray(value)) return Object.freeze(names(value, 'options.hideHeaders'));
  if (typeof value !== 'object' || value === null) fail('options.hideHeaders must be an array or { add?, remove? }');
  const { add, remove } = value as Record<string, unknown>;
  const removed = new Set(remove === undefined ? [] : names(remove, 'options.hideHeaders.remove'));
  const kept = DEFAULT_HIDDEN_HEADERS.filter((n) => !removed.has(n));
  return Object.freeze([...new Set([...kept, ...(add === undefined ? [] : names(add, 'options.hideHeaders.add'))])]);
}

function resolveBackendTls(value: unknown): BackendTlsOptions {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null) fail('options.backendTls must be an object');
  const { ca, servername, rejectUnauthorized, cert, key } = value as Record<string, unknown>;
  const pem = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);
  if (ca !== undefined && !pem(ca) && !(Array.isArray(ca) && ca.every(pem))) fail('options.backendTls.ca must be PEM text, a Buffer, or an array of them');
  if (servername !== undefined && (typeof servername !== 'string' || servername.length === 0)) fail('options.backendTls.servername must be a non-empty string');
  if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== 'boolean') fail('options.backendTls.rejectUnauthorized must be a boolean');
  if ((cert === undefined) !== (key === undefined)) fail('options.backendTls.cert and options.backendTls.key go together');
  if ((cert !== undefined && !pem(cert)) || (key !== undefined && !pem(key))) fail('options.backendTls.cert and .key must be PEM text or Buffers');
  return Object.freeze({ ...(value as BackendTlsOptions) });
}

function resolveStrategy(value: unknown): Strategy {
  if (value === undefined) return createNamedStrategy('round-robin');
  if (isStrategyName(value)) return createNamedStrategy(value);
  if (typeof value === 'object' && value !== null && typeof (value as Strategy).pick === 'function') return value as Strategy;
  return fail(`options.strategy must be one of ${strategyNames().join(', ')} or an object with pick(), got ${String(value)}`);
}

/**
 * Validates options and returns a new frozen object; never mutates the input.
 * @internal
 */
export function resolveOptions(input: ProxyOptions): ResolvedOptions {
  if (typeof input !== 'object' || input === null) fail('options must be an object');
  checkOptionNames(input);
  // With routes, top-level backends are optional: they only make the default route.
  const backends = input.backends === undefined && input.routes !== undefined ? [] : input.backends;
  if (!Array.isArray(backends) || (backends.length === 0 && input.routes === undefined)) fail('options.backends must be a non-empty array');
  const resolved = backends.map((b, i) => resolveBackend(b, `options.backends[${i}]`));
  const seen = new Set<string>();
  for (const b of resolved) {
    if (seen.has(b.id)) fail(`options.backends has a duplicate id: ${b.id}`);
    seen.add(b.id);
  }
  const retryAfter = input.retryAfter ?? DEFAULTS.retryAfter;
  if (!Number.isInteger(retryAfter) || retryAfter < 0) fail(`options.retryAfter must be a non-negative integer, got ${String(retryAfter)}`);
  if (input.server !== undefined && (typeof input.server !== 'string' || !/^[\t\x20-\x7e]+$/.test(input.server))) {
    fail('options.server must be a non-empty string of visible ASCII');
  }
  return Object.freeze({
    backends: Object.freeze(resolved),
    strategy: resolveStrategy(input.strategy),
    connectTimeout: duration('connectTimeout', input.connectTimeout, DEFAULTS.connectTimeout),
    handshakeTimeout: duration('handshakeTimeout', input.handshakeTimeout, DEFAULTS.handshakeTimeout),
    headersTimeout: duration('headersTimeout', input.headersTimeout, DEFAULTS.headersTimeout),
    bodyTimeout: duration('bodyTimeout', input.bodyTimeout, DEFAULTS.bodyTimeout, true),
    closeTimeout: duration('closeTimeout', input.closeTimeout, DEFAULTS.closeTimeout, true),
    halfCloseTimeout: duration('halfCloseTimeout', input.halfCloseTimeout, DEFAULTS.halfCloseTimeout, true),
    xForwarded: bool('xForwarded', input.xForwarded, true),
    forwarded: bool('forwarded', input.forwarded, false),
    hiddenHeaders: resolveHidden(input.hideHeaders),
    server: input.server,
    rewriteLocation: bool('rewriteLocation', input.rewriteLocation, true),
    retryAfter,
    retries: count('retries', input.retries, DEFAULTS.retries),
    maxConnections: limit('maxConnections', input.maxConnections),
    idleTimeout: duration('idleTimeout', input.idleTimeout, 0, true),
    idlePing: bool('idlePing', input.idlePing, false),
    frameTracking: bool('frameTracking', input.frameTracking, true),
    sourceAddresses: resolveSourceAddresses(input.sourceAddresses),
    backendTls: resolveBackendTls(input.backendTls),
    trustProxy: input.trustProxy ?? false,
    proxyProtocol: bool('proxyProtocol', input.proxyProtocol, false),
    allowedOrigins: input.allowedOrigins,
    requireOrigin: bool('requireOrigin', input.requireOrigin, false),
    maxConnectionsPerClient: input.maxConnectionsPerClient,
    upgradeRate: input.upgradeRate,
    maxTrackedClients: input.maxTrackedClients,
    maxUrlLength: count('maxUrlLength', input.maxUrlLength, 8192),
    maxHeaderCount: count('maxHeaderCount', input.maxHeaderCount, 100),
    clientHeadersTimeout: duration('clientHeadersTimeout', input.clientHeadersTimeout, 20_000),
    maxFramePayload: bytes('maxFramePayload', input.maxFramePayload),
    maxMessageSize: bytes('maxMessageSize', input.maxMessageSize),
    healthCheck: input.healthCheck === undefined || input.healthCheck === false ? false : (resolveHealthCheckOptions(input.healthCheck, 'options.healthCheck'), input.healthCheck),
    outlierDetection: input.outlierDetection === false ? false : (resolveOutlierDetectionOptions(input.outlierDetection ?? {}, 'options.outlierDetection'), input.outlierDetection ?? {}),
    drainTimeout: duration('drainTimeout', input.drainTimeout, DEFAULTS.drainTimeout, true),
    panicThreshold: percent('panicThreshold', input.panicThreshold, DEFAULTS.panicThreshold),
    dataPlane: resolveDataPlane(input.dataPlane, process.env[DATA_PLANE_ENV]),
    http2: resolveHttp2Options(input.http2),
  });
}
