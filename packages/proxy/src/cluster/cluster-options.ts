/**
 * Options of {@link createCluster}: how many workers, where they listen, and the timings of the
 * primary's supervision. Validated once, into a frozen {@link ResolvedClusterOptions}.
 * @module
 */
import { InvalidOptionError } from '../errors';

/**
 * Options of {@link createCluster} (the second argument; the first is the {@link ProxyOptions} every
 * worker builds its proxy from).
 *
 * @example
 * ```ts
 * import type { ClusterOptions } from '@switchboard/proxy';
 * const opts: ClusterOptions = { workers: 4, listen: { port: 8080, host: '0.0.0.0' } };
 * ```
 * @group Cluster
 */
export interface ClusterOptions {
  /**
   * How many proxy processes to run on the one listening port.
   * @remarks A positive integer. One per core is the usual choice (`os.availableParallelism()`); more
   * only helps to stay under a per-process file descriptor limit (each proxied WebSocket holds two
   * descriptors: see the Workers guide).
   */
  readonly workers: number;
  /**
   * Where every worker listens (they share the socket through `node:cluster`).
   * @defaultValue `{ port: 0 }`: a free port chosen once and kept for the cluster's life
   * @remarks Port 0 is resolved by the first worker; workers forked later (replacements, rolling
   * restarts) listen on the port it got.
   */
  readonly listen?: { readonly port?: number; readonly host?: string };
  /**
   * The script workers run.
   * @defaultValue `process.argv[1]`, the script that called createCluster (node:cluster's default)
   * @remarks The worker must call {@link createCluster} itself (with the same options): that is where its
   * proxy is built, so options holding functions (hooks, a logger, a strategy object) work unchanged.
   */
  readonly exec?: string;
  /**
   * Arguments for the worker script.
   * @defaultValue `process.argv.slice(2)`
   */
  readonly args?: readonly string[];
  /**
   * Extra environment variables for the workers (on top of the primary's).
   * @defaultValue none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * How long the primary waits for a worker's answer to an admin request (connections, backends,
   * metrics, a runtime change), in ms.
   * @defaultValue 2000
   * @remarks A worker that does not answer in time is left out of that answer (the admin API lists it
   * under `missingWorkers`) and reported on `requestTimeout`: a hung or dying worker never hangs the
   * admin call. Drains and removals with a drain wait their drain timeout on top.
   */
  readonly requestTimeout?: number;
  /**
   * The most time a worker lets pass between a change of its per-backend connection counts and its
   * report to the primary, in ms.
   * @defaultValue 25
   * @remarks The staleness bound of machine-wide counts: a worker sees its own connections exactly and
   * the other workers' as they were at most `countsInterval` ms plus two IPC hops ago. Smaller is fresher
   * and costs one IPC message per worker per interval while connections open or close.
   */
  readonly countsInterval?: number;
  /**
   * How long a worker retired by a rolling restart (or by {@link Cluster.close}) gives its WebSockets
   * to close before destroying them, in ms.
   * @defaultValue 30000
   */
  readonly retireTimeout?: number;
  /**
   * How long a new worker may take to listen before it is killed (and counted as a crash), in ms.
   * @defaultValue 15000
   */
  readonly startTimeout?: number;
}

/** @internal */
export interface ResolvedClusterOptions {
  readonly workers: number;
  readonly port: number;
  readonly host: string | undefined;
  readonly exec: string | undefined;
  readonly args: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly requestTimeout: number;
  readonly countsInterval: number;
  readonly retireTimeout: number;
  readonly startTimeout: number;
}

function duration(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidOptionError(`cluster ${name} must be a number of milliseconds from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * Validates cluster options; throws `InvalidOptionError` (`ERR_INVALID_OPTION`) with an exact sentence.
 * @internal
 */
export function resolveClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('cluster options must be an object with a workers count');
  const { workers, listen = {}, exec, args, env = {} } = options;
  if (!Number.isSafeInteger(workers) || workers < 1) throw new InvalidOptionError(`cluster workers must be a positive integer, got ${String(workers)}`);
  if (typeof listen !== 'object' || listen === null) throw new InvalidOptionError('cluster listen must be an object { port, host }');
  const port = listen.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidOptionError(`cluster listen.port must be an integer from 0 to 65535, got ${String(port)}`);
  if (listen.host !== undefined && (typeof listen.host !== 'string' || listen.host.length === 0)) throw new InvalidOptionError('cluster listen.host must be a non-empty string');
  if (exec !== undefined && (typeof exec !== 'string' || exec.length === 0)) throw new InvalidOptionError('cluster exec must be a path to a script');
  if (args !== undefined && (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))) throw new InvalidOptionError('cluster args must be an array of strings');
  if (typeof env !== 'object' || env === null || Object.values(env).some((v) => typeof v !== 'string')) throw new InvalidOptionError('cluster env must map names to strings');
  return Object.freeze({
    workers,
    port,
    host: listen.host,
    exec,
    args: args === undefined ? undefined : [...args],
    env: { ...env },
    requestTimeout: duration(options.requestTimeout, 'requestTimeout', 2000, 1, 600_000),
    countsInterval: duration(options.countsInterval, 'countsInterval', 25, 1, 10_000),
    retireTimeout: duration(options.retireTimeout, 'retireTimeout', 30_000, 0, 3_600_000),
    startTimeout: duration(options.startTimeout, 'startTimeout', 15_000, 100, 600_000),
  });
}
