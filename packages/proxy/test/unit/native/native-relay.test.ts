import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import {
  NativeRelay,
  nativeRelayLoadError,
  type NativeAdoptOptions,
  type NativeRelayCause,
  type NativeRelayEnd,
} from '../../../src/native/native-relay';
import { firstCloseCode, wsFrame, WS_KEY } from '../../../../../test/helpers/raw';
import { listenLocal, Resources, waitFor } from '../../../../../test/helpers/servers';
import { makeTestPki } from '../../../../../test/helpers/tls';

// Without the addon these specs are skipped, with the reason on the line; under CI the addon must be there.
const run = NativeRelay.available || process.env.CI === 'true';
const describeNative = run ? describe : describe.skip;
const title = run ? 'NativeRelay (native data plane)' : `NativeRelay (skipped: ${nativeRelayLoadError ?? 'not built'})`;

const RAW: NativeAdoptOptions = { frameTracking: false, maxFramePayload: Infinity, maxMessageSize: Infinity };
const TRACKED: NativeAdoptOptions = { frameTracking: true, maxFramePayload: Infinity, maxMessageSize: Infinity };

/** What one relayed connection reported. */
class Watch {
  readonly halfClosed: string[] = [];
  readonly closing: { cause: NativeRelayCause; code: number }[] = [];
  readonly ended: Promise<NativeRelayEnd>;
  #resolve!: (end: NativeRelayEnd) => void;
  constructor() {
    this.ended = new Promise((resolve) => (this.#resolve = resolve));
  }
  relayHalfClosed(side: 'client' | 'backend'): void {
    this.halfClosed.push(side);
  }
  relayClosing(cause: NativeRelayCause, code: number): void {
    this.closing.push({ cause, code });
  }
  relayEnded(end: NativeRelayEnd): void {
    this.#resolve(end);
  }
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A listening TCP server whose accepted sockets are handed out in order. */
async function acceptor(res: Resources): Promise<{ server: Server; port: number; next: () => Promise<Socket> }> {
  const waiting: ((s: Socket) => void)[] = [];
  const queued: Socket[] = [];
  const accepted = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
    accepted.add(s);
    s.on('close', () => accepted.delete(s));
    const w = waiting.shift();
    if (w !== undefined) w(s);
    else queued.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  res.add(() => {
    // A failed spec may leave sockets open; the server closes only once they are gone.
    for (const s of accepted) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    next: () => new Promise<Socket>((resolve) => (queued.length > 0 ? resolve(queued.shift()!) : waiting.push(resolve))),
  };
}

/**
 * Two TCP connections as a proxy holds them: `client` talks to `proxyClient`, `proxyBackend` talks to
 * `backend`. The relay joins proxyClient and proxyBackend.
 */
async function pairs(acc: { port: number; next: () => Promise<Socket> }): Promise<{ client: Socket; proxyClient: Socket; proxyBackend: Socket; backend: Socket }> {
  const client = connect({ port: acc.port, host: '127.0.0.1', allowHalfOpen: true });
  const proxyClient = await acc.next();
  const proxyBackend = connect({ port: acc.port, host: '127.0.0.1', allowHalfOpen: true });
  await once(proxyBackend, 'connect');
  const backend = await acc.next();
  backend.resume();
  for (const s of [client, proxyClient, proxyBackend, backend]) s.on('error', () => undefined);
  return { client, proxyClient, proxyBackend, backend };
}

/** Reads everything `socket` receives until its peer's FIN. */
async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  return Buffer.concat(chunks);
}

/**
 * A minimal WebSocket proxy: the handshake relayed by hand (no extensions), then both sockets handed to the relay.
 * `backendSockets` gives the backend's server-side socket of each connection, to reset it.
 */
async function wsRig(res: Resources, relay: NativeRelay, options: NativeAdoptOptions) {
  const backendServer = createHttpServer();
  const wss = new WebSocketServer({ server: backendServer, perMessageDeflate: false });
  const backendSockets: Socket[] = [];
  wss.on('connection', (_ws, req: IncomingMessage) => backendSockets.push(req.socket));
  const backendPort = await listenLocal(res, backendServer, { wss, sockets: backendSockets });
  const front = createHttpServer();
  const watches: Watch[] = [];
  const ids: number[] = [];
  front.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const backend = connect({ port: backendPort, host: '127.0.0.1', allowHalfOpen: true });
    backend.on('error', () => undefined);
    backend.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${req.headers['sec-websocket-key'] ?? ''}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const at = buf.indexOf('\r\n\r\n');
      if (at < 0) return;
      backend.removeListener('data', onData);
      backend.pause();
      const rest = buf.subarray(at + 4);
      const watch = new Watch();
      const id = relay.adopt(
        socket,
        backend,
        { ...options, headToClient: buf.subarray(0, at + 4), toClient: rest.length > 0 ? rest : undefined, toBackend: head.length > 0 ? head : undefined },
        watch,
      );
      if (id === false) throw new Error('hand-over refused');
      watches.push(watch);
      ids.push(id);
    };
    backend.on('data', onData);
  });
  const frontPort = await listenLocal(res, front);
  return { wss, backendSockets, watches, ids, url: `ws://127.0.0.1:${frontPort}/`, frontPort };
}

