/**
 * What a worker changes in the options its script evaluated before it builds its proxy.
 */
import type { ProxyOptions } from '../options';

/**
 * Every worker is a fleet member of its own (its own Redis connections, its own fleet summary), so a
 * `sharedState.proxyId` set in options that every worker shares would make them overwrite one another's
 * summary: each gets `<proxyId>/w<worker id>`. Without a proxyId each worker already makes a unique one.
 * @internal
 */
export function workerProxyOptions(options: ProxyOptions, workerId: number): ProxyOptions {
  const shared = options.sharedState;
  if (shared === undefined || shared === null || typeof shared !== 'object') return options;
  const proxyId = (shared as { proxyId?: unknown }).proxyId;
  if (typeof proxyId !== 'string' || proxyId.length === 0) return options;
  return { ...options, sharedState: { ...shared, proxyId: `${proxyId}/w${workerId}` } };
}
