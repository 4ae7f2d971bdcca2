/**
 * Hostile inputs as raw bytes over TCP, each read as a specification: the exact status line (or a close without
 * a response), no byte reaching the backend where none should, no backend address in any error answer, and the
 * proxy still serving a normal HTTP request and a normal WebSocket echo afterwards, with an empty table.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Proxy, SwitchboardError } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { startCountingBackend, type CountingBackend } from './helpers/counting-backend';
import { proxyV1, proxyV2 } from './helpers/proxy-header';
import { WS_HEADERS, WS_KEY, afterHead, bodyOf, firstCloseCode, head, rawExchange, wsFrame, type RawAnswer, type RawStep } from './helpers/raw';
import { Resources, openWs, roundTrip, startProxy, waitFor } from './helpers/servers';

/** Headers timeout of the proxies under test (slowloris), in ms. */
const HEADERS_TIMEOUT = 300;
const HOST = 'Host: 127.0.0.1';

interface World {
  backend: CountingBackend;
  /** Default options except a short clientHeadersTimeout. */
  plain: { proxy: Proxy; port: number; url: string; wsUrl: string };
  /** proxyProtocol on, trusting only 10.0.0.0/8: the 127.0.0.1 test client is an untrusted peer. */
  pp: { proxy: Proxy; port: number; url: string; wsUrl: string };
  /** Requests and upgrades the backend's HTTP server saw since the last reset. */
  requests: IncomingHttpHeaders[];
  upgrades: IncomingHttpHeaders[];
  errors: SwitchboardError[];
}

interface HostileCase {
  readonly name: string;
  readonly steps: RawStep | readonly RawStep[];
  /** The status the client must get, or 'close': the connection is closed with no byte of answer. */
  readonly expect: number | 'close';
  /** Which proxy gets the bytes. */
  readonly proxy?: 'plain' | 'pp';
  /** Bytes may (and then usually must) reach the backend. Default false: not one byte may. */
  readonly backendMayReceive?: boolean;
  /** How long to wait for the proxy to close, in ms. */
  readonly timeoutMs?: number;
  /** Extra assertions on the answer. */
  readonly check?: (answer: RawAnswer, world: World) => void;
}

const big = (n: number): string => 'a'.repeat(n);
const ws = (target = '/ws', ...extra: string[]): string => head(`GET ${target} HTTP/1.1`, HOST, ...WS_HEADERS, ...extra);
const wsWithout = (drop: string, ...extra: string[]): string =>
  head('GET /ws HTTP/1.1', HOST, ...WS_HEADERS.filter((l) => !l.startsWith(drop)), ...extra);
/** A request line plus headers, sent as latin1 bytes so 0x80-0xff survive. */
const bytes = (...lines: string[]): Buffer => Buffer.from(head(...lines), 'latin1');

/** One byte of a header line every 40 ms: far slower than the headers timeout allows. */
function dribble(prefix: string, totalMs: number): RawStep[] {
  const steps: RawStep[] = [prefix];
  for (let t = 0; t < totalMs; t += 40) steps.push({ wait: 40 }, 'x');
  return steps;
}

/** A TLS 1.2 ClientHello record header and the start of its body. */
const CLIENT_HELLO = Buffer.from('16030100a5010000a10303' + '00'.repeat(32) + '000004c02fc030' + '0100', 'hex');

