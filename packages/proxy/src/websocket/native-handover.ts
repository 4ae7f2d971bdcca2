import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Backend } from '../backends/backend-pool';
import type { ConnectionEntry } from '../connection-table';
import type { ProxyContext } from '../context';
import { NativeSplicedWebSocket } from './native-spliced-websocket';

/**
 * After a validated 101: hands a plain-TCP WebSocket to the proxy's native relay, the 101 `head` sent
 * by the relay ahead of the backend's first frames (`upstreamHead`), the client's early frames after.
 * Returns false, with nothing sent and both sockets untouched, when the JS splice must serve it: the
 * `dataPlane` option or a missing addon, a TLS backend, a client that is not a TCP socket (TLS, or a
 * framework's Duplex), or sockets the relay refuses (native/README.md's hand-over rules).
 * @internal
 */
export function spliceNatively(
  ctx: ProxyContext,
  backend: Backend,
  entry: ConnectionEntry,
  client: Duplex,
  upstream: Socket,
  head: string,
  upstreamHead: Buffer,
  early: readonly Buffer[],
): boolean {
  if (backend.secure || !(client instanceof Socket)) return false;
  const relay = ctx.dataPlane.relay();
  if (relay === undefined) return false;
  const conn = new NativeSplicedWebSocket(ctx, relay, backend, entry);
  const toBackend = early.length === 0 ? undefined : early.length === 1 ? early[0] : Buffer.concat(early);
  return conn.adopt(client, upstream, Buffer.from(head), upstreamHead, toBackend);
}
