// Byte integrity through the relay for every message size. Under the forced-JS run (npm run test:js-data-plane)
// these specs exercise the JS read buffer (read-buffer.ts); in the default run they hold the native relay to the same bytes.
import { createServer } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { Resources, listenLocal, startProxy, waitFor } from './helpers/servers';

/** Message i's length and bytes, the same on both ends: sizes from 1 B to 256 KiB, contents unique per message. */
function messageSize(i: number): number {
  const sizes = [1, 7, 125, 126, 1000, 1023, 1024, 1025, 4096, 65535, 65536, 65537, 200_000, 262_144];
  return sizes[(i * 7919) % sizes.length]!;
}
function messageBytes(i: number): Buffer {
  const buf = Buffer.allocUnsafe(messageSize(i));
  let x = (i * 2654435761) >>> 0;
  for (let k = 0; k < buf.length; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[k] = x >>> 24;
  }
  return buf;
}

/** Message i of the queued-writes test, `size` bytes (126-65535, well under the client socket's 16 KiB highWaterMark). */
function queuedMessage(i: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  buf.fill(i & 0xff);
  buf.writeUInt32BE(i, 0);
  return buf;
}
/** The same message as the unmasked frame the client receives (16-bit extended length). */
function queuedFrame(i: number, size: number): Buffer {
  return Buffer.concat([Buffer.from([0x82, 126, size >> 8, size & 0xff]), queuedMessage(i, size)]);
}

/**
 * The backend socket reads into a buffer the proxy reuses (read-buffer.ts). These
 * specify that reuse never shows: a byte-exact stream while the client stalls,
 * so that the proxy's writes toward it go pending with views of that buffer.
 */
describe('WebSocket relay with a reused backend read buffer', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  /** A client with its listeners attached before the handshake ends: the backend starts sending at once. */
  function connect(url: string): WebSocket {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 20 });
    res.add(() => {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    });
    return ws;
  }

  /** A backend that sends messages 0..count-1 on every connection, keeping about 1 MiB queued in ws. */
  async function streamingBackend(count: number): Promise<string> {
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1 << 20 });
    wss.on('connection', (ws) => {
      let i = 0;
      const pump = (): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        while (i < count && ws.bufferedAmount < 1 << 20) ws.send(messageBytes(i++), { binary: true });
        if (i < count) setTimeout(pump, 1);
      };
      pump();
    });
    return `http://127.0.0.1:${await listenLocal(res, server, { wss })}`;
  }

  it('delivers 600 messages (1 B-256 KiB, 28 MB) byte-exact to a client that stalls for 20 ms in every 40', async () => {
    const count = 600;
    const backend = await streamingBackend(count);
    const { proxy, wsUrl } = await startProxy(res, { backends: [backend] });
    const ws = connect(`${wsUrl}/stream`);
    let received = 0;
    let bad = -1;
    let bytes = 0;
    ws.on('message', (data: Buffer) => {
      if (bad < 0 && !data.equals(messageBytes(received))) bad = received;
      bytes += data.length;
      received++;
    });
    // Stall the reader repeatedly: the proxy's writes toward the client go pending
    // and the backend socket is paused, again and again.
    const stalls = setInterval(() => {
      ws.pause();
      setTimeout(() => ws.resume(), 20);
    }, 40);
    res.add(() => clearInterval(stalls));
    await waitFor(() => received === count || bad >= 0, 60_000, 'all messages');
    clearInterval(stalls);
    expect(bad).toBe(-1);
    expect(received).toBe(count);
    let total = 0;
    for (let i = 0; i < count; i++) total += messageSize(i);
    expect(bytes).toBe(total);
    ws.close(1000);
    await waitFor(() => proxy.connections().length === 0, 5000, 'table to empty');
  });

  it.each([
    ["8,000-byte messages (reads into a buffer of the socket's own)", 8000, 2000],
    ['1,000-byte messages (reads into the shared buffer, copied)', 1000, 8000],
  ])('never reads over bytes still queued toward a client that stopped reading: %s', async (_name, size, count) => {
    // The client reads nothing for a while: once the kernel buffers toward it are
    // full, each chunk the proxy writes stays queued, and the first ones are still
    // below the socket's 16 KiB highWaterMark, so the backend is read again. That
    // read must land in a buffer no queued write refers to.
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on('connection', (ws) => {
      let i = 0;
      // One message per turn of the loop, so the proxy reads one message at a time.
      const pump = (): void => {
        if (ws.readyState !== WebSocket.OPEN || i >= count) return;
        ws.send(queuedMessage(i++, size), { binary: true });
        setImmediate(pump);
      };
      pump();
    });
    const { proxy, port } = await startProxy(res, { backends: [`http://127.0.0.1:${await listenLocal(res, server, { wss })}`] });

    // A raw client: the handshake by hand, then no reading at all for a while.
    const client: Socket = tcpConnect(port, '127.0.0.1');
    res.add(() => {
      client.destroy();
    });
    client.write(`GET /queued HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const chunks: Buffer[] = [];
    let received = 0;
    client.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
    });
    await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 5000, 'the 101');
    client.pause();
    // Until every buffer on the way is full and the proxy has stopped reading the backend.
    let last = -1;
    let still = 0;
    await waitFor(
      () => {
        const now = proxy.connections()[0]!.bytesOut;
        still = now === last ? still + 1 : 0;
        last = now;
        return still >= 20; // no backend bytes for ~200 ms
      },
      20_000,
      'the proxy to stop reading the backend',
    );
    expect(last).toBeLessThan(count * (size + 4));
    client.resume();

    const expected = Buffer.concat(Array.from({ length: count }, (_, i) => queuedFrame(i, size)));
    const all = (): Buffer => Buffer.concat(chunks);
    const headLength = all().indexOf('\r\n\r\n') + 4;
    await waitFor(() => received - headLength >= expected.length, 30_000, 'every frame');
    const body = all().subarray(headLength);
    expect(body.length).toBe(expected.length);
    // The first differing byte, if any, names the frame that was overwritten.
    const firstDiff = body.equals(expected) ? -1 : body.findIndex((byte, k) => byte !== expected[k]);
    expect(firstDiff === -1 ? -1 : Math.floor(firstDiff / (size + 4))).toBe(-1);
  });

  it('keeps 20 concurrent streams apart: each client gets only its own bytes, in order', async () => {
    const count = 60;
    const backend = await streamingBackend(count);
    const { proxy, wsUrl } = await startProxy(res, { backends: [backend] });
    const clients = Array.from({ length: 20 }, () => connect(`${wsUrl}/stream`));
    const received = clients.map(() => 0);
    let bad = 0;
    clients.forEach((ws, c) => {
      ws.on('message', (data: Buffer) => {
        if (!data.equals(messageBytes(received[c]!))) bad++;
        received[c]!++;
      });
      if (c % 2 === 0) {
        ws.once('open', () => {
          ws.pause();
          setTimeout(() => ws.resume(), 100 + 10 * c);
        });
      }
    });
    await waitFor(() => received.every((n) => n === count) || bad > 0, 60_000, 'all streams');
    expect(bad).toBe(0);
    expect(received).toEqual(clients.map(() => count));
    for (const ws of clients) ws.close(1000);
    await waitFor(() => proxy.connections().length === 0, 5000, 'table to empty');
  });
});
