import type { Socket } from 'node:net';
import type { ConnectionEntry } from './connection-table';
import { BackendResetError, ClientResetError, type SwitchboardError } from './errors';

/**
 * Joins a client socket and a backend socket after a WebSocket upgrade.
 *
 * @remarks
 * Bytes are relayed as they arrive, with backpressure both ways: a side whose
 * `write()` returns false pauses the other side's reader until `'drain'`. A FIN
 * from one side is passed on as a FIN (half-close); if the other side has not
 * ended too within `halfCloseTimeout`, both are destroyed, so a peer that never
 * answers a FIN holds nothing. Every exit path funnels into one idempotent
 * `teardown()`, which destroys both sockets and reports once.
 *
 * Listeners are methods bound once per splice rather than closures per chunk,
 * and the byte counters live on the table entry itself, so the hot path
 * allocates nothing.
 * @internal
 */
export class Splice {
  readonly client: Socket;
  readonly backend: Socket;
  readonly #entry: ConnectionEntry;
  readonly #halfCloseTimeout: number;
  readonly #onDone: (reason: SwitchboardError | undefined) => void;
  #clientEnded = false;
  #backendEnded = false;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(
    client: Socket,
    backend: Socket,
    entry: ConnectionEntry,
    halfCloseTimeout: number,
    onDone: (reason: SwitchboardError | undefined) => void,
  ) {
    this.client = client;
    this.backend = backend;
    this.#entry = entry;
    this.#halfCloseTimeout = halfCloseTimeout;
    this.#onDone = onDone;

    client.on('data', this.#clientOnData);
    client.on('end', this.#clientOnEnd);
    client.on('error', this.#clientOnError);
    client.on('close', this.#onClose);
    client.on('drain', this.#clientOnDrain);
    backend.on('data', this.#backendOnData);
    backend.on('end', this.#backendOnEnd);
    backend.on('error', this.#backendOnError);
    backend.on('close', this.#onClose);
    backend.on('drain', this.#backendOnDrain);
    client.setNoDelay(true);
    backend.setNoDelay(true);
    // Either socket may already be paused (the HTTP parser paused the client
    // during the handshake); flowing mode starts the relay.
    client.resume();
    backend.resume();
  }

  get done(): boolean {
    return this.#done;
  }

  readonly #clientOnData = (chunk: Buffer): void => {
    this.#entry.bytesIn += chunk.length;
    if (!this.backend.write(chunk)) this.client.pause();
  };

  readonly #backendOnData = (chunk: Buffer): void => {
    this.#entry.bytesOut += chunk.length;
    if (!this.client.write(chunk)) this.backend.pause();
  };

  readonly #clientOnDrain = (): void => {
    this.backend.resume();
  };

  readonly #backendOnDrain = (): void => {
    this.client.resume();
  };

  readonly #clientOnEnd = (): void => {
    this.#clientEnded = true;
    this.#halfClosed(this.backend);
  };

  readonly #backendOnEnd = (): void => {
    this.#backendEnded = true;
    this.#halfClosed(this.client);
  };

  #halfClosed(other: Socket): void {
    if (this.#done) return;
    if (this.#clientEnded && this.#backendEnded) {
      this.teardown(undefined);
      return;
    }
    other.end();
    if (this.#timer === undefined && this.#halfCloseTimeout > 0) {
      this.#timer = setTimeout(this.#onHalfCloseTimeout, this.#halfCloseTimeout);
    } else if (this.#halfCloseTimeout === 0) {
      this.teardown(undefined);
    }
  }

  readonly #onHalfCloseTimeout = (): void => {
    this.#timer = undefined;
    this.teardown(undefined);
  };

  readonly #clientOnError = (err: NodeJS.ErrnoException): void => {
    this.teardown(new ClientResetError(`client socket error: ${err.code ?? err.message}`, { cause: err, ...this.#context() }));
  };

  readonly #backendOnError = (err: NodeJS.ErrnoException): void => {
    this.teardown(new BackendResetError(`backend socket error: ${err.code ?? err.message}`, { cause: err, ...this.#context() }));
  };

  readonly #onClose = (): void => {
    if (this.#done) return;
    // A close without both FINs is an abrupt end from that side.
    if (this.backend.destroyed && !this.#backendEnded) {
      this.teardown(new BackendResetError('backend closed the connection', this.#context()));
    } else {
      this.teardown(undefined);
    }
  };

  #context(): { backendId: string; clientAddress: string; connectionId: number } {
    return { backendId: this.#entry.backendId, clientAddress: this.#entry.key, connectionId: this.#entry.id };
  }

  /** Ends the connection once: destroys both sockets and reports `reason`. */
  teardown(reason: SwitchboardError | undefined): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.client.destroy();
    this.backend.destroy();
    this.#onDone(reason);
  }
}
