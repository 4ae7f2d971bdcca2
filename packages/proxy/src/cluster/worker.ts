/**
 * The worker side of a cluster: builds the proxy from the options the worker's own script evaluated,
 * waits for the primary's `init` (the listen port and the runtime changes made so far), listens on the
 * shared port, then answers the primary's requests, reports its connection counts and retires on demand.
 * @module
 */
import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createProxy, type Proxy } from '../create-proxy';
import type { ProxyOptions } from '../options';
import { internalsOf } from '../proxy-internals';
import { isClusterMessage, TAG, toWire, type FromWorker, type RuntimeChange, type ToWorker, type WorkerRequest } from './messages';
import { CountsReporter } from './shared-counts';

/**
 * Events of a {@link ClusterWorker}.
 *
 * @example
 * ```ts
 * import type { ClusterWorkerEvents } from '@switchboard/proxy';
 * type ReloadListener = (...args: ClusterWorkerEvents['reload']) => void;
 * ```
 * @group Cluster
 */
export interface ClusterWorkerEvents {
  /** The primary asked every worker to reload its configuration ({@link Cluster.reload}, SIGHUP in the CLI). */
  reload: [];
  /** The primary retires this worker: its proxy is closing (new connections go to other workers) and the process exits once it closed. */
  retire: [code: number];
}

/**
 * What {@link createCluster} resolves with in a worker process: the worker's own proxy, already
 * listening on the shared port.
 *
 * @example
 * ```ts
 * import { createCluster } from '@switchboard/proxy';
 * const handle = await createCluster({ backends: ['http://127.0.0.1:9001'] }, { workers: 2, listen: { port: 8080 } });
 * if (handle.role === 'worker') handle.proxy.on('connectionOpen', (c) => console.log(`worker ${handle.id}: ${c.client.address}`));
 * ```
 * @group Cluster
 */
export class ClusterWorker extends EventEmitter<ClusterWorkerEvents> {
  readonly role = 'worker' as const;
  /** @internal */
  constructor(
    /** This worker's `node:cluster` id (the `worker` field of connection records). */
    readonly id: number,
    /** The worker's proxy. Runtime changes should go through the primary, which fans them out. */
    readonly proxy: Proxy,
    /** The shared listening address. */
    readonly address: AddressInfo,
  ) {
    super();
  }
}

/**
 * How long a retiring worker keeps serving connections it accepted before its listener closed, in ms,
 * before it closes them (1012 / 1001): on loopback or a LAN the request follows the connect within a
 * few ms; a client slower than this gets the 503 that any closing proxy answers.
 */
export const RETIRE_ACCEPT_GRACE = 250;

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

/** Applies a runtime change to this worker's proxy. @internal */
export async function applyChange(proxy: Proxy, change: RuntimeChange): Promise<void> {
  const selector = change.route === undefined ? {} : { route: change.route };
  switch (change.type) {
    case 'add':
      proxy.addBackend(change.spec, selector);
      return;
    case 'remove':
      return proxy.removeBackend(change.id, { ...selector, ...(change.drain !== undefined && { drain: change.drain }), ...(change.timeout !== undefined && { timeout: change.timeout }) });
    case 'drain':
      return proxy.drain(change.id, { ...selector, ...(change.timeout !== undefined && { timeout: change.timeout }), ...(change.code !== undefined && { code: change.code }) });
    case 'undrain':
      proxy.undrain(change.id, selector);
      return;
    case 'weight':
      proxy.setWeight(change.id, change.weight, selector);
  }
}

/** A change made before this worker existed: its drains have nothing to wait for. */
function replayed(change: RuntimeChange): RuntimeChange {
  if (change.type === 'drain') return { ...change, timeout: 0 };
  if (change.type === 'remove') return { ...change, drain: false };
  return change;
}

async function answer(handle: ClusterWorker, request: WorkerRequest): Promise<unknown> {
  const proxy = handle.proxy;
  switch (request.op) {
    case 'connections':
      return proxy.connections();
    case 'backends':
      return proxy.backends();
    case 'metrics':
      return internalsOf(proxy).scrape();
    case 'change':
      await applyChange(proxy, request.change);
      return null;
    case 'reload':
      handle.emit('reload');
      return null;
  }
}

/** Resolves with the primary's `init`. */
function awaitInit(): Promise<Extract<ToWorker, { kind: 'init' }>> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown): void => {
      if (!isClusterMessage<ToWorker>(message) || message.kind !== 'init') return;
      process.removeListener('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
    send({ tag: TAG, kind: 'hello' });
  });
}

/**
 * Runs this process as a cluster worker. The primary's `init` decides the port and the timings (this
 * script's own cluster options were validated by createCluster and are not needed here). If the primary
 * dies, node:cluster exits the worker at once when the IPC channel closes.
 * @internal
 */
export async function startWorker(options: ProxyOptions): Promise<ClusterWorker> {
  const id = cluster.worker?.id ?? 0;
  let proxy: Proxy;
  try {
    proxy = createProxy(options);
  } catch (err) {
    send({ tag: TAG, kind: 'failed', error: toWire(err) });
    throw err;
  }
  const init = await awaitInit();
  for (const change of init.replay) {
    // The primary applied each of these to the workers alive then; one that no longer fits the
    // configuration this worker read (an id its file already has) is skipped, not fatal.
    await applyChange(proxy, replayed(change)).catch(() => undefined);
  }
  let address: AddressInfo;
  try {
    address = await proxy.listen({ port: init.port, ...(init.host !== undefined && { host: init.host }) });
  } catch (err) {
    send({ tag: TAG, kind: 'failed', error: toWire(err) });
    await proxy.destroy();
    throw err;
  }
  const handle = new ClusterWorker(id, proxy, address);
  const reporter = new CountsReporter(internalsOf(proxy), init.countsInterval, (local) => send({ tag: TAG, kind: 'counts', local }));
  let retiring = false;
  const retire = (code: number, timeout: number): void => {
    if (retiring) return;
    retiring = true;
    handle.emit('retire', code);
    // Stop accepting first, then give connections node:cluster already handed this worker a moment
    // to send their request: closing at once would answer their handshakes 503.
    void internalsOf(proxy)
      .stopAccepting()
      .catch(() => undefined);
    setTimeout(() => {
      proxy.close({ code, timeout }).finally(() => {
        reporter.stop();
        process.exit(0);
      });
    }, Math.min(RETIRE_ACCEPT_GRACE, timeout));
  };
  process.on('message', (message: unknown) => {
    if (!isClusterMessage<ToWorker>(message)) return;
    if (message.kind === 'counts') reporter.applyRemote(message.remote);
    else if (message.kind === 'retire') retire(message.code, message.timeout);
    else if (message.kind === 'request') {
      answer(handle, message.request).then(
        (value) => send({ tag: TAG, kind: 'response', id: message.id, value }),
        (err: unknown) => send({ tag: TAG, kind: 'response', id: message.id, error: toWire(err) }),
      );
    }
  });
  reporter.flushNow();
  send({ tag: TAG, kind: 'listening', address: address.address, port: address.port, family: address.family });
  return handle;
}
