/**
 * Issue 10, item 1: a raw tunnel only after a valid WebSocket 101. A backend route that answers 101 without being a
 * WebSocket endpoint (a status-reflecting route, a handler that forgets `Upgrade`, a wrong `Sec-WebSocket-Accept`, a
 * subprotocol or extension the client never offered) must not get a spliced TCP tunnel: the client gets 502, the
 * backend socket is closed, not one byte the client sends afterwards reaches the backend, and the proxy reports a
 * backend protocol error that passive health counts.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WS_HEADERS, WS_KEY, afterHead, head, rawExchange, wsFrame } from './helpers/raw';
import { proxySuite, Resources, listenLocal, waitFor } from './helpers/servers';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptOf = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');
const RIGHT = acceptOf(WS_KEY);
const OTHER_KEY = 'AAAAAAAAAAAAAAAAAAAAAA==';

/** What the hand-made backend saw on its upgraded sockets. */
interface FakeBackend {
  readonly url: string;
  /** Upgraded sockets still open. */
  readonly open: Set<Socket>;
  /** Bytes received on upgraded sockets after the handshake request (what a tunnel would carry). */
  tunnelled: number;
  upgrades: number;
}

/** A backend whose upgrade handler writes `answer` (the lines of a response head) by hand and keeps the socket open. */
async function fakeBackend(res: Resources, answer: (req: IncomingMessage) => string[]): Promise<FakeBackend> {
  const server = createServer();
  const open = new Set<Socket>();
  const fake: FakeBackend = { url: '', open, tunnelled: 0, upgrades: 0 };
  server.on('upgrade', (req: IncomingMessage, socket: Socket, early: Buffer) => {
    fake.upgrades++;
    fake.tunnelled += early.length;
    open.add(socket);
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => (fake.tunnelled += c.length));
    socket.on('close', () => open.delete(socket));
    // Answer a FIN with a FIN, as a WebSocket server's socket does.
    socket.on('end', () => socket.end());
    socket.write(head(...answer(req)));
  });
  const port = await listenLocal(res, server, { sockets: open });
  return Object.assign(fake, { url: `http://127.0.0.1:${port}` });
}

const handshake = (...extra: string[]): string => head('GET /ws HTTP/1.1', 'Host: 127.0.0.1', ...WS_HEADERS, ...extra);
/** What a client that got a tunnel would do next: talk plain HTTP to the backend, past every check of the proxy. */
const SMUGGLED = head('GET /admin HTTP/1.1', 'Host: internal', 'X-Forwarded-For: 10.0.0.1');

interface BadCase {
  readonly name: string;
  /** Extra request lines of the client's handshake. */
  readonly offer?: readonly string[];
  readonly answer: readonly string[];
}

const SWITCHING = 'HTTP/1.1 101 Switching Protocols';
const UPGRADE = 'Upgrade: websocket';
const CONNECTION = 'Connection: Upgrade';

