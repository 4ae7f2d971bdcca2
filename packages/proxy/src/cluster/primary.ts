/**
 * The primary side of a cluster: forks the workers, replaces those that die (with backoff), and is
 * the one place runtime changes and admin questions go in; each is fanned out to every worker over
 * IPC and the answers merged.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { DrainOptions, RouteSelector } from '../create-proxy';
import { renderExposition, type Family } from '../admin/metric-families';
import type { AdminHandler, AdminOptions } from '../admin/admin-router';
import type { BackendSpec } from '../options';
import type { ResolvedClusterOptions } from './cluster-options';
import { mergeBackends, mergeConnections, mergeFamilies, type ClusterBackendSnapshot, type ClusterConnectionRecord, type FromEach } from './aggregate';
import { clusterFamilies } from './cluster-metrics';
import { createClusterAdminHandler } from './cluster-admin';
import { TAG, type FromWorker, type RuntimeChange, type ToWorker, type WorkerAnswers, type WorkerRequest } from './messages';
import { forkSlot, type Slot } from './worker-slot';
import { NoAnswer, RequestTracker } from './requests';
import { RespawnBackoff } from './respawn';
import { rollWorkers } from './rolling-restart';
import { CountsHub } from './shared-counts';
import { freePort, type ClusterEvents, type WorkerInfo } from './cluster-types';

/** Answers from the workers that gave one, and the ids of those that did not. @internal */
export interface Collected<T> {
  readonly answers: FromEach<T>[];
  readonly missing: number[];
}

/** How long a retiring worker may outlive its retire timeout before it is killed, in ms. */
const RETIRE_GRACE = 5000;

/**
 * The handle {@link createCluster} resolves with in the primary process: the whole machine's proxy.
 * Reads cover every worker; runtime changes reach every worker (and workers forked later).
 *
 * @example
 * ```ts
 * import { createCluster } from '@switchboard/proxy';
 * const handle = await createCluster({ backends: ['http://127.0.0.1:9001'] }, { workers: 4, listen: { port: 8080 } });
 * if (handle.role === 'primary') {
 *   console.log(`${handle.workers().length} workers on port ${handle.address.port}`);
 *   console.log((await handle.connections()).map((c) => `${c.worker}: ${c.client.address}`));
 *   await handle.rollingRestart();
 *   await handle.close();
 * }
 * ```
 * @group Cluster
 */
export class Cluster extends EventEmitter<ClusterEvents> {
  readonly role = 'primary' as const;
  readonly #options: ResolvedClusterOptions;
  readonly #drainTimeout: number;
  readonly #env: Record<string, string>;
  readonly #slots = new Map<number, Slot>();
  readonly #requests = new RequestTracker();
  readonly #counts: CountsHub;
  readonly #backoff = new RespawnBackoff();
  readonly #respawns = new Set<NodeJS.Timeout>();
  /** Every runtime change so far, replayed to workers forked later. */
  readonly #replay: RuntimeChange[] = [];
  #address: AddressInfo | undefined;
  #port: number;
  #started = false;
  #closing: Promise<void> | undefined;
  #restarting: Promise<void> | undefined;
  /** Workers that died unplanned and were replaced (a metric). */
  #replaced = 0;

  /** @internal Use {@link createCluster}. */
  constructor(options: ResolvedClusterOptions, drainTimeout: number, env: Record<string, string>) {
    super();
    this.#options = options;
    this.#drainTimeout = drainTimeout;
    this.#env = env;
    this.#port = options.port;
    this.#counts = new CountsHub(() => this.#initialised());
  }