async function openWs(res: Resources, url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  res.add(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

describeNative(title, () => {
  let relay: NativeRelay;
  const res = new Resources();
  beforeAll(() => {
    relay = new NativeRelay(4096);
  });
  afterEach(async () => {
    await res.cleanup();
    await waitFor(() => relay.size === 0, 5000, 'every relayed connection reported ended');
  });
  afterAll(() => relay.close());

  describe.each([
    ['recv/send', RAW],
    ['splice(2)', { ...RAW, splice: true }],
  ])('raw bytes, relayed with %s', (_mode, RAW) => {
    it('relays bytes both ways, with live byte counters, and ends when both sides have sent their FIN', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      const watch = new Watch();
      const id = relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch);
      expect(id).not.toBe(false);
      expect(p.proxyClient.destroyed && p.proxyBackend.destroyed).toBe(true);
      const atBackend: Buffer[] = [];
      p.backend.on('data', (c: Buffer) => {
        atBackend.push(c);
        if (Buffer.concat(atBackend).toString() === 'hello') p.backend.write('world!');
      });
      const atClient = readAll(p.client);
      p.client.write('hello');
      await waitFor(() => relay.bytesIn(id as number) === 5 && relay.bytesOut(id as number) === 6, 3000, 'live counters');
      p.client.end();
      await once(p.backend, 'end');
      p.backend.end();
      expect((await atClient).toString()).toBe('world!');
      const end = await watch.ended;
      expect(end).toEqual({ how: 'closed', cause: 'none', errno: 0, bytesIn: 5, bytesOut: 6 });
      expect(watch.halfClosed).toEqual(['client']);
    });

    it('takes over what the JS stream had already read, so no byte is lost in the hand-over', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      p.proxyClient.resume();
      p.proxyClient.pause();
      p.client.write('early bytes');
      await waitFor(() => p.proxyClient.readableLength === 11, 3000, 'the JS stream to buffer the early bytes');
      const watch = new Watch();
      const atBackend: Buffer[] = [];
      p.backend.on('data', (c: Buffer) => atBackend.push(c));
      expect(relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch)).not.toBe(false);
      p.client.write(' and late ones');
      await waitFor(() => Buffer.concat(atBackend).toString() === 'early bytes and late ones', 3000, 'both to reach the backend');
      p.client.destroy();
      p.backend.destroy();
      expect((await watch.ended).bytesIn).toBe(25);
    });

    it('refuses a socket with bytes queued in its JS stream, and leaves both sockets usable', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      p.proxyBackend.cork();
      p.proxyBackend.write('queued');
      expect(relay.adopt(p.proxyClient, p.proxyBackend, RAW, new Watch())).toBe(false);
      expect(p.proxyClient.destroyed || p.proxyBackend.destroyed).toBe(false);
      p.proxyBackend.uncork();
      const got: Buffer[] = [];
      p.backend.on('data', (c: Buffer) => got.push(c));
      await waitFor(() => Buffer.concat(got).toString() === 'queued', 3000, 'the queued write');
      for (const s of Object.values(p)) s.destroy();
    });

    it('refuses a TLS socket: its fd carries ciphertext, so TLS stays on the JS path', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      const pki = makeTestPki();
      const accepted: TLSSocket[] = [];
      const server = createTlsServer({ cert: pki.cert, key: pki.key }, (s) => accepted.push(s));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const tlsClient = tlsConnect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', ca: pki.ca, servername: 'localhost' });
      await once(tlsClient, 'secureConnect');
      await waitFor(() => accepted.length === 1, 3000, 'the TLS server socket');
      expect(relay.adopt(accepted[0]!, p.proxyBackend, RAW, new Watch())).toBe(false);
      expect(accepted[0]!.destroyed || p.proxyBackend.destroyed).toBe(false);
      tlsClient.destroy();
      accepted[0]!.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      for (const s of Object.values(p)) s.destroy();
    });

    it('passes a half-close on: the client FIN reaches the backend, which can still answer', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      const watch = new Watch();
      relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch);
      const atClient = readAll(p.client);
      p.client.end('last words');
      const atBackend = await readAll(p.backend);
      expect(atBackend.toString()).toBe('last words');
      await waitFor(() => watch.halfClosed.length === 1, 3000, 'the half-closed notice');
      p.backend.end('an answer after the FIN');
      expect((await atClient).toString()).toBe('an answer after the FIN');
      expect((await watch.ended).how).toBe('closed');
    });

    it('sees a reset that follows a FIN at once, though that side is no longer read', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      const watch = new Watch();
      relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch);
      p.client.end();
      await once(p.backend, 'end');
      p.client.resetAndDestroy();
      const end = await watch.ended;
      // A reset in CLOSE_WAIT reads as EPIPE.
      expect(end).toMatchObject({ how: 'client-error', errno: 32 });
      p.backend.destroy();
    });

    it('keeps memory bounded when the client does not read: the backend is paused, nothing piles up', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      const watch = new Watch();
      const id = relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch) as number;
      p.client.pause();
      const total = 64 * 1024 * 1024;
      const chunk = Buffer.alloc(256 * 1024, 7);
      let sent = 0;
      const sender = createHash('sha256');
      const writeMore = (): void => {
        while (sent < total) {
          const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
          chunk[0] = (chunk[0]! + 1) & 0xff;
          sender.update(piece);
          sent += piece.length;
          if (!p.backend.write(Buffer.from(piece))) {
            p.backend.once('drain', writeMore);
            return;
          }
        }
        p.backend.end();
      };
      const rssBefore = process.memoryUsage().rss;
      writeMore();
      await new Promise((r) => setTimeout(r, 1500));
      // What the relay read but the client did not: kernel buffers plus at most one read of its own.
      const stalled = relay.bytesOut(id);
      expect(stalled).toBeLessThan(16 * 1024 * 1024);
      expect(sent).toBeLessThan(total);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(32 * 1024 * 1024);
      const receiver = createHash('sha256');
      let received = 0;
      p.client.on('data', (c: Buffer) => {
        receiver.update(c);
        received += c.length;
      });
      p.client.resume();
      await once(p.client, 'end');
      expect(received).toBe(total);
      expect(receiver.digest('hex')).toBe(sender.digest('hex'));
      p.client.end();
      const end = await watch.ended;
      expect(end.bytesOut).toBe(total);
    });

    it('destroy() closes both sockets at once and gives every fd back', async () => {
      const acc = await acceptor(res);
      const baseline = openFds();
      const p = await pairs(acc);
      const watch = new Watch();
      const id = relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch) as number;
      relay.destroy(id);
      expect((await watch.ended).how).toBe('destroyed');
      await Promise.all([once(p.client, 'close'), once(p.backend, 'close'), p.client.end(), p.backend.end()]);
      await waitFor(() => openFds() === baseline, 3000, 'fds back at baseline');
    });

    it('ends 1,000 connections, ended every way, with no fd left behind', async () => {
      const acc = await acceptor(res);
      const baseline = openFds();
      const hows = new Map<string, number>();
      const cycle = async (i: number): Promise<void> => {
        const p = await pairs(acc);
        const watch = new Watch();
        const id = relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch) as number;
        p.client.write('x');
        const kind = i % 4;
        if (kind === 0) {
          p.client.end();
          p.backend.end();
        } else if (kind === 1) p.client.resetAndDestroy();
        else if (kind === 2) p.backend.resetAndDestroy();
        else relay.destroy(id);
        const end = await watch.ended;
        hows.set(end.how, (hows.get(end.how) ?? 0) + 1);
        p.client.destroy();
        p.backend.destroy();
      };
      for (let i = 0; i < 1000; i += 20) await Promise.all(Array.from({ length: 20 }, (_, k) => cycle(i + k)));
      expect(relay.size).toBe(0);
      expect(hows.get('destroyed')).toBe(250);
      expect((hows.get('closed') ?? 0) + (hows.get('client-error') ?? 0) + (hows.get('backend-error') ?? 0)).toBe(750);
      await waitFor(() => openFds() <= baseline, 5000, `fds back at baseline (${baseline}, now ${openFds()})`);
    });

    it('requestClose() without frame tracking: no boundary is known, so both sockets close at once', async () => {
      const acc = await acceptor(res);
      const p = await pairs(acc);
      const watch = new Watch();
      const id = relay.adopt(p.proxyClient, p.proxyBackend, RAW, watch) as number;
      p.client.resume();
      const finsSeen = Promise.all([once(p.client, 'end'), once(p.backend, 'end')]);
      relay.requestClose(id, 1001, 'going away');
      expect(await watch.ended).toMatchObject({ how: 'destroyed', cause: 'requested' });
      await finsSeen;
      p.client.destroy();
      p.backend.destroy();
    });
  });

  it('refuses close codes that may not be sent (1005, 1006)', async () => {
    const acc = await acceptor(res);
    const p = await pairs(acc);
    const watch = new Watch();
    const id = relay.adopt(p.proxyClient, p.proxyBackend, TRACKED, watch) as number;
    expect(() => relay.requestClose(id, 1005, '')).toThrow(RangeError);
    expect(() => relay.requestClose(id, 1006, '')).toThrow(RangeError);
    relay.destroy(id);
    await watch.ended;
    p.client.destroy();
    p.backend.destroy();
  });

  describe('WebSocket frames (real ws client and server)', () => {
    it('relays messages both ways, including one the backend sent in the same read as its 101', async () => {
      const rig = await wsRig(res, relay, TRACKED);
      rig.wss.on('connection', (ws) => {
        ws.send('greeting');
        ws.on('message', (m) => ws.send(`echo ${m.toString()}`));
      });
      const ws = new WebSocket(rig.url, { perMessageDeflate: false });
      res.add(() => ws.terminate());
      const got: string[] = [];
      ws.on('message', (m) => got.push(m.toString()));
      await once(ws, 'open');
      ws.send('ping-pong');
      await waitFor(() => got.length === 2, 3000, 'two messages');
      expect(got).toEqual(['greeting', 'echo ping-pong']);
      ws.close(1000, 'bye');
      expect((await closeOf(ws)).code).toBe(1000);
      const end = await rig.watches[0]!.ended;
      expect(end.how).toBe('closed');
      expect(end.bytesIn).toBeGreaterThan(0);
    });

    it('a client message over maxMessageSize: 1009 close to both peers, nothing of it relayed', async () => {
      const rig = await wsRig(res, relay, { ...TRACKED, maxMessageSize: 1000 });
      const backendGot: number[] = [];
      const backendClose = new Promise<number>((resolve) =>
        rig.wss.on('connection', (ws) => {
          ws.on('message', (m: Buffer) => backendGot.push(m.length));
          ws.on('close', (code) => resolve(code));
        }),
      );
      const ws = await openWs(res, rig.url);
      const closed = closeOf(ws);
      ws.send(Buffer.alloc(500));
      ws.send(Buffer.alloc(2000));
      expect((await closed).code).toBe(1009);
      expect(await backendClose).toBe(1009);
      expect(backendGot).toEqual([500]);
      expect(rig.watches[0]!.closing).toEqual([{ cause: 'too-big-client', code: 1009 }]);
      expect((await rig.watches[0]!.ended).cause).toBe('too-big-client');
    });

    it('a backend frame over maxFramePayload: 1009 close to both peers', async () => {
      const rig = await wsRig(res, relay, { ...TRACKED, maxFramePayload: 100 });
      const backendClose = new Promise<number>((resolve) =>
        rig.wss.on('connection', (ws) => {
          ws.on('close', (code) => resolve(code));
          ws.send(Buffer.alloc(101));
        }),
      );
      const ws = new WebSocket(rig.url, { perMessageDeflate: false });
      res.add(() => ws.terminate());
      const got: Buffer[] = [];
      ws.on('message', (m: Buffer) => got.push(m));
      const closed = closeOf(ws);
      expect((await closed).code).toBe(1009);
      expect(await backendClose).toBe(1009);
      expect(got).toEqual([]);
    });

    it('a protocol violation (an unmasked client frame): 1002 close to both peers instead of relaying it', async () => {
      const rig = await wsRig(res, relay, TRACKED);
      const backendClose = new Promise<number>((resolve) => rig.wss.on('connection', (ws) => ws.on('close', (code) => resolve(code))));
      const raw = connect({ port: rig.frontPort, host: '127.0.0.1' });
      res.add(() => void raw.destroy());
      raw.on('error', () => undefined);
      const chunks: Buffer[] = [];
      raw.on('data', (c: Buffer) => chunks.push(c));
      raw.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 3000, 'the 101');
      raw.write(Buffer.concat([wsFrame(0x1, 'fine'), wsFrame(0x1, 'unmasked', { masked: false })]));
      expect(await backendClose).toBe(1002);
      await waitFor(() => firstCloseCode(Buffer.concat(chunks).subarray(Buffer.concat(chunks).indexOf('\r\n\r\n') + 4)) === 1002, 3000, 'a 1002 close frame to the client');
      expect(rig.watches[0]!.closing).toEqual([{ cause: 'violation-client', code: 1002 }]);
    });

    it('a violation inside a header split across reads: no frame can be placed, both sockets close', async () => {
      const rig = await wsRig(res, relay, TRACKED);
      const raw = connect({ port: rig.frontPort, host: '127.0.0.1' });
      res.add(() => void raw.destroy());
      raw.on('error', () => undefined);
      const chunks: Buffer[] = [];
      raw.on('data', (c: Buffer) => chunks.push(c));
      raw.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      await waitFor(() => rig.ids.length === 1, 3000, 'the hand-over');
      raw.write(Buffer.from([0x81]));
      await waitFor(() => relay.bytesIn(rig.ids[0]!) === 1, 3000, 'the first header byte to be relayed');
      raw.write(Buffer.from([0x05]));
      await once(raw, 'close');
      expect(await rig.watches[0]!.ended).toMatchObject({ how: 'unplaceable', cause: 'violation-client' });
    });

    it('requestClose(): a close frame each way at a frame boundary, never inside a 16 MB message in flight', async () => {
      const rig = await wsRig(res, relay, TRACKED);
      const big = Buffer.alloc(16 * 1024 * 1024, 1);
      const backendClose = new Promise<{ code: number; reason: string }>((resolve) =>
        rig.wss.on('connection', (ws) => {
          ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
          ws.send(big);
        }),
      );
      const ws = new WebSocket(rig.url, { perMessageDeflate: false });
      res.add(() => ws.terminate());
      const got: number[] = [];
      ws.on('message', (m: Buffer) => got.push(m.length));
      ws.on('upgrade', () => ws.pause());
      const closed = closeOf(ws);
      await once(ws, 'open');
      const id = rig.ids[0]!;
      await waitFor(() => relay.bytesOut(id) > 0, 3000, 'the message to be under way');
      expect(relay.bytesOut(id)).toBeLessThan(big.length);
      relay.requestClose(id, 1012, 'drain');
      ws.resume();
      expect(await closed).toEqual({ code: 1012, reason: 'drain' });
      expect(got).toEqual([big.length]);
      expect(await backendClose).toEqual({ code: 1012, reason: 'drain' });
      const end = await rig.watches[0]!.ended;
      expect(end).toMatchObject({ how: 'closed', cause: 'requested' });
    });

    it('ping(): a ping reaches both peers at a boundary', async () => {
      const rig = await wsRig(res, relay, TRACKED);
      const backendPinged = new Promise<void>((resolve) => rig.wss.on('connection', (ws) => ws.on('ping', () => resolve())));
      const ws = await openWs(res, rig.url);
      const clientPinged = once(ws, 'ping');
      relay.ping(rig.ids[0]!);
      await Promise.all([clientPinged, backendPinged]);
      ws.close();
      await closeOf(ws);
    });

    it.each([
      ['resets its socket', (s: Socket): void => void s.resetAndDestroy()],
      ['sends a FIN without a close frame', (s: Socket): void => void s.end()],
    ])('a backend that %s: the client gets a 1011 close frame, then the end', async (_what, kill) => {
      const rig = await wsRig(res, relay, TRACKED);
      const ws = await openWs(res, rig.url);
      const closed = closeOf(ws);
      await waitFor(() => rig.backendSockets.length === 1, 3000, 'the backend socket');
      const started = Date.now();
      kill(rig.backendSockets[0]!);
      expect((await closed).code).toBe(1011);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(rig.watches[0]!.closing).toEqual([{ cause: 'backend-lost', code: 1011 }]);
      const end = await rig.watches[0]!.ended;
      expect(end).toMatchObject({ how: 'closed', cause: 'backend-lost' });
    });
  });
});
