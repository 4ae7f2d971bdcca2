import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { startBackend, type HttpHandler, type Resources, type TestBackend } from './servers';

/**
 * A real backend (HTTP JSON echo + WebSocket echo, see {@link startBackend}) behind a TCP relay that counts every
 * connection and every byte the proxy sends toward it. The relay is what the proxy is pointed at, so "no bytes
 * reached a backend" can be asserted exactly, whatever the HTTP server does with its sockets.
 */
export interface CountingBackend {
  /** URL to give the proxy (the relay). */
  readonly url: string;
  /** The relay's port: the only backend port the proxy knows. */
  readonly port: number;
  /** The backend behind the relay (its own port is never given to the proxy). */
  readonly inner: TestBackend;
  /** Connections the proxy opened toward this backend since the last `reset()`. */
  connections: number;
  /** Bytes the proxy sent toward this backend since the last `reset()`. */
  bytes: number;
  /** Relay sockets currently open (proxy side). */
  readonly open: Set<Socket>;
  reset(): void;
}

export async function startCountingBackend(res: Resources, id: string, handler?: HttpHandler): Promise<CountingBackend> {
  const inner = await startBackend(res, id, handler);
  const open = new Set<Socket>();
  const counter: CountingBackend = {
    url: '',
    port: 0,
    inner,
    connections: 0,
    bytes: 0,
    open,
    reset() {
      counter.connections = 0;
      counter.bytes = 0;
    },
  };
  const relay = createServer((client) => {
    counter.connections++;
    open.add(client);
    const upstream = connect(inner.port, '127.0.0.1');
    const teardown = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      counter.bytes += chunk.length;
    });
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', () => {
      open.delete(client);
      teardown();
    });
    upstream.on('close', teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  const port = (relay.address() as AddressInfo).port;
  Object.assign(counter, { url: `http://127.0.0.1:${port}`, port });
  res.add(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((r) => relay.close(() => r()));
  });
  return counter;
}
