/**
 * Access and lifecycle lines for the `logger` option, written from the proxy's own events, so logging
 * sees exactly what `proxy.on(...)` listeners see and costs nothing without a logger.
 * @internal
 */
import type { EventEmitter } from 'node:events';
import { InvalidOptionError, type SwitchboardError } from '../errors';
import type { ProxyEvents } from '../events';
import type { ProxyLogger } from './logger-option';

/** Validates the logger option. @internal */
export function resolveLogger(value: unknown): ProxyLogger | undefined {
  if (value === undefined) return undefined;
  const l = value as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || typeof l['info'] !== 'function' || typeof l['warn'] !== 'function' || typeof l['error'] !== 'function') {
    throw new InvalidOptionError('options.logger must have info, warn and error methods (pino or console)');
  }
  return value as ProxyLogger;
}

type Level = 'info' | 'warn' | 'error';

/** What the gate reports when onRequest refused a request with ctx.reject(). @internal */
export type RejectionLog = (line: { client: string; route: string; protocol: 'http' | 'websocket'; status: number; path: string }) => void;

/**
 * The access line of a request onRequest refused: no backend, so no table entry and no event carries it.
 * @internal
 */
export function rejectionLogger(logger: ProxyLogger): RejectionLog {
  return (line) => {
    try {
      logger.info(line, 'rejected');
    } catch {
      // A broken logger must not break traffic.
    }
  };
}

/**
 * Subscribes `logger` to the proxy's events.
 * @internal
 */
export function attachLogger(proxy: EventEmitter<ProxyEvents>, logger: ProxyLogger): void {
  const write = (level: Level, obj: object, msg: string): void => {
    try {
      logger[level](obj, msg);
    } catch {
      // A broken logger must not break traffic.
    }
  };
  proxy.on('connectionClose', (c, reason) => {
    const websocket = c.protocol === 'websocket';
    write(reason === undefined ? 'info' : 'warn', {
      client: `${c.client.address}:${c.client.port}`,
      route: c.route,
      backend: c.backend.id,
      protocol: c.protocol,
      status: c.status ?? (reason !== undefined && reason.status !== 0 ? reason.status : undefined),
      ...(websocket && reason !== undefined && reason.closeCode !== 0 && { closeCode: reason.closeCode }),
      durationMs: Date.now() - c.openedAt,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      ...(reason !== undefined && { error: reason.code }),
    }, websocket ? 'websocket' : 'http');
  });
  proxy.on('error', (err: SwitchboardError) => {
    // Errors of placed connections come with their access line; these were refused before a backend.
    if (err.connectionId !== undefined) return;
    write('warn', { client: err.clientAddress, status: err.status === 0 ? undefined : err.status, error: err.code, reason: err.message }, 'refused');
  });
  proxy.on('backendStateChange', (b, previous, reason) => {
    const level: Level = b.state === 'down' ? 'warn' : 'info';
    const what = b.state === 'draining' ? 'backend draining' : b.state === 'down' ? (reason.startsWith('ejected') ? 'backend ejected' : 'backend down') : 'backend up';
    write(level, { route: b.route, backend: b.id, state: b.state, previous, reason }, what);
  });
  proxy.on('backendAdd', (b) => write('info', { route: b.route, backend: b.id, url: b.url }, 'backend added'));
  proxy.on('backendRemove', (b) => write('info', { route: b.route, backend: b.id }, 'backend removed'));
  proxy.on('backendWeightChange', (b, previous) => write('info', { route: b.route, backend: b.id, weight: b.weight, previous }, 'backend weight changed'));
  proxy.on('sharedStateChange', (c) => {
    const fields = { fleet: c.fleet, proxyId: c.proxyId, reason: c.reason, ...(c.downForMs !== undefined && { downForMs: c.downForMs }) };
    if (c.state === 'down') write('warn', fields, 'shared state down: serving with local state');
    else write('info', fields, c.reason === 'resynchronised' ? 'shared state resynchronised' : 'shared state connected');
  });
  proxy.on('panicChange', (panic, healthy, total, route) => write(panic ? 'warn' : 'info', { route, healthy, total }, panic ? 'panic mode on' : 'panic mode off'));
}
