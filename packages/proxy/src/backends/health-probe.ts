/**
 * One active health probe: an HTTP GET through undici, judged by its status.
 * Never throws; every failure becomes a short `detail` for the change reason.
 */

import { Agent, type Dispatcher } from 'undici';
import type { ResolvedHealthCheckOptions } from './health-options';

/**
 * Most body bytes a probe reads. A health page is small; past this the body is dropped,
 * which costs nothing because the probe's connection is closed after every response anyway.
 */
const DRAIN_LIMIT = 64 * 1024;

/** undici's own timeout codes, reported as plain 'timeout' like our deadline. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Outcome of one probe.
 *
 * @example
 * ```ts
 * import type { ProbeResult } from './health-probe';
 * const r: ProbeResult = { ok: false, detail: 'status 503' };
 * ```
 * @internal
 */
export interface ProbeResult {
  /** The backend answered in time with an expected status. */
  readonly ok: boolean;
  /** `status 503`, `timeout`, `ECONNREFUSED`, ...: short, and never the backend's address. */
  readonly detail: string;
}

/**
 * The dispatcher a health checker owns for all its probes.
 *
 * @remarks
 * One connection per origin is enough because probes of one backend never overlap. No
 * `keepAliveTimeout` is tuned: every probe asks for `connection: close` (see {@link probe}), so no
 * idle socket ever waits in this pool and `close()` has nothing lingering to reap.
 *
 * @example
 * ```ts
 * import { createProbeAgent } from './health-probe';
 * import { resolveHealthCheckOptions } from './health-options';
 * const agent = createProbeAgent(resolveHealthCheckOptions({ timeout: 1000 }));
 * await agent.close();
 * ```
 * @internal
 */
export function createProbeAgent(options: ResolvedHealthCheckOptions): Agent {
  return new Agent({
    connections: 1,
    connect: { timeout: options.timeout },
    headersTimeout: options.timeout,
    bodyTimeout: options.timeout,
  });
}

/**
 * The origin a backend URL is probed on: `ws:` and `wss:` become `http:` and `https:`.
 *
 * @example
 * ```ts
 * import { probeOrigin } from './health-probe';
 * console.log(probeOrigin('wss://10.0.0.7:8443/chat')); // https://10.0.0.7:8443
 * ```
 * @internal
 */
export function probeOrigin(url: string): string {
  return new URL(url).origin.replace(/^ws(s?):/, 'http$1:');
}

function describe(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return TIMEOUT_CODES.has(code) ? 'timeout' : code;
  return err instanceof Error ? err.name : 'error';
}

/**
 * Sends one probe and reports whether the backend is healthy.
 *
 * @remarks
 * - Each probe opens a fresh connection (`reset: true`, i.e. `connection: close`), as HAProxy's checks
 *   do: every WebSocket upgrade the proxy forwards needs a *new* connection, so a backend that keeps
 *   an old socket alive but no longer accepts must fail its probe.
 * - The deadline covers connect, headers and draining the body. It aborts `controller`; the caller
 *   may abort the same controller to cancel (remove, close), which reports `cancelled`.
 * - The verdict comes from the status alone; the body is only drained (bounded by
 *   `DRAIN_LIMIT` (64 KiB) and the deadline) so undici can end the exchange cleanly.
 *
 * @example
 * ```ts
 * import { createProbeAgent, probe } from './health-probe';
 * import { resolveHealthCheckOptions } from './health-options';
 * const options = resolveHealthCheckOptions({ path: '/ready' });
 * const agent = createProbeAgent(options);
 * const result = await probe(agent, 'http://127.0.0.1:9001', options, new AbortController());
 * console.log(result.ok, result.detail); // false ECONNREFUSED (when nothing listens there)
 * await agent.close();
 * ```
 * @internal
 */
export async function probe(dispatcher: Dispatcher, origin: string, options: ResolvedHealthCheckOptions, controller: AbortController): Promise<ProbeResult> {
  const timedOut = new Error('health probe timed out');
  const deadline = setTimeout(() => controller.abort(timedOut), options.timeout);
  try {
    const res = await dispatcher.request({
      origin,
      path: options.path,
      method: 'GET',
      headers: options.headers,
      signal: controller.signal,
      reset: true,
      headersTimeout: options.timeout,
      bodyTimeout: options.timeout,
    });
    const ok = options.expectStatus(res.statusCode);
    await res.body.dump({ limit: DRAIN_LIMIT, signal: controller.signal }).catch(() => undefined);
    return { ok, detail: `status ${res.statusCode}` };
  } catch (err) {
    if (controller.signal.aborted) return { ok: false, detail: controller.signal.reason === timedOut ? 'timeout' : 'cancelled' };
    return { ok: false, detail: describe(err) };
  } finally {
    clearTimeout(deadline);
  }
}
