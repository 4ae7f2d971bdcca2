/**
 * Fuzzing the listener with fast-check, bounded in runs and time: random bytes, mutated HTTP requests, and valid
 * or mutated WebSocket handshakes followed by random frames, against three listeners (defaults; message limits;
 * PROXY protocol from a trusted peer). After every run the proxy still serves a normal request, its table is
 * empty once the client is gone, no backend WebSocket outlives its client, and every error the proxy reported is
 * a SwitchboardError. At the end the backend's socket count is back to its baseline, zero (the backend closes
 * every HTTP connection after its response). That last check waits for undici's idle timeout: when a client
 * leaves mid-request (a FIN right after a request counts: Node's http.Server does not allow half-open clients,
 * like nginx's 499), the pool destroys that backend connection and may open a fresh idle one, which lives for
 * undici's keepAliveTimeout (4 s).
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fc from 'fast-check';
import { isSwitchboardError, type Proxy } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { startCountingBackend, type CountingBackend } from './helpers/counting-backend';
import { proxyV1 } from './helpers/proxy-header';
import { WS_HEADERS, rawExchange, type RawStep } from './helpers/raw';
import { Resources, openWs, roundTrip, startProxy, waitFor } from './helpers/servers';

type Target = 'plain' | 'limited' | 'pp';
const TARGETS: readonly Target[] = ['plain', 'limited', 'pp'];

/** Per property: runs and wall-clock budget (the whole file stays under ~20 s). */
const RUN = { numRuns: Number(process.env.FUZZ_RUNS ?? 150), interruptAfterTimeLimit: Number(process.env.FUZZ_MS ?? 4500), markInterruptAsFailure: false } as const;
/** How long one run waits for the proxy to close the connection before the client gives up and resets. */
const RUN_WAIT = 150;

/** The echo backend, but closing every HTTP connection after its response, so idle means zero backend sockets. */
function closingEcho(req: IncomingMessage, res: ServerResponse, backend: { id: string }): void {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ id: backend.id, url: req.url }));
  });
  req.on('error', () => res.destroy());
}

// --- generators ---

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);
const fieldValue = fc.stringMatching(/^[ -~]{0,24}$/).map((v) => v.trim());

/** A valid HTTP/1.1 request (Connection: close, so a forwarded one ends by itself). */
const validRequest = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
    path: fc.stringMatching(/^\/[A-Za-z0-9._~\/?=&-]{0,30}$/),
    headers: fc.array(fc.tuple(token, fieldValue), { maxLength: 5 }),
    body: fc.stringMatching(/^[ -~]{0,40}$/),
    chunked: fc.boolean(),
  })
  .map(({ method, path, headers, body, chunked }) => {
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([n, v]) => `X-${n}: ${v}`), 'Connection: close'];
    if (method === 'POST' || method === 'PUT') {
      if (chunked) return Buffer.from([...lines, 'Transfer-Encoding: chunked', '', `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`].join('\r\n'));
      return Buffer.from([...lines, `Content-Length: ${body.length}`, '', body].join('\r\n'));
    }
    return Buffer.from([...lines, '', ''].join('\r\n'));
  });

/** Tokens that matter to an HTTP parser, inserted by mutations. */
const NASTY = [
  '\r\n', '\n', '\r', ' ', '\t', ':', '\0', '\x7f', '\xff', '\r\n\r\n', ' \r\n',
  'Transfer-Encoding: chunked\r\n', 'Content-Length: 5\r\n', 'Content-Length: -1\r\n', 'Host: evil\r\n',
  'Upgrade: websocket\r\nConnection: Upgrade\r\n', 'HTTP/1.0', 'HTTP/2.0', '0\r\n\r\n', 'X-Forwarded-For: 6.6.6.6\r\n',
].map((s) => Buffer.from(s, 'latin1'));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('nasty' as const), at: fc.nat(), bytes: fc.constantFrom(...NASTY) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let buf = input;
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : m.at % buf.length;
    switch (m.kind) {
      case 'set':
        buf = Buffer.from(buf);
        if (buf.length > 0) buf[at] = m.byte;
        break;
      case 'insert':
      case 'nasty':
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.length)]);
        break;
      case 'repeat':
        buf = Buffer.concat([buf.subarray(0, at + m.length), buf.subarray(at)]);
        break;
    }
  }
  return buf;
}

