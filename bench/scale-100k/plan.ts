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
  /** Backends serving from the start. */
  backends: number;
  /** Backends started idle and added through the admin API for the blue/green drain (0 for a rolling restart). */
  standbyBackends: number;
  peakPerBackend: number;
  clients: number;
  perClient: number;
  /** Proxy -> backend source addresses (`sourceAddresses`). */
  sourceAddresses: string[];
  /** Client source addresses, per load generator. */
  clientAddresses: string[][];
}

/**
 * Ports one source address should carry, TIME_WAIT included. Node binds the source address before it
 * connects (bind(addr, 0), no IP_BIND_ADDRESS_NO_PORT), and the kernel's search for a free port then walks
 * the port range past every port that address already uses: with 2 addresses and ~8,000 connections plus
 * as many in TIME_WAIT after a drain, 48% of the proxy's CPU went to `connect()` (a V8 profile of the run),
 * and reconnects fell to ~150/s. Spread thin, a bind finds a port at once.
 */
export const PORTS_PER_ADDRESS = 1500;

/** `count` loopback addresses from 127.0.<third>.2 on, 250 per third octet. */
function addresses(third: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${third + Math.floor(i / 250)}.${2 + (i % 250)}`);
}

/** Addresses for `sockets` sockets that may each leave a TIME_WAIT behind (a drain reopens all of them). */
function addressCount(sockets: number): number {
  return Math.max(2, Math.ceil((2 * sockets) / PORTS_PER_ADDRESS));
}

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

/**
 * Connections one process can hold at `fdsPerConn` descriptors each, keeping 15% spare: node:cluster's
 * round-robin left one worker 7% over the mean at 30,000, and during a drain the old sockets are still
 * closing while their clients reconnect.
 */
function capacity(nofile: number, fdsPerConn: number): number {
  return Math.floor(((nofile - FD_RESERVE) / fdsPerConn) * 0.85);
}

export function makePlan(input: PlanInput): Plan {
  const { connections, nofile, drain } = input;
  const workerCap = capacity(nofile, PROXY_FDS_PER_CONN);
  let workers = input.workers ?? 1;
  const peakOf = (w: number): number => (w <= 1 ? connections : drain === 'restart' ? rollingRestartPeak(connections, w) : Math.ceil(connections / w));
  if (input.workers === undefined) while (peakOf(workers) > workerCap && workers < 64) workers += 1;
  if (peakOf(workers) > workerCap) {
    throw new Error(
      `${workers} worker(s) for ${connections} connections: one would peak at ~${peakOf(workers)} connections (${PROXY_FDS_PER_CONN} fds each), over the ~${workerCap} that fit in nofile ${nofile}; leave BENCH_100K_WORKERS unset to have it computed`,
    );
  }
  const backendCap = capacity(nofile, 1);
  let backends = 2;
  const backendPeak = (b: number): number => Math.ceil(connections / b);
  while (backendPeak(backends) > backendCap) backends += 1;
  const clients = Math.max(1, Math.ceil(connections / capacity(nofile, 1)));
  const perClient = Math.ceil(connections / clients);
  // Proxy -> backend from 127.0.1.x (and on), clients from 127.0.10.x on, one block of third octets each.
  const sourceAddresses = addresses(1, addressCount(connections));
  const perClientAddrs = addressCount(perClient);
  const blocks = Math.ceil(perClientAddrs / 250);
  const clientAddresses = Array.from({ length: clients }, (_, i) => addresses(10 + i * blocks, perClientAddrs));
  return { connections, nofile, workers, peakPerWorker: peakOf(workers), backends, standbyBackends: drain === 'backends' ? backends : 0, peakPerBackend: backendPeak(backends), clients, perClient, sourceAddresses, clientAddresses };
}

export function describePlan(p: Plan): string {
  return [
    `${p.workers} proxy worker${p.workers === 1 ? '' : 's'} (peak ~${p.peakPerWorker.toLocaleString('en-US')} connections = ~${(p.peakPerWorker * PROXY_FDS_PER_CONN).toLocaleString('en-US')} fds each)`,
    `${p.backends} backends${p.standbyBackends > 0 ? ` + ${p.standbyBackends} standby` : ''} (peak ~${p.peakPerBackend.toLocaleString('en-US')} each)`,
    `${p.clients} load generators x ${p.perClient.toLocaleString('en-US')}`,
    `proxy->backend sources ${p.sourceAddresses.length} addresses ${p.sourceAddresses[0]}-${p.sourceAddresses.at(-1)}`,
    `client sources ${p.clientAddresses[0]!.length} addresses per load generator (${p.clientAddresses.map((a) => `${a[0]}-${a.at(-1)}`).join(', ')})`,
    `nofile ${p.nofile.toLocaleString('en-US')} per process`,
  ].join('; ');
}