const CASES: HostileCase[] = [
  // --- malformed request lines ---
  { name: 'request line without target or version', steps: head('GET'), expect: 400 },
  {
    // llhttp splits the request line on runs of spaces (RFC 9112 3 allows it); the proxy writes its own request
    // line toward the backend, so nothing ambiguous is passed on.
    name: 'two spaces between method and target: accepted, forwarded with a normalised request line',
    steps: head('GET  /two-spaces HTTP/1.1', HOST, 'Connection: close'),
    expect: 200,
    backendMayReceive: true,
    check: (a) => expect(JSON.parse(bodyOf(a))).toMatchObject({ method: 'GET', url: '/two-spaces' }),
  },
  { name: 'junk after the version', steps: head('GET / HTTP/1.1 junk', HOST), expect: 400 },
  { name: 'space inside the target', steps: head('GET /a b HTTP/1.1', HOST), expect: 400 },
  { name: 'NUL inside the target', steps: head('GET /a\0b HTTP/1.1', HOST), expect: 400 },
  { name: 'non-ASCII byte inside the target', steps: bytes('GET /caf\xe9 HTTP/1.1', HOST), expect: 400 },
  { name: 'bare-LF line endings', steps: 'GET / HTTP/1.1\nHost: 127.0.0.1\n\n', expect: 400 },
  { name: 'absolute-form target (forward-proxy request)', steps: head('GET http://169.254.169.254/latest HTTP/1.1', HOST), expect: 400 },
  { name: 'asterisk-form target', steps: head('OPTIONS * HTTP/1.1', HOST), expect: 400 },
  { name: 'CONNECT tunnel request', steps: head('CONNECT 10.0.0.1:22 HTTP/1.1', 'Host: 10.0.0.1:22'), expect: 'close' },
  // --- methods ---
  { name: 'lowercase method', steps: head('get / HTTP/1.1', HOST), expect: 400 },
  { name: 'unknown method', steps: head('FOO / HTTP/1.1', HOST), expect: 400 },
  { name: 'NUL in the method', steps: head('GE\0T / HTTP/1.1', HOST), expect: 400 },
  // --- versions ---
  { name: 'HTTP/0.9 simple request', steps: 'GET /\r\n\r\n', expect: 505 },
  { name: 'HTTP/2.0 in an HTTP/1 request line', steps: head('GET / HTTP/2.0', HOST), expect: 505 },
  { name: 'HTTP/1.2', steps: head('GET / HTTP/1.2', HOST), expect: 400 },
  { name: 'HTTP/3.0', steps: head('GET / HTTP/3.0', HOST), expect: 400 },
  { name: 'lowercase http/1.1', steps: head('GET / http/1.1', HOST), expect: 400 },
  { name: 'HTTP/2 connection preface (prior knowledge)', steps: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', expect: 400 },
  // --- smuggling ---
  { name: 'Content-Length then Transfer-Encoding', steps: head('POST / HTTP/1.1', HOST, 'Content-Length: 5', 'Transfer-Encoding: chunked') + '0\r\n\r\n', expect: 400 },
  { name: 'Transfer-Encoding then Content-Length', steps: head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: chunked', 'Content-Length: 5') + '0\r\n\r\n', expect: 400 },
  { name: 'duplicate equal Content-Length', steps: head('POST / HTTP/1.1', HOST, 'Content-Length: 5', 'Content-Length: 5') + 'hello', expect: 400 },
  { name: 'duplicate unequal Content-Length', steps: head('POST / HTTP/1.1', HOST, 'Content-Length: 5', 'Content-Length: 50') + 'hello', expect: 400 },
  { name: 'Content-Length with a sign', steps: head('POST / HTTP/1.1', HOST, 'Content-Length: +5') + 'hello', expect: 400 },
  { name: 'Content-Length list "5, 5"', steps: head('POST / HTTP/1.1', HOST, 'Content-Length: 5, 5') + 'hello', expect: 400 },
  { name: 'Transfer-Encoding: gzip', steps: head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: gzip') + 'hello', expect: 400 },
  { name: 'Transfer-Encoding twice', steps: head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked') + '0\r\n\r\n', expect: 400 },
  { name: 'Transfer-Encoding: chunked, gzip', steps: head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: chunked, gzip') + '0\r\n\r\n', expect: 400 },
  { name: 'Transfer-Encoding: xchunked', steps: head('POST / HTTP/1.1', HOST, 'Transfer-Encoding: xchunked') + '0\r\n\r\n', expect: 400 },
  { name: 'Transfer-Encoding on HTTP/1.0', steps: head('POST / HTTP/1.0', HOST, 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\n\r\n', expect: 400 },
  { name: 'obs-fold continuation line', steps: head('GET / HTTP/1.1', HOST, 'X-Folded: a', ' b'), expect: 400 },
  { name: 'obs-fold hiding a Transfer-Encoding', steps: head('POST / HTTP/1.1', HOST, 'X-Foo: bar', ' Transfer-Encoding: chunked', 'Content-Length: 3') + 'abc', expect: 400 },
  {
    name: 'pipelined smuggle: a bad request hides a second one',
    steps: head('POST / HTTP/1.1', HOST, 'Content-Length: 0', 'Content-Length: 44') + head('GET /admin HTTP/1.1', HOST),
    expect: 400,
  },
  {
    name: 'invalid chunk size in a chunked body (headers were valid, so they may be forwarded)',
    steps: head('POST /chunked HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + 'zz\r\nhello\r\n0\r\n\r\n',
    expect: 400,
    backendMayReceive: true,
  },
  {
    name: 'chunk extensions over 16 KiB',
    steps: head('POST /chunked HTTP/1.1', HOST, 'Transfer-Encoding: chunked') + `5;${big(17 * 1024)}\r\nhello\r\n0\r\n\r\n`,
    expect: 413,
    backendMayReceive: true,
  },
  {
    name: 'keep-alive: a valid request, then a CL+TE smuggling attempt on the same connection',
    steps: [head('GET /first HTTP/1.1', HOST), { wait: 100 }, head('POST /second HTTP/1.1', HOST, 'Content-Length: 4', 'Transfer-Encoding: chunked') + '0\r\n\r\n'],
    expect: 200,
    backendMayReceive: true,
    check: (a, w) => {
      // The first is answered, the second refused on the same connection, which is then closed.
      expect(a.data.toString('latin1').match(/HTTP\/1\.1 \d{3} [^\r]*/g)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request']);
      expect(a.closed).toBe(true);
      expect(w.requests.map((h) => h['host'])).toEqual(['127.0.0.1']);
    },
  },
  {
    // Node's parser fails on the second request while the first is in flight; the 400 is written at once and the
    // connection closed, so the first request is abandoned (ERR_CLIENT_ABORTED) and its response never sent.
    // Node's own clientError default does the same. Whether the backend saw the first request is a race.
    name: 'pipelined in one write: a valid request, then a duplicate Content-Length',
    steps: head('GET /first HTTP/1.1', HOST) + head('POST /second HTTP/1.1', HOST, 'Content-Length: 1', 'Content-Length: 1') + 'x',
    expect: 400,
    backendMayReceive: true,
    check: (a) => expect(a.data.toString('latin1').match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1),
  },
  // --- header names and values ---
  { name: 'space in a header name', steps: head('GET / HTTP/1.1', HOST, 'Bad Name: x'), expect: 400 },
  { name: 'space before the colon', steps: head('GET / HTTP/1.1', 'Host : 127.0.0.1'), expect: 400 },
  { name: 'header line without a colon', steps: head('GET / HTTP/1.1', HOST, 'NoColonHere'), expect: 400 },
  { name: 'non-ASCII header name', steps: bytes('GET / HTTP/1.1', HOST, 'X-Caf\xe9: 1'), expect: 400 },
  { name: 'NUL in a header value', steps: head('GET / HTTP/1.1', HOST, 'X-A: a\0b'), expect: 400 },
  { name: 'CTL 0x01 in a header value', steps: head('GET / HTTP/1.1', HOST, 'X-A: a\x01b'), expect: 400 },
  { name: 'DEL in a header value', steps: head('GET / HTTP/1.1', HOST, 'X-A: a\x7fb'), expect: 400 },
  { name: 'bare CR inside a header value', steps: head('GET / HTTP/1.1', HOST, 'X-A: a\rX-B: b'), expect: 400 },
  {
    name: 'invalid UTF-8 in a header value (obs-text, allowed by RFC 9110): forwarded byte for byte',
    steps: bytes('GET /utf8 HTTP/1.1', HOST, 'X-Bin: \xff\xfe\xc0\xaf', 'Connection: close'),
    expect: 200,
    backendMayReceive: true,
    check: (_a, w) => {
      // Node reads header bytes as latin1 on both sides; the backend got exactly the four bytes sent.
      expect(w.requests).toHaveLength(1);
      expect(Buffer.from(w.requests[0]!['x-bin'] as string, 'latin1')).toEqual(Buffer.from([0xff, 0xfe, 0xc0, 0xaf]));
    },
  },
  // --- sizes ---
  { name: 'one 17 KiB header (over Node maxHeaderSize)', steps: head('GET / HTTP/1.1', HOST, `X-Big: ${big(17 * 1024)}`), expect: 431 },
  { name: 'a 17 KiB URL (Node counts it in the header section)', steps: head(`GET /${big(17 * 1024)} HTTP/1.1`, HOST), expect: 431 },
  { name: 'a 9 KiB URL (over maxUrlLength 8192)', steps: head(`GET /${big(9 * 1024)} HTTP/1.1`, HOST), expect: 414 },
  { name: '101 header lines (over maxHeaderCount 100)', steps: head('GET / HTTP/1.1', HOST, ...Array.from({ length: 100 }, (_, i) => `X-${i}: v`)), expect: 431 },
  { name: '2000 short header lines (Node silently drops past ~1000)', steps: head('GET / HTTP/1.1', HOST, ...Array.from({ length: 2000 }, () => 'a:b')), expect: 431 },
  // --- Host ---
  { name: 'HTTP/1.1 without Host', steps: head('GET / HTTP/1.1'), expect: 400 },
  { name: 'duplicate Host', steps: head('GET / HTTP/1.1', HOST, 'Host: evil.example'), expect: 400 },
  { name: 'Host with a space', steps: head('GET / HTTP/1.1', 'Host: a b'), expect: 400 },
  { name: 'Host with userinfo', steps: head('GET / HTTP/1.1', 'Host: user@evil.example'), expect: 400 },
  // --- WebSocket handshakes ---
  { name: 'upgrade without Sec-WebSocket-Key', steps: wsWithout('Sec-WebSocket-Key'), expect: 400 },
  { name: 'Sec-WebSocket-Key of 8 bytes', steps: wsWithout('Sec-WebSocket-Key', 'Sec-WebSocket-Key: c2hvcnRrZXk='), expect: 400 },
  { name: 'Sec-WebSocket-Key with a non-base64 character', steps: wsWithout('Sec-WebSocket-Key', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!=='), expect: 400 },
  { name: 'two Sec-WebSocket-Key headers', steps: ws('/ws', `Sec-WebSocket-Key: ${WS_KEY}`), expect: 400 },
  {
    name: 'Sec-WebSocket-Version 8',
    steps: wsWithout('Sec-WebSocket-Version', 'Sec-WebSocket-Version: 8'),
    expect: 426,
    check: (a) => expect(a.data.toString('latin1')).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/),
  },
  { name: 'no Sec-WebSocket-Version', steps: wsWithout('Sec-WebSocket-Version'), expect: 426 },
  { name: 'upgrade with POST', steps: head('POST /ws HTTP/1.1', HOST, ...WS_HEADERS, 'Content-Length: 0'), expect: 400 },
  { name: 'upgrade with a Content-Length body', steps: ws('/ws', 'Content-Length: 5') + 'hello', expect: 400 },
  { name: 'upgrade with a chunked body', steps: ws('/ws', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\n\r\n', expect: 400 },
  { name: 'Upgrade: websocket without Connection: upgrade', steps: wsWithout('Connection'), expect: 400 },
  { name: 'upgrade to h2c', steps: head('GET / HTTP/1.1', HOST, 'Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA'), expect: 400 },
  { name: 'upgrade with an absolute-form target', steps: ws('http://evil.example/ws'), expect: 400 },
  // --- early close ---
  { name: 'FIN in the middle of the request line', steps: ['GET /pa', { end: true }], expect: 'close' },
  { name: 'FIN in the middle of the headers', steps: ['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b', { end: true }], expect: 'close' },
  { name: 'reset in the middle of a WebSocket handshake', steps: ['GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n', { wait: 20 }, { reset: true }], expect: 'close' },
  // --- garbage after the handshake ---
  {
    name: 'unmasked frame right after a valid handshake: backend closes with 1002, relayed',
    steps: [ws(), { wait: 100 }, wsFrame(0x1, 'hello', { masked: false })],
    expect: 101,
    backendMayReceive: true,
    timeoutMs: 400,
    check: (a) => expect(firstCloseCode(afterHead(a.data))).toBe(1002),
  },
  {
    name: 'random garbage in the same write as the handshake: backend closes with 1002, relayed',
    steps: Buffer.concat([Buffer.from(ws()), Buffer.from('\xff\xfe garbage, not a frame \x00\x01', 'latin1')]),
    expect: 101,
    backendMayReceive: true,
    timeoutMs: 400,
    check: (a) => expect(firstCloseCode(afterHead(a.data))).toBe(1002),
  },
  // --- frames that break RFC 6455 after a valid handshake (issue 10 item 2): the proxy closes with 1002 itself and
  // relays neither the bad frame nor what follows it ---
  {
    name: 'a ping over 125 bytes, then a 1 MiB frame: 1002 from the proxy, neither frame relayed',
    steps: [ws(), { wait: 100 }, Buffer.concat([wsFrame(0x9, Buffer.alloc(126)), wsFrame(0x2, Buffer.alloc(1024 * 1024))])],
    expect: 101,
    backendMayReceive: true,
    timeoutMs: 1500,
    check: (a, w) => {
      expect(firstCloseCode(afterHead(a.data))).toBe(1002);
      // The handshake request and the proxy's close frame: not the 1 MiB.
      expect(w.backend.bytes).toBeLessThan(4096);
    },
  },
  {
    name: 'a fragmented ping, then a 1 MiB frame: 1002 from the proxy, neither frame relayed',
    steps: [ws(), { wait: 100 }, Buffer.concat([wsFrame(0x9, 'p', { fin: false }), wsFrame(0x2, Buffer.alloc(1024 * 1024))])],
    expect: 101,
    backendMayReceive: true,
    timeoutMs: 1500,
    check: (a, w) => {
      expect(firstCloseCode(afterHead(a.data))).toBe(1002);
      expect(w.backend.bytes).toBeLessThan(4096);
    },
  },
  // --- not HTTP at all ---
  { name: 'a TLS ClientHello on the plain-text port', steps: CLIENT_HELLO, expect: 400 },
  { name: 'PROXY v1 header to a proxy without proxyProtocol', steps: proxyV1('6.6.6.6', '10.0.0.1', 4444, 80) + head('GET / HTTP/1.1', HOST), expect: 400 },
  { name: 'PROXY v1 header from an untrusted peer', proxy: 'pp', steps: proxyV1('6.6.6.6', '10.0.0.1', 4444, 80) + head('GET / HTTP/1.1', HOST), expect: 400 },
  {
    name: 'PROXY v2 header from an untrusted peer',
    proxy: 'pp',
    steps: Buffer.concat([proxyV2({ src: '6.6.6.6', dst: '10.0.0.1', srcPort: 4444, dstPort: 80 }), Buffer.from(head('GET / HTTP/1.1', HOST))]),
    expect: 400,
  },
  // --- forged client identity (the request goes through; the backend sees the real peer) ---
  {
    name: 'forged X-Forwarded-For / Forwarded / X-Forwarded-Proto / -Host from an untrusted peer',
    steps: head('GET /who HTTP/1.1', HOST, 'X-Forwarded-For: 6.6.6.6', 'Forwarded: for=6.6.6.6;proto=https', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.example', 'Connection: close'),
    expect: 200,
    backendMayReceive: true,
    check: (_a, w) => {
      expect(w.requests).toHaveLength(1);
      const h = w.requests[0]!;
      expect(h['x-forwarded-for']).toBe('127.0.0.1');
      expect(h['x-forwarded-proto']).toBe('http');
      expect(h['x-forwarded-host']).toBe('127.0.0.1');
      expect(h['forwarded']).toBeUndefined();
    },
  },
  {
    name: 'forged X-Forwarded-For on a WebSocket upgrade',
    steps: [ws('/ws', 'X-Forwarded-For: 6.6.6.6, 10.0.0.1'), { wait: 150 }],
    expect: 101,
    backendMayReceive: true,
    timeoutMs: 100,
    check: (_a, w) => {
      expect(w.upgrades).toHaveLength(1);
      expect(w.upgrades[0]!['x-forwarded-for']).toBe('127.0.0.1');
    },
  },
  {
    name: 'forged X-Forwarded-For through the proxyProtocol listener (untrusted peer, no PROXY header)',
    proxy: 'pp',
    steps: head('GET /who HTTP/1.1', HOST, 'X-Forwarded-For: 6.6.6.6', 'Connection: close'),
    expect: 200,
    backendMayReceive: true,
    check: (_a, w) => expect(w.requests[0]!['x-forwarded-for']).toBe('127.0.0.1'),
  },
  // --- slowloris ---
  {
    name: 'a connection that never sends a byte',
    steps: [],
    expect: 408,
    timeoutMs: 3000,
    check: (a) => expect(a.elapsed).toBeLessThan(HEADERS_TIMEOUT + 700),
  },
  {
    name: 'headers dribbled one byte per 40 ms (slowloris)',
    steps: dribble('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 3000),
    expect: 408,
    timeoutMs: 3000,
    check: (a) => {
      expect(a.elapsed).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 50);
      expect(a.elapsed).toBeLessThan(HEADERS_TIMEOUT + 700);
    },
  },
  {
    name: 'WebSocket handshake dribbled (slowloris on upgrades)',
    steps: dribble('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: ', 3000),
    expect: 408,
    timeoutMs: 3000,
    check: (a) => expect(a.elapsed).toBeLessThan(HEADERS_TIMEOUT + 700),
  },
  {
    name: 'headers dribbled to the proxyProtocol listener',
    proxy: 'pp',
    steps: dribble('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 3000),
    expect: 408,
    timeoutMs: 3000,
    check: (a) => expect(a.elapsed).toBeLessThan(HEADERS_TIMEOUT + 700),
  },
];

describe('hostile inputs over raw TCP', () => {
  const shared = new Resources();
  const res = new Resources();
  let world: World;

  beforeAll(async () => {
    const backend = await startCountingBackend(shared, 'a');
    const requests: IncomingHttpHeaders[] = [];
    const upgrades: IncomingHttpHeaders[] = [];
    const errors: SwitchboardError[] = [];
    backend.inner.server.prependListener('request', (req) => requests.push(req.headers));
    backend.inner.server.prependListener('upgrade', (req) => upgrades.push(req.headers));
    // The ws server emits 'error' on a connection that receives an invalid frame; keep the backend alive.
    backend.inner.wss.on('connection', (sock) => sock.on('error', () => undefined));
    const plain = await startProxy(shared, { backends: [backend.url], clientHeadersTimeout: HEADERS_TIMEOUT });
    const pp = await startProxy(shared, { backends: [backend.url], clientHeadersTimeout: HEADERS_TIMEOUT, proxyProtocol: true, trustProxy: ['10.0.0.0/8'] });
    for (const p of [plain, pp]) p.proxy.on('error', (e) => errors.push(e));
    world = { backend, plain, pp, requests, upgrades, errors };
  });
  afterAll(() => shared.cleanup());

  beforeEach(() => {
    world.backend.reset();
    world.requests.length = 0;
    world.upgrades.length = 0;
  });

  afterEach(async () => {
    // Whatever came before, both proxies still serve a normal request and a normal WebSocket echo.
    for (const p of [world.plain, world.pp]) {
      const r = await httpRequest(`${p.url}/after`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ id: 'a', url: '/after' });
      const client = await openWs(res, p.wsUrl);
      expect(await roundTrip(client, 'still alive')).toBe('still alive');
      client.close();
      await once(client, 'close');
    }
    await res.cleanup();
    await waitFor(() => world.plain.proxy.connections().length === 0 && world.pp.proxy.connections().length === 0, 3000, 'empty tables');
  });

  it(`has at least 40 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const target = c.proxy === 'pp' ? world.pp : world.plain;
    const answer = await rawExchange(target.port, c.steps, c.timeoutMs ?? 3000);
    if (c.expect === 'close') {
      expect(answer.closed).toBe(true);
      expect(answer.data.toString('latin1')).toBe('');
    } else {
      expect(answer.status).toBe(c.expect);
      if (c.expect >= 400) {
        expect(answer.closed).toBe(true);
        expect(answer.data.toString('latin1')).toMatch(/\r\nConnection: close\r\n/i);
        // Error answers never reveal the backend's address or port.
        const text = answer.data.toString('latin1');
        expect(text).not.toContain(String(world.backend.port));
        expect(text).not.toContain(String(world.backend.inner.port));
        expect(bodyOf(answer)).not.toMatch(/127\.0\.0\.1/);
      }
    }
    // Give a wrongly forwarded request time to show up at the backend before counting.
    await new Promise((r) => setTimeout(r, 30));
    if (c.backendMayReceive !== true) {
      expect({ connections: world.backend.connections, bytes: world.backend.bytes }).toEqual({ connections: 0, bytes: 0 });
    }
    c.check?.(answer, world);
    await waitFor(() => target.proxy.connections().length === 0, 3000, 'an empty table');
  });
});