  /** The shared listening address. */
  get address(): AddressInfo {
    if (this.#address === undefined) throw new Error('the cluster is not listening yet');
    return this.#address;
  }

  /** Every worker process alive now. */
  workers(): WorkerInfo[] {
    return [...this.#slots.values()].map((s) => Object.freeze({ id: s.id, pid: s.worker.process.pid, state: s.state, startedAt: s.startedAt }));
  }

  /** @internal Forks the workers; resolves once all listen, rejects (after stopping them) if one cannot. */
  async start(): Promise<this> {
    // node:cluster keys shared handles by the port asked for: workers asking for 0 share one random
    // port only while one of them holds it, and a worker asking for that port by number gets a second
    // handle (EADDRINUSE). So port 0 is resolved once, here, and every worker asks for the number.
    if (this.#options.port === 0) this.#port = await freePort(this.#options.host);
    const all = Array.from({ length: this.#options.workers }, () => this.#spawn());
    try {
      await Promise.all(all);
    } catch (err) {
      await this.close({ timeout: 0 });
      throw err;
    }
    this.#started = true;
    return this;
  }

  *#initialised(): Iterable<{ readonly id: number; send(remote: ReadonlyMap<string, number>): void }> {
    for (const s of this.#slots.values()) {
      if (s.initSent) yield { id: s.id, send: (remote) => this.#send(s, { tag: TAG, kind: 'counts', remote }) };
    }
  }

  #send(slot: Slot, message: ToWorker): void {
    if (!slot.worker.isConnected()) return;
    // A worker may die between the check and the write; its exit is handled by the 'exit' listener.
    slot.worker.send(message, (err: Error | null) => void err);
  }

  /** Forks one worker; resolves once it listens. */
  #spawn(): Promise<Slot> {
    const slot = forkSlot(this.#options, this.#env, {
      message: (message, startTimer) => this.#onMessage(slot, message, startTimer),
      exit: (code, signal) => this.#onExit(slot, code, signal),
    });
    this.#slots.set(slot.id, slot);
    return slot.listening.then(() => slot);
  }

  #onMessage(slot: Slot, message: FromWorker, startTimer: NodeJS.Timeout): void {
    switch (message.kind) {
      case 'hello':
        this.#send(slot, { tag: TAG, kind: 'init', host: this.#options.host, port: this.#port, countsInterval: this.#options.countsInterval, replay: [...this.#replay] });
        slot.initSent = true;
        return;
      case 'listening':
        clearTimeout(startTimer);
        this.#address ??= { address: message.address, port: message.port, family: message.family };
        if (slot.state === 'starting') slot.state = 'listening';
        this.#counts.resend(slot.id);
        slot.settleListening();
        this.emit('workerListening', slot.id);
        return;
      case 'failed':
        slot.failure = message.error;
        return;
      case 'response':
        this.#requests.answered(message);
        return;
      case 'counts':
        this.#counts.report(slot.id, message.local);
    }
  }

  #onExit(slot: Slot, code: number | null, signal: string | null): void {
    this.#slots.delete(slot.id);
    this.#requests.workerGone(slot.id);
    this.#counts.forget(slot.id);
    const why = slot.failure === undefined ? `worker ${slot.id} exited (code ${String(code)}, signal ${String(signal)}) before listening` : `worker ${slot.id} failed to start: ${slot.failure.message}`;
    slot.settleListening(Object.assign(new Error(why), slot.failure?.code === undefined ? {} : { code: slot.failure.code }));
    const replace = !slot.retired && this.#started && this.#closing === undefined;
    this.emit('workerExit', slot.id, code, signal, replace);
    if (!replace) return;
    this.#replaced++;
    const timer = setTimeout(() => {
      this.#respawns.delete(timer);
      // A replacement that fails exits in turn and is handled here again, with a longer delay.
      if (this.#closing === undefined) this.#spawn().catch(() => undefined);
    }, this.#backoff.crashed(Date.now()));
    this.#respawns.add(timer);
  }

  /** @internal Asks every worker that holds connections (listening or retiring) and collects the answers. */
  async collect<R extends WorkerRequest>(request: R, targets: readonly Slot[] = this.#serving(true), extraTimeout = 0): Promise<Collected<WorkerAnswers[R['op']]> & { errors: Error[] }> {
    const results = await Promise.all(targets.map(async (s) => ({ id: s.id, value: await this.#requests.ask(s.worker, request, this.#options.requestTimeout + extraTimeout) })));
    const answers: FromEach<WorkerAnswers[R['op']]>[] = [];
    const missing: number[] = [];
    const errors: Error[] = [];
    for (const { id, value } of results) {
      if (value instanceof NoAnswer) {
        missing.push(id);
        if (value.why === 'timeout') this.emit('requestTimeout', id, request.op);
      } else if (value instanceof Error) errors.push(value);
      else answers.push({ worker: id, value });
    }
    return { answers, missing, errors };
  }

  #serving(includeRetiring: boolean): Slot[] {
    return [...this.#slots.values()].filter((s) => s.initSent && (s.state === 'listening' || (includeRetiring && s.state === 'retiring')));
  }

  /** Every worker's connections, oldest first, each record with its `worker` id. */
  async connections(): Promise<ClusterConnectionRecord[]> {
    return mergeConnections((await this.collect({ op: 'connections' })).answers);
  }

  /** Every backend once, its `activeConnections` summed over the workers. */
  async backends(): Promise<ClusterBackendSnapshot[]> {
    return mergeBackends((await this.collect({ op: 'backends' })).answers);
  }

  /** @internal The merged metric families plus the cluster's own. */
  async families(): Promise<Family[]> {
    const { answers, missing } = await this.collect({ op: 'metrics' });
    return [...mergeFamilies(answers), ...clusterFamilies(this.workers(), answers, missing, this.#replaced)];
  }

  /**
   * The machine's metrics in the Prometheus text format: every worker's counters and histograms added
   * up under the names and labels a single proxy uses, plus `switchboard_cluster_*` series (workers
   * by state, connections per worker, replaced workers, workers missing from this scrape).
   */
  async metrics(): Promise<string> {
    return renderExposition(await this.families());
  }

  /**
   * An admin handler for the whole machine: the single-proxy admin API (`/api/backends`,
   * `/api/connections` with a `worker` field and filter, `/metrics`, the mutating routes, fanned out)
   * plus `GET /api/workers` and `POST /api/workers/rolling-restart`.
   */
  admin(options: AdminOptions = {}): AdminHandler {
    return createClusterAdminHandler(this, options);
  }

  /** Sends a change to every worker (and records it for workers forked later); throws what the workers threw. */
  async #change(change: RuntimeChange, extraTimeout = 0): Promise<void> {
    this.#replay.push(change);
    const { answers, errors } = await this.collect({ op: 'change', change }, this.#serving(false), extraTimeout);
    if (answers.length === 0 && errors.length > 0) this.#replay.splice(this.#replay.indexOf(change), 1);
    if (errors.length > 0) throw errors[0];
  }

  /** Adds a backend in every worker. See {@link Proxy.addBackend}. */
  addBackend(spec: string | BackendSpec, options: RouteSelector = {}): Promise<void> {
    return this.#change({ type: 'add', spec, ...options });
  }

  /** Removes a backend in every worker, draining it first with `drain: true`. See {@link Proxy.removeBackend}. */
  removeBackend(id: string, options: { drain?: boolean } & DrainOptions = {}): Promise<void> {
    return this.#change({ type: 'remove', id, ...options }, options.drain === true ? (options.timeout ?? this.#drainTimeout) : 0);
  }

  /** Drains a backend in every worker; resolves when no worker has a connection on it. See {@link Proxy.drain}. */
  drain(id: string, options: DrainOptions = {}): Promise<void> {
    return this.#change({ type: 'drain', id, ...options }, options.timeout ?? this.#drainTimeout);
  }

  /** Puts a drained backend back in service in every worker. */
  undrain(id: string, options: RouteSelector = {}): Promise<void> {
    return this.#change({ type: 'undrain', id, ...options });
  }

  /** Sets a backend's weight in every worker. */
  setWeight(id: string, weight: number, options: RouteSelector = {}): Promise<void> {
    return this.#change({ type: 'weight', id, weight, ...options });
  }

  /** Emits `reload` in every worker ({@link ClusterWorker}); the CLI re-reads its config file there. */
  async reload(): Promise<void> {
    const { errors } = await this.collect({ op: 'reload' }, this.#serving(false));
    if (errors.length > 0) throw errors[0];
  }

  /**
   * Replaces every worker, one at a time: forks the new one, waits until it listens, then retires the
   * old one (listener closed, WebSockets closed with 1012 so clients reconnect at once, exit after
   * `retireTimeout` at most), then the next. New workers read their configuration afresh, so this is
   * how changes that need a restart take effect. Resolves when done; a call during a restart joins it.
   */
  rollingRestart(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new Error('the cluster is closing'));
    this.#restarting ??= rollWorkers<Slot>({
      current: () => this.#serving(false),
      stillServing: (s) => this.#slots.has(s.id) && s.state === 'listening' && this.#closing === undefined,
      spawn: () => this.#spawn(),
      retire: (s, code) => this.#retire(s, code, this.#options.retireTimeout),
    }).finally(() => (this.#restarting = undefined));
    return this.#restarting;
  }

  /** Asks a worker to close and exit; kills it if it is still there well after `timeout`. */
  #retire(slot: Slot, code: number, timeout: number): Promise<void> {
    if (!slot.retired) {
      slot.retired = true;
      slot.state = 'retiring';
      this.emit('workerRetiring', slot.id);
      if (slot.initSent && slot.worker.isConnected()) this.#send(slot, { tag: TAG, kind: 'retire', code, timeout });
      else slot.worker.process.kill('SIGTERM');
      const backstop = setTimeout(() => slot.worker.process.kill('SIGKILL'), timeout + RETIRE_GRACE);
      void slot.exited.then(() => clearTimeout(backstop));
    }
    return slot.exited;
  }

  /**
   * Stops the machine: every worker closes its listener, sends its WebSockets 1001 and exits within
   * `timeout` (default `retireTimeout`). No worker is replaced from here on. Idempotent.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      for (const t of this.#respawns) clearTimeout(t);
      this.#respawns.clear();
      const timeout = options.timeout ?? this.#options.retireTimeout;
      await Promise.all([...this.#slots.values()].map((s) => this.#retire(s, 1001, timeout)));
    })();
    return this.#closing;
  }
}
