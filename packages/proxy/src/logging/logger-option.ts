/**
 * A pino-compatible logger: pino, bunyan-style loggers and `console` all fit.
 *
 * @example
 * ```ts
 * import { createProxy, type ProxyLogger } from '@switchboard/proxy';
 * const logger: ProxyLogger = console;
 * createProxy({ backends: ['http://127.0.0.1:9001'], logger });
 * ```
 */
export interface ProxyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/**
 * The `logger` option.
 *
 * @example
 * ```ts
 * import type { LoggingOptions } from '@switchboard/proxy';
 * const logging: LoggingOptions = { logger: console };
 * ```
 */
export interface LoggingOptions {
  /**
   * Where access and lifecycle lines go: `info/warn/error(obj, msg)`, as pino and `console` have.
   * @defaultValue none: nothing is logged
   * @remarks One access line per HTTP exchange and per WebSocket end (`msg` `http` or `websocket`;
   * fields client, route, backend, status, closeCode, durationMs, bytesIn, bytesOut, error), at
   * info (warn when it ended by an error); one warn line per request refused before a backend was
   * picked (`refused`); `rejected` at info for requests onRequest refused with `ctx.reject()`; lifecycle lines for backend state changes, drains, ejections, membership and
   * panic mode. A logger that throws is ignored, never the proxy's failure.
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * createProxy({ backends: ['http://127.0.0.1:9001'], logger: console });
   * ```
   */
  readonly logger?: ProxyLogger;
}