/** One WebSocket frame with arbitrary header bits, possibly unmasked, possibly with a truncated payload. */
const frame = fc
  .record({
    opcode: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0x0, 0x1, 0x2, 0x8, 0x9, 0xa) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
    fin: fc.boolean(),
    rsv: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
    masked: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    length: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 200 }) }, { weight: 2, arbitrary: fc.integer({ min: 126, max: 9000 }) }),
    /** Bytes cut off the end: a frame whose header promises more than is sent. */
    cut: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }) }),
    seed: fc.integer(),
  })
  .map(({ opcode, fin, rsv, masked, length, cut, seed }) => {
    const payload = Buffer.alloc(length);
    let x = seed | 1;
    for (let i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      payload[i] = x & 0xff;
    }
    const form = length > 65535 ? 127 : length > 125 ? 126 : length;
    const header = Buffer.alloc(2 + (form === 127 ? 8 : form === 126 ? 2 : 0) + (masked ? 4 : 0));
    header[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
    header[1] = (masked ? 0x80 : 0) | form;
    if (form === 126) header.writeUInt16BE(length, 2);
    if (form === 127) header.writeBigUInt64BE(BigInt(length), 2);
    if (masked) header.writeInt32BE(seed, header.length - 4);
    const out = Buffer.concat([header, payload]);
    return out.subarray(0, Math.max(0, out.length - cut));
  });

/** Splits `buf` into writes at the given fractions, with a short pause between them (frames across reads). */
function split(buf: Buffer, cuts: readonly number[]): RawStep[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * buf.length)))].sort((a, b) => a - b);
  const steps: RawStep[] = [];
  let from = 0;
  for (const p of points) {
    if (p <= from) continue;
    steps.push(buf.subarray(from, p), { wait: 2 });
    from = p;
  }
  steps.push(buf.subarray(from));
  return steps;
}

const HANDSHAKE = Buffer.from(['GET /ws HTTP/1.1', 'Host: 127.0.0.1', ...WS_HEADERS, '', ''].join('\r\n'));

