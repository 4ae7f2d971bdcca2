/**
 * The proxy's two connections to the shared-state Redis (one for commands, one subscribed to the
 * fleet's channel) and whether they are usable: one `up`/`down` state for the pair, changed once per
 * outage, never per reconnection attempt.
 * @internal
 */
import type { Redis, RedisOptions } from 'ioredis';
import { SharedStateError } from '../errors';
import type { RedisClientLike } from './shared-state-options';

/** Reconnection delay after the n-th failed attempt, in ms: quick at first, then once a second. */
const RECONNECT_STEP = 100;
const RECONNECT_MAX = 1000;
/** How long one connection attempt may take, in ms. */
const CONNECT_TIMEOUT = 2000;
/**
 * How long a closing connection may take to end before it is destroyed, in ms. ioredis keeps a timer
 * that long even for a socket that never connected (Redis down at close), which would hold the
 * process open: keep it short.
 */
const DISCONNECT_TIMEOUT = 200;

/** @internal */
export type LinkState = 'connecting' | 'up' | 'down';

/** @internal */
export interface LinkEvents {
  /** Both connections are ready (the subscription included). */
  ready(): void;
  /** One connection was lost or could not be opened; `error` is the last error seen. */
  lost(error: string): void;
  /** A message on the fleet channel. */
  message(text: string): void;
}

/**
 * Loads ioredis on first use: an optional peer dependency, needed only with `sharedState`. Called
 * while options are validated, before the proxy starts anything, so a missing package leaves nothing
 * running behind the throw.
 * @internal
 */
export function loadIoredis(): typeof import('ioredis') {
  try {
    return require('ioredis') as typeof import('ioredis');
  } catch (cause) {
    throw new SharedStateError('options.sharedState needs the optional peer dependency ioredis: npm install ioredis', { cause });
  }
}

/** @internal */
export class RedisLink {
  /** For commands; `enableOfflineQueue: false`, so a command sent while Redis is away fails at once. */
  readonly command: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #events: LinkEvents;
  #commandReady = false;
  #subscribed = false;
  #closed = false;
  #lastError = 'connection closed';

  constructor(redis: string | RedisClientLike, channel: string, events: LinkEvents) {
    const { Redis: RedisClass } = loadIoredis();
    this.#channel = channel;
    this.#events = events;
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: CONNECT_TIMEOUT,
      disconnectTimeout: DISCONNECT_TIMEOUT,
      retryStrategy: (times) => Math.min(times * RECONNECT_STEP, RECONNECT_MAX),
      // A proxy must not hang on an outage: no command waits for a reconnect.
      autoResubscribe: false,
      lazyConnect: true,
    };
    const make = (): Redis => {
      if (typeof redis === 'string') return new RedisClass(redis, options);
      // The proxy's own reconnection and queueing rules override the client's.
      return redis.duplicate(options as Record<string, unknown>) as Redis;
    };
    this.command = make();
    this.#subscriber = make();
    this.#watch(this.command, () => {
      this.#commandReady = true;
      this.#check();
    });
    this.#watch(this.#subscriber, () => {
      // Subscribe again after every reconnection ourselves, so "ready" means "hearing the channel".
      this.#subscriber.subscribe(this.#channel).then(
        () => {
          this.#subscribed = true;
          this.#check();
        },
        (err: unknown) => this.#lost(err),
      );
    });
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#channel && !this.#closed) this.#events.message(text);
    });
    // Connection failures surface as 'error'/'close' events and reconnect by themselves.
    this.command.connect().catch(() => undefined);
    this.#subscriber.connect().catch(() => undefined);
  }

  /** The fleet's channel. */
  get channel(): string {
    return this.#channel;
  }

  /** True while both connections are usable. */
  get usable(): boolean {
    return this.#commandReady && this.#subscribed && !this.#closed;
  }

  #watch(client: Redis, onReady: () => void): void {
    client.on('ready', onReady);
    client.on('error', (err: Error) => {
      this.#lastError = err.message;
    });
    client.on('close', () => {
      if (client === this.command) this.#commandReady = false;
      else this.#subscribed = false;
      this.#lost(undefined);
    });
  }

  #check(): void {
    if (this.usable) this.#events.ready();
  }

  #lost(err: unknown): void {
    if (this.#closed) return;
    if (err instanceof Error) this.#lastError = err.message;
    this.#events.lost(this.#lastError);
  }

  /** Publishes on the fleet channel; false when Redis is not usable right now. */
  publish(text: string): boolean {
    if (!this.usable) return false;
    this.command.publish(this.#channel, text).catch(() => undefined);
    return true;
  }

  /** Closes both connections (QUIT when connected, else at once). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.command, this.#subscriber].map(async (client) => {
      if (client.status === 'ready') {
        try {
          await client.quit();
          return;
        } catch {
          // Lost while quitting: disconnect below.
        }
      }
      client.disconnect(false);
    }));
  }
}
