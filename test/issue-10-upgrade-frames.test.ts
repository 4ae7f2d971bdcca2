/**
 * Issue 10, item 2: limits keep holding after a protocol violation. Once the frame tracker of a direction flags a
 * violation (a control frame over 125 bytes, a fragmented control frame, a missing mask...), the proxy closes with
 * 1002 at that frame boundary: the offending frame and everything after it are never relayed, so a 4 MiB frame
 * cannot ride past a 64 KiB maxFramePayload behind a bad frame.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { startCountingBackend } from './helpers/counting-backend';
import { WS_HEADERS, WS_KEY, afterHead, firstCloseCode, head, wsFrame } from './helpers/raw';
import { proxySuite, Resources, listenLocal, waitFor } from './helpers/servers';

const KiB = 1024;
const MiB = 1024 * KiB;
const HANDSHAKE = head('GET /ws HTTP/1.1', 'Host: 127.0.0.1', ...WS_HEADERS);
const ACCEPT = createHash('sha1').update(`${WS_KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** A raw WebSocket client: the handshake by hand, then whatever frames a test writes; collects what comes back. */
async function rawClient(res: Resources, port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1' });
  res.add(() => {
    socket.destroy();
  });
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('end', () => socket.end());
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await once(socket, 'connect');
  socket.write(HANDSHAKE);
  await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 3000, 'the 101');
  expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** The 2-byte header of an unmasked control frame claiming 126 bytes: over the 125 RFC 6455 allows. */
function oversizedPing(masked: boolean): Buffer {
  return wsFrame(0x9, Buffer.alloc(126, 0x70), { masked });
}

describe('issue 10 item 2: a protocol violation closes with 1002, and nothing after it is relayed', () => {
  // Every test ends by checking that the proxies' tables are empty.
  const { res, errors, start } = proxySuite();

  it.each([
    ['a control frame over 125 bytes', oversizedPing(true)],
    ['a fragmented control frame', wsFrame(0x9, 'ping', { fin: false })],
    ['an unmasked client frame', wsFrame(0x2, 'x', { masked: false })],
  ])('client sends %s, then a 4 MiB frame past a 64 KiB maxFramePayload: 1002 both ways, not one byte relayed', async (_name, bad) => {
    const backend = await startCountingBackend(res, 'a');
    const serverClose = new Promise<number>((resolve) =>
      backend.inner.wss.once('connection', (ws: WebSocket) => {
        ws.on('error', () => undefined);
        ws.once('close', (code: number) => resolve(code));
      }),
    );
    const { port } = await start({ backends: [backend.url], maxFramePayload: 64 * KiB });
    const client = await rawClient(res, port);
    backend.reset();
    // A complete small message first: frames before the violation still go through.
    const hello = wsFrame(0x1, 'hello');
    client.socket.write(Buffer.concat([hello, bad]));
    client.socket.write(wsFrame(0x2, Buffer.alloc(4 * MiB, 0x42)));
    await client.closed;
    expect(firstCloseCode(afterHead(client.received()))).toBe(1002);
    expect(await serverClose).toBe(1002);
    // The backend got the small message and the proxy's close frame: none of the bad frame, none of the 4 MiB.
    expect(backend.bytes).toBeGreaterThanOrEqual(hello.length);
    expect(backend.bytes).toBeLessThan(hello.length + 200);
    // Reported once the connection has ended.
    await waitFor(() => errors.length > 0, 3000, 'the error report');
    expect(errors.map((e) => e.code)).toEqual(['ERR_WS_PROTOCOL']);
  });

  it('closes with 1002 under default options too (no limits set): the frames after a violation are not relayed', async () => {
    const backend = await startCountingBackend(res, 'a');
    backend.inner.wss.on('connection', (ws: WebSocket) => ws.on('error', () => undefined));
    const { port } = await start({ backends: [backend.url] });
    const client = await rawClient(res, port);
    backend.reset();
    client.socket.write(oversizedPing(true));
    client.socket.write(wsFrame(0x2, Buffer.alloc(4 * MiB, 0x42)));
    await client.closed;
    expect(firstCloseCode(afterHead(client.received()))).toBe(1002);
    expect(backend.bytes).toBeLessThan(200);
  });

  it('backend sends a control frame over 125 bytes, then 4 MiB: the client gets 1002 and none of it', async () => {
    const sent: Socket[] = [];
    let backendGot = Buffer.alloc(0);
    const server = createServer();
    server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      sent.push(socket);
      socket.on('error', () => undefined);
      socket.on('data', (c: Buffer) => (backendGot = Buffer.concat([backendGot, c])));
      socket.on('end', () => socket.end());
      socket.write(head('HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${ACCEPT}`));
      setTimeout(() => {
        socket.write(Buffer.concat([wsFrame(0x1, 'hi', { masked: false }), oversizedPing(false)]));
        socket.write(wsFrame(0x2, Buffer.alloc(4 * MiB, 0x42), { masked: false }));
      }, 50);
    });
    const port = await listenLocal(res, server, { sockets: sent });
    const { port: proxyPort } = await start({ backends: [`http://127.0.0.1:${port}`], maxFramePayload: 64 * KiB });
    const client = await rawClient(res, proxyPort);
    await waitFor(() => firstCloseCode(afterHead(client.received())) !== undefined, 3000, 'a close frame');
    const frames = afterHead(client.received());
    // "hi" (4 bytes) then the proxy's close frame: nothing of the oversized ping or of the 4 MiB frame.
    expect(frames.subarray(0, 4)).toEqual(wsFrame(0x1, 'hi', { masked: false }));
    expect(firstCloseCode(frames)).toBe(1002);
    expect(frames.length).toBeLessThan(200);
    // The backend, which broke the protocol, is told so with a masked 1002 close.
    await waitFor(() => backendGot.length >= 8, 3000, 'the close toward the backend');
    expect(backendGot[0]).toBe(0x88);
    client.socket.destroy();
    await client.closed;
    // Reported once the connection has ended.
    await waitFor(() => errors.length > 0, 3000, 'the error report');
    expect(errors.map((e) => e.code)).toEqual(['ERR_WS_PROTOCOL']);
  });
});
