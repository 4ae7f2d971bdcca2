export { createProxy, Proxy } from './create-proxy';
export type { DrainOptions } from './create-proxy';
export type { ProxyEvents } from './events';
export { DEFAULT_HIDDEN_HEADERS } from './options';
export type { BackendSpec, BackendTlsOptions, HideHeadersOption, ProxyOptions } from './options';
export type { BackendSnapshot } from './backend-pool';
export { clientKey } from './connection-table';
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
  ClientAbortedError,
  ClientResetError,
  HandshakeTimeoutError,
  IdleTimeoutError,
  InvalidOptionError,
  NoBackendError,
  ProxyClosingError,
  ProxyFullError,
  SourceExhaustedError,
  SwitchboardError,
  UnsupportedWebSocketVersionError,
  isSwitchboardError,
} from './errors';
export type { ErrorCode, ErrorContext } from './errors';
export type { BackendState, BackendView, ConnectionProtocol, PickContext, Strategy } from './strategies/strategy';
export type { StrategyName } from './strategies/registry';
export { RoundRobinStrategy } from './strategies/round-robin';
export { DEFAULT_HEALTH_CHECK, DEFAULT_OUTLIER_DETECTION } from './health-options';
export type { HealthCheckOptions, OutlierDetectionOptions } from './health-options';
