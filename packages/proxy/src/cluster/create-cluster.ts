/**
 * `createCluster()`: the same script runs in the primary and in every worker (node:cluster's model).
 * In the primary it forks the workers and resolves with the machine's {@link Cluster} handle; in a
 * worker it builds the proxy from the options that worker evaluated itself and listens on the shared
 * port, resolving with a {@link ClusterWorker}.
 * @module
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { ProxyOptions } from '../options';
import { resolveOptions } from '../resolve-options';
import { CLUSTER_SECRET_ENV } from '../strategies/sticky-cookie';
import { resolveClusterOptions, type ClusterOptions } from './cluster-options';
import { Cluster } from './primary';
import { ClusterWorker, startWorker } from './worker';

/**
 * What {@link createCluster} resolves with: {@link Cluster} in the primary, {@link ClusterWorker} in a
 * worker; `role` tells them apart.
 *
 * @example
 * ```ts
 * import type { ClusterHandle } from '@switchboard/proxy';
 * const describe = (h: ClusterHandle) => (h.role === 'primary' ? `${h.workers().length} workers` : `worker ${h.id}`);
 * ```
 * @group Cluster
 */
export type ClusterHandle = Cluster | ClusterWorker;

/**
 * Runs the proxy in `workers` processes sharing one listening port (node:cluster), so one machine's
 * every core serves it, and the primary process shows and steers the whole machine.
 *
 * Call it from a script that both the primary and the workers run (the default: the workers run the
 * script that forked them). Bad options throw `InvalidOptionError` (`ERR_INVALID_OPTION`) synchronously,
 * in the primary, before anything is forked; the promise rejects if a worker cannot start (a port in use).
 *
 * @remarks
 * Hashing strategies and sticky cookies agree across workers by construction (a `sticky-cookie` without
 * a secret gets one random secret shared by all workers); least-connections, power-of-two-choices,
 * bounded load and `maxConnections` read machine-wide counts shared through the primary, at most
 * `countsInterval` (25 ms) plus two IPC hops stale. A worker that dies is replaced (at once, then with a
 * doubling delay while it keeps crashing). See the Workers guide for signals, staleness and file descriptors.
 *
 * @example
 * ```ts
 * import { createCluster } from '@switchboard/proxy';
 *
 * const handle = await createCluster(
 *   { backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'], strategy: 'least-connections' },
 *   { workers: 4, listen: { port: 8080, host: '0.0.0.0' } },
 * );
 * if (handle.role === 'primary') {
 *   process.on('SIGUSR2', () => void handle.rollingRestart());
 *   process.on('SIGTERM', () => void handle.close().then(() => process.exit(0)));
 * }
 * ```
 * @group Cluster
 */
export function createCluster(options: ProxyOptions, clusterOptions: ClusterOptions): Promise<ClusterHandle> {
  const resolved = resolveClusterOptions(clusterOptions);
  if (!cluster.isPrimary) return startWorker(options);
  // One random sticky-cookie secret for every worker of this primary (when the options give none),
  // set here too so that validating the options below does not warn about a per-process secret.
  const secret = (process.env[CLUSTER_SECRET_ENV] ??= randomBytes(32).toString('base64'));
  const proxyOptions = resolveOptions(options);
  return new Cluster(resolved, proxyOptions.drainTimeout, { [CLUSTER_SECRET_ENV]: secret, ...resolved.env }).start();
}