const BAD: BadCase[] = [
  { name: 'a bare 101 with no header at all (a status-reflecting route)', answer: [SWITCHING] },
  { name: 'a 101 without Upgrade', answer: [SWITCHING, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`] },
  { name: 'a 101 with Upgrade: h2c', answer: [SWITCHING, 'Upgrade: h2c', CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`] },
  { name: 'a 101 with two Upgrade headers', answer: [SWITCHING, UPGRADE, 'Upgrade: h2c', CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`] },
  { name: 'a 101 without Connection: upgrade', answer: [SWITCHING, UPGRADE, `Sec-WebSocket-Accept: ${RIGHT}`] },
  { name: 'a 101 with Connection: keep-alive only', answer: [SWITCHING, UPGRADE, 'Connection: keep-alive', `Sec-WebSocket-Accept: ${RIGHT}`] },
  { name: 'a 101 without Sec-WebSocket-Accept', answer: [SWITCHING, UPGRADE, CONNECTION] },
  { name: 'a 101 whose accept answers another key', answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${acceptOf(OTHER_KEY)}`] },
  { name: 'a 101 that echoes the key as its accept', answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${WS_KEY}`] },
  {
    name: 'a 101 with two Sec-WebSocket-Accept headers, one of them right',
    answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`, `Sec-WebSocket-Accept: ${acceptOf(OTHER_KEY)}`],
  },
  {
    name: 'a subprotocol when the client offered none',
    answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`, 'Sec-WebSocket-Protocol: admin'],
  },
  {
    name: 'a subprotocol the client did not offer',
    offer: ['Sec-WebSocket-Protocol: chat, superchat'],
    answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`, 'Sec-WebSocket-Protocol: admin'],
  },
  {
    name: 'two subprotocols in the answer',
    offer: ['Sec-WebSocket-Protocol: chat, superchat'],
    answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`, 'Sec-WebSocket-Protocol: chat, superchat'],
  },
  {
    name: 'an extension when the client offered none',
    answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`, 'Sec-WebSocket-Extensions: permessage-deflate'],
  },
  {
    name: 'an extension the client did not offer',
    offer: ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'],
    answer: [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`, 'Sec-WebSocket-Extensions: x-webkit-deflate-frame'],
  },
];

describe('issue 10 item 1: the upgrade path splices only after a valid WebSocket 101', () => {
  // Every test ends by checking that the proxies' tables are empty.
  const { res, errors, start } = proxySuite();

  it.each(BAD.map((c) => [c.name, c] as const))('refuses %s: 502, backend socket closed, nothing tunnelled', async (_name, c) => {
    const backend = await fakeBackend(res, () => [...c.answer]);
    const { port } = await start({ backends: [backend.url], retries: 0 });
    const answer = await rawExchange(port, [handshake(...(c.offer ?? [])), { wait: 100 }, SMUGGLED, { wait: 100 }], 2000);
    expect(answer.status).toBe(502);
    expect(answer.closed).toBe(true);
    // One answer, the proxy's own: no 101 went out before it.
    expect(answer.data.toString('latin1').match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 502']);
    await waitFor(() => backend.open.size === 0, 2000, 'the backend socket to be closed');
    expect(backend.upgrades).toBe(1);
    expect(backend.tunnelled).toBe(0);
    expect(errors.map((e) => e.code)).toEqual(['ERR_BACKEND_PROTOCOL']);
  });

  it('counts a bad 101 against the backend like any protocol error (outlier ejection)', async () => {
    const backend = await fakeBackend(res, () => [SWITCHING]);
    // A healthy peer: the last healthy backend is never ejected (item 7).
    const good = await fakeBackend(res, (req) => [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${acceptOf(String(req.headers['sec-websocket-key']))}`]);
    const { port, proxy } = await start({
      backends: [{ url: backend.url, id: 'reflector' }, { url: good.url, id: 'good' }],
      strategy: { name: 'first', pick: (_ctx, candidates) => candidates[0] },
      retries: 0,
      outlierDetection: { consecutiveFailures: 2 },
    });
    for (let i = 0; i < 2; i++) expect((await rawExchange(port, handshake(), 2000)).status).toBe(502);
    await waitFor(() => proxy.backends()[0]!.state === 'down', 2000, 'the backend to be ejected');
    // Ejected: the next upgrade goes to the healthy backend without contacting the reflector.
    expect((await rawExchange(port, [handshake(), { wait: 100 }], 300)).status).toBe(101);
    expect(backend.upgrades).toBe(2);
    expect(good.upgrades).toBe(1);
  });

  it('tries the next backend after a bad 101, as after any protocol error', async () => {
    const bad = await fakeBackend(res, () => [SWITCHING]);
    const good = await fakeBackend(res, (req) => [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${acceptOf(String(req.headers['sec-websocket-key']))}`]);
    const { port } = await start({
      backends: [{ url: bad.url, id: 'bad' }, { url: good.url, id: 'good' }],
      strategy: { name: 'first', pick: (_ctx, candidates) => candidates[0] },
    });
    const answer = await rawExchange(port, [handshake(), { wait: 100 }], 300);
    expect(answer.status).toBe(101);
    expect(bad.tunnelled).toBe(0);
    expect(good.upgrades).toBe(1);
    expect(errors.map((e) => e.code)).toEqual(['ERR_BACKEND_PROTOCOL']);
  });

  it.each([
    ['the RFC 6455 answer', [], [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`]],
    ['case-insensitive Upgrade and a Connection list', [], ['HTTP/1.1 101 OK', 'Upgrade: WebSocket', 'Connection: keep-alive, UPGRADE', `sec-websocket-accept: ${RIGHT}`]],
    [
      'an offered subprotocol and offered extension with parameters',
      ['Sec-WebSocket-Protocol: chat, superchat', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'],
      [SWITCHING, UPGRADE, CONNECTION, `Sec-WebSocket-Accept: ${RIGHT}`, 'Sec-WebSocket-Protocol: superchat', 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover'],
    ],
  ] as const)('splices after a valid 101: %s', async (_name, offer, answer) => {
    const backend = await fakeBackend(res, () => [...answer]);
    const { port } = await start({ backends: [backend.url] });
    const frame = wsFrame(0x1, 'hello');
    const got = await rawExchange(port, [handshake(...offer), { wait: 100 }, frame, { wait: 100 }], 200);
    expect(got.status).toBe(101);
    expect(afterHead(got.data).length).toBe(0);
    await waitFor(() => backend.tunnelled === frame.length, 2000, 'the frame at the backend');
    expect(errors).toEqual([]);
  });
});