describe('fuzzing the listener (fast-check, bounded)', () => {
  const shared = new Resources();
  const res = new Resources();
  let backend: CountingBackend;
  const proxies = {} as Record<Target, { proxy: Proxy; port: number; url: string; wsUrl: string }>;
  const reported: unknown[] = [];

  beforeAll(async () => {
    backend = await startCountingBackend(shared, 'a', closingEcho);
    // Backend-side WebSockets see garbage frames and emit 'error'; keep the backend alive.
    backend.inner.wss.on('connection', (ws) => ws.on('error', () => undefined));
    proxies.plain = await startProxy(shared, { backends: [backend.url], clientHeadersTimeout: 1000 });
    proxies.limited = await startProxy(shared, { backends: [backend.url], clientHeadersTimeout: 1000, maxFramePayload: 1024, maxMessageSize: 4096 });
    proxies.pp = await startProxy(shared, { backends: [backend.url], clientHeadersTimeout: 1000, proxyProtocol: true, trustProxy: ['loopback'] });
    for (const t of TARGETS) proxies[t].proxy.on('error', (e) => reported.push(e));
  });
  afterAll(() => shared.cleanup());

  /** Runs last: once every client is gone and the pool has idled out, the backend holds no socket at all. */
  function backendBackToBaseline(): void {
    it('leaves the backend socket count back at its baseline (0) once the pool has idled out', async () => {
      // Idle pooled connections are bounded by what the proxy had in flight, never one per fuzz run.
      expect(maxIdleBackendSockets).toBeLessThanOrEqual(4);
      await waitFor(() => backend.open.size === 0 && backend.inner.sockets.size === 0, 6000, 'no backend socket');
      expect(TARGETS.map((t) => proxies[t].proxy.connections().length)).toEqual([0, 0, 0]);
    }, 10_000);
  }

  /** Most backend sockets seen open at once after a run settled (idle pooled HTTP connections only). */
  let maxIdleBackendSockets = 0;

  /** What every run must leave behind: empty tables, no backend WebSocket. */
  async function settled(): Promise<void> {
    await waitFor(
      () => TARGETS.every((t) => proxies[t].proxy.connections().length === 0) && backend.inner.wss.clients.size === 0,
      3000,
      'empty tables and no backend WebSocket left',
    );
    maxIdleBackendSockets = Math.max(maxIdleBackendSockets, backend.open.size);
  }

  async function healthy(target: Target): Promise<void> {
    if (target === 'pp') {
      const answer = await rawExchange(proxies.pp.port, Buffer.from(proxyV1('203.0.113.1', '10.0.0.1', 1234, 80) + 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      expect(answer.status).toBe(200);
    } else {
      const r = await httpRequest(`${proxies[target].url}/health`);
      expect(r.status).toBe(200);
    }
  }

  beforeEach(async () => {
    await settled();
    reported.length = 0;
  });

  afterEach(async () => {
    // A normal request and a normal WebSocket echo on the two plain listeners, then nothing left open.
    for (const t of ['plain', 'limited'] as const) {
      const ws = await openWs(res, proxies[t].wsUrl);
      expect(await roundTrip(ws, 'ok?')).toBe('ok?');
      ws.close();
      await once(ws, 'close');
      await healthy(t);
    }
    await healthy('pp');
    await res.cleanup();
    await settled();
    expect(reported.filter((e) => !isSwitchboardError(e))).toEqual([]);
  });

  /** Sends one input (with a PROXY header first on the pp listener), then checks the proxy is healthy and clean. */
  async function throwAt(target: Target, steps: RawStep[], fin: boolean): Promise<void> {
    const all = target === 'pp' ? [proxyV1('198.51.100.9', '10.0.0.1', 4321, 80), ...steps] : steps;
    await rawExchange(proxies[target].port, fin ? [...all, { end: true }] : all, RUN_WAIT);
    await settled();
    await healthy(target);
    await settled();
  }

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TARGETS), fc.uint8Array({ maxLength: 2048 }), fc.boolean(), fc.boolean(), async (target, bytes, fin, withProxyHeader) => {
        // On the pp listener the random bytes meet the PROXY header parser unless a valid header goes first.
        const steps: RawStep[] = [Buffer.from(bytes)];
        if (target === 'pp' && !withProxyHeader) {
          await rawExchange(proxies.pp.port, fin ? [...steps, { end: true }] : steps, RUN_WAIT);
          await settled();
          await healthy('pp');
          return;
        }
        await throwAt(target, steps, fin);
      }),
      RUN,
    );
  }, 15_000 + Number(process.env.FUZZ_MS ?? 0));

  it('mutations of a valid HTTP request', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TARGETS), validRequest, fc.array(mutation, { maxLength: 4 }), fc.boolean(), async (target, request, mutations, fin) => {
        await throwAt(target, [mutate(request, mutations)], fin);
      }),
      RUN,
    );
  }, 15_000 + Number(process.env.FUZZ_MS ?? 0));

  it('a (possibly mutated) WebSocket handshake followed by random frames, split across reads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TARGETS),
        fc.oneof({ weight: 3, arbitrary: fc.constant([] as Mutation[]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 2 }) }),
        fc.array(frame, { maxLength: 8 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        fc.boolean(),
        async (target, mutations, frames, garbage, cuts, fin) => {
          const bytes = Buffer.concat([mutate(HANDSHAKE, mutations), ...frames, Buffer.from(garbage)]);
          await throwAt(target, split(bytes, cuts), fin);
        },
      ),
      RUN,
    );
  }, 15_000 + Number(process.env.FUZZ_MS ?? 0));

  backendBackToBaseline();
});
