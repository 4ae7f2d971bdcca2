/**
 * How many processes a scale-100k run needs so that none passes its descriptor limit, and which loopback
 * source addresses each leg uses. Pure arithmetic, printed at the start of the run and in the results.
 */

/** Descriptors a process keeps for itself (listeners, IPC, epoll, stdio, the relay thread's own fds, admin). */
export const FD_RESERVE = 1000;

/**
 * Descriptors per proxied WebSocket in a proxy worker: the client socket and the backend socket. The
 * native data plane dup()s both at hand-over and then destroys the JS sockets, so it briefly holds 4 and
 * settles at 2 (measured per worker in /proc/<pid>/fd; the results table shows it).
 */
export const PROXY_FDS_PER_CONN = 2;

export interface PlanInput {
  connections: number;
  /** Hard RLIMIT_NOFILE of every process here. */
  nofile: number;
  /** Workers asked for (BENCH_100K_WORKERS); undefined: computed. */
  workers?: number;
  /** How the run drains everything with 1012. */
  drain: 'restart' | 'backends';
}

export interface Plan {
  connections: number;
  nofile: number;
  workers: number;
  /** Most connections one worker may have to hold at once, given the drain method (see workersFor). */
  peakPerWorker: number;
  backends: number;
  peakPerBackend: number;
  clients: number;
  perClient: number;
  /** Proxy -> backend source addresses (`sourceAddresses`). */
  sourceAddresses: string[];
  /** Client source addresses, per load generator. */
  clientAddresses: string[][];
}

const range = (prefix: string, from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}.${from + i}`);

/**
 * Peak per-worker load of a rolling restart: workers are replaced one at a time, and the drained worker's
 * clients reconnect evenly over the workers then listening (the others and the replacement). Each old
 * worker so gains 1/W of every drain before its own, so the last one peaks near e x its start share.
 */
export function rollingRestartPeak(connections: number, workers: number): number {
  const counts = Array.from({ length: workers }, () => connections / workers);
  let peak = connections / workers;
  for (let i = 0; i < workers; i++) {
    const moved = counts[i]!;
    counts[i] = 0;
    for (let j = 0; j < workers; j++) if (j !== i) counts[j]! += moved / workers;
    counts[i]! += moved / workers;
    peak = Math.max(peak, ...counts);
  }
  return Math.ceil(peak);
}

/** Connections one process can hold at `fdsPerConn` descriptors each, keeping 10% spare for uneven spread. */
function capacity(nofile: number, fdsPerConn: number): number {
  return Math.floor(((nofile - FD_RESERVE) / fdsPerConn) * 0.9);
}

export function makePlan(input: PlanInput): Plan {
  const { connections, nofile, drain } = input;
  const workerCap = capacity(nofile, PROXY_FDS_PER_CONN);
  let workers = input.workers ?? 1;
  const peakOf = (w: number): number => (w <= 1 ? connections : drain === 'restart' ? rollingRestartPeak(connections, w) : Math.ceil(connections / w));
  if (input.workers === undefined) while (peakOf(workers) > workerCap && workers < 64) workers += 1;
  // A backend drain moves half the backends' clients onto the other half: each backend peaks at twice its share.
  const backendCap = capacity(nofile, 1);
  let backends = 2;
  const backendPeak = (b: number): number => Math.ceil((connections / b) * (drain === 'backends' ? 2 : 1));
  while (backendPeak(backends) > backendCap) backends += 2;
  const clients = Math.max(1, Math.ceil(connections / capacity(nofile, 1)));
  const perClient = Math.ceil(connections / clients);
  // ~28k ephemeral ports per source address toward one destination; old and new sockets overlap during a drain.
  const sourceAddresses = range('127.0.1', 2, Math.max(2, Math.ceil((2 * connections) / 25_000)));
  const perClientAddrs = Math.max(2, Math.ceil((2 * perClient) / 25_000));
  const clientAddresses = Array.from({ length: clients }, (_, i) => range(`127.0.${2 + i}`, 2, perClientAddrs));
  return { connections, nofile, workers, peakPerWorker: peakOf(workers), backends, peakPerBackend: backendPeak(backends), clients, perClient, sourceAddresses, clientAddresses };
}

export function describePlan(p: Plan): string {
  return [
    `${p.workers} proxy worker${p.workers === 1 ? '' : 's'} (peak ~${p.peakPerWorker.toLocaleString('en-US')} connections = ~${(p.peakPerWorker * PROXY_FDS_PER_CONN).toLocaleString('en-US')} fds each)`,
    `${p.backends} backends (peak ~${p.peakPerBackend.toLocaleString('en-US')} each)`,
    `${p.clients} load generators x ${p.perClient.toLocaleString('en-US')}`,
    `proxy->backend sources ${p.sourceAddresses[0]}-${p.sourceAddresses.at(-1)}`,
    `client sources ${p.clientAddresses.map((a) => `${a[0]}-${a.at(-1)!.split('.').at(-1)}`).join(', ')}`,
    `nofile ${p.nofile.toLocaleString('en-US')} per process`,
  ].join('; ');
}
