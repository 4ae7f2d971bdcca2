/**
 * Switchboard: an embeddable, WebSocket-aware L7 reverse proxy and load balancer for Node.js.
 * Start with {@link createProxy}; the guides begin at [Getting started](../../../docs/getting-started.md).
 *
 * @packageDocumentation
 * @module @switchboard/proxy
 */
export { createProxy, Proxy } from './create-proxy';
export type { DrainOptions, HandleRequestOptions } from './create-proxy';
export type { RouteSelector } from './create-proxy';
export type { ForwardingOptions, PerRouteOptionName, RouteOptions, RoutingOptions } from './routing/route-options';
export type { LoggingOptions, ProxyLogger } from './logging/logger-option';
export type { ConnectMiddleware, MiddlewareOptions } from './adapters/middleware';
export type { ErrorReply, HookOptions, ProxyResponseHead, RequestHookContext, ResponseHookContext } from './routing/hook-options';
export type { ProxyEvents } from './events';
export { DEFAULT_HIDDEN_HEADERS } from './options';
export type { BackendSpec, BackendTlsOptions, HideHeadersOption, ProxyOptions } from './options';
export type { BackendSnapshot } from './backends/backend-pool';
export type { ConnectionRecord } from './connection-table';
export {
  ERROR_REPLIES,
  BackendConnectError,
  BackendProtocolError,
  BackendResetError,
  BackendTimeoutError,
  BadHandshakeError,
  BackendDrainingError,
  BadRequestError,
  ClientLimitError,
  HeadersTooLargeError,
  HttpVersionError,
  MessageTooBigError,
  OriginForbiddenError,
  UriTooLongError,
  ClientAbortedError,
  ClientResetError,
  ConsumedBodyError,
  HandshakeTimeoutError,
  IdleTimeoutError,
  InvalidOptionError,
  NoBackendError,
  ProxyClosingError,
  ProxyFullError,
  SourceExhaustedError,
  SwitchboardError,
  UnsupportedWebSocketVersionError,
  WebSocketProtocolError,
  isSwitchboardError,
} from './errors';
export { ClientBodyError, RequestBodyMismatchError } from './errors';
export { HookError, NoRouteError } from './errors';
export type { ErrorCode, ErrorContext } from './errors';
export * from './strategies/index';
export { DEFAULT_HEALTH_CHECK, DEFAULT_OUTLIER_DETECTION } from './backends/health-options';
export type { HealthCheckOptions, OutlierDetectionOptions, ResolvedHealthCheckOptions, ResolvedOutlierDetectionOptions } from './backends/health-options';
export type { PassiveFailure } from './backends/outlier-detector';
export type { OriginPattern } from './edge/origin-policy';
export { TRUST_PRESETS } from './edge/trust-proxy';
export type { TrustProxySetting } from './edge/trust-proxy';
export { DIAGNOSTICS_CHANNELS } from './admin/diagnostics';
export type { DiagnosticsMessages } from './admin/diagnostics';
export type { AdminHandler, AdminOptions } from './admin/admin-router';
export type { MetricsRegistryLike } from './admin/prom-client-compat';
export type { DataPlaneMode, DataPlaneStatus } from './native/data-plane';
export { createCluster, Cluster, ClusterWorker } from './cluster/index';
export type { ClusterBackendSnapshot, ClusterConnectionRecord, ClusterEvents, ClusterHandle, ClusterOptions, ClusterWorkerEvents, WorkerInfo, WorkerState } from './cluster/index';
