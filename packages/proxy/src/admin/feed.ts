import type { ServerResponse } from 'node:http';
import type { BackendSnapshot } from '../backends/backend-pool';
import type { ConnectionRecord } from '../connection-table';
import type { Proxy } from '../create-proxy';
import type { SwitchboardError } from '../errors';
import { backendView, connectionView } from './views';

/** A slow reader is dropped once this much is queued for it, so a stalled feed costs bounded memory. */
const MAX_QUEUED_BYTES = 1024 * 1024;
const HEARTBEAT_INTERVAL = 15_000;

interface Subscriber {
  readonly res: ServerResponse;
  readonly showAddresses: boolean;
}

/**
 * The live feed: Server-Sent Events of connection opens and closes and backend changes. It listens
 * to the proxy only while someone is subscribed, so an idle admin handler costs nothing per connection.
 * @internal
 */
export class AdminFeed {
  readonly #proxy: Proxy;
  readonly #max: number;
  readonly #subscribers = new Set<Subscriber>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(proxy: Proxy, max: number) {
    this.#proxy = proxy;
    this.#max = max;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  /** Starts an event stream on `res`; false when the subscriber limit is reached. */
  subscribe(res: ServerResponse, showAddresses: boolean): boolean {
    if (this.#subscribers.size >= this.#max) return false;
    const sub: Subscriber = { res, showAddresses };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n: switchboard feed\n\n');
    if (this.#subscribers.size === 0) this.#start();
    this.#subscribers.add(sub);
    res.on('close', () => this.#drop(sub));
    return true;
  }

  /** Ends every stream (the admin server is closing). */
  close(): void {
    for (const sub of [...this.#subscribers]) sub.res.end();
  }

  #drop(sub: Subscriber): void {
    if (!this.#subscribers.delete(sub)) return;
    if (this.#subscribers.size === 0) this.#stop();
  }

  #send(event: string, data: (showAddresses: boolean) => unknown): void {
    for (const sub of this.#subscribers) {
      const res = sub.res;
      if (res.writableLength > MAX_QUEUED_BYTES) {
        res.destroy();
        continue;
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data(sub.showAddresses))}\n\n`);
    }
  }

  readonly #onOpen = (c: ConnectionRecord): void => this.#send('open', () => connectionView(c, Date.now()));
  readonly #onClose = (c: ConnectionRecord, reason: SwitchboardError | undefined): void =>
    this.#send('close', () => ({ ...connectionView(c, Date.now()), reason: reason?.code ?? 'normal' }));
  readonly #onState = (b: BackendSnapshot, previous: string, reason: string): void =>
    this.#send('backend', (show) => ({ change: 'state', previous, reason, backend: backendView(b, show) }));
  readonly #onAdd = (b: BackendSnapshot): void => this.#send('backend', (show) => ({ change: 'add', backend: backendView(b, show) }));
  readonly #onRemove = (b: BackendSnapshot): void => this.#send('backend', (show) => ({ change: 'remove', backend: backendView(b, show) }));
  readonly #onWeight = (b: BackendSnapshot, previous: number): void => this.#send('backend', (show) => ({ change: 'weight', previous, backend: backendView(b, show) }));

  #start(): void {
    const p = this.#proxy;
    p.on('connectionOpen', this.#onOpen);
    p.on('connectionClose', this.#onClose);
    p.on('backendStateChange', this.#onState);
    p.on('backendAdd', this.#onAdd);
    p.on('backendRemove', this.#onRemove);
    p.on('backendWeightChange', this.#onWeight);
    // Comments keep intermediaries from timing the stream out; unref'd so a feed never holds the process.
    this.#heartbeat = setInterval(() => {
      for (const sub of this.#subscribers) sub.res.write(': heartbeat\n\n');
    }, HEARTBEAT_INTERVAL).unref();
  }

  #stop(): void {
    const p = this.#proxy;
    p.off('connectionOpen', this.#onOpen);
    p.off('connectionClose', this.#onClose);
    p.off('backendStateChange', this.#onState);
    p.off('backendAdd', this.#onAdd);
    p.off('backendRemove', this.#onRemove);
    p.off('backendWeightChange', this.#onWeight);
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
