import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import { InvalidOptionError } from '../../../src/errors';
import {
  createRequestGuard,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_URL_LENGTH,
  statusForClientError,
  type GuardedRequest,
} from '../../../src/edge/request-guard';

const H = 'Host: a\r\n';
const WS = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

function request(rawHeaders: string[], extra: Partial<GuardedRequest> = {}): GuardedRequest {
  return { httpVersionMajor: 1, httpVersionMinor: 1, url: '/', rawHeaders, ...extra };
}

describe('createRequestGuard()', () => {
  const guard = createRequestGuard();

  it('passes an ordinary request', () => {
    expect(guard(request(['Host', 'example.com', 'Accept', '*/*', 'Content-Length', '5']))).toBeUndefined();
    expect(guard(request(['Host', 'example.com:8080', 'Transfer-Encoding', 'Chunked']))).toBeUndefined();
    expect(guard(request(['Host', '[::1]:80', 'X-Obs-Text', '\xff\xfe', 'X-Tab', 'a\tb']))).toBeUndefined();
    expect(guard(request([], { httpVersionMinor: 0 }))).toBeUndefined();
    expect(guard(request(['Host', 'a', 'Upgrade', 'websocket', 'Connection', 'Upgrade', 'Content-Length', '0']))).toBeUndefined();
    expect(guard(request(['Host', 'a', 'Upgrade', 'h2c', 'Content-Length', '5']))).toBeUndefined(); // no Connection: upgrade
  });

  it.each([
    // [why, request, status, reason]
    ['HTTP/0.9', request([], { httpVersionMajor: 0, httpVersionMinor: 9 }), 505, 'unsupported HTTP version'],
    ['HTTP/2.0 request line', request(['Host', 'a'], { httpVersionMajor: 2, httpVersionMinor: 0 }), 505, 'unsupported HTTP version'],
    ['long URL', request(['Host', 'a'], { url: `/${'a'.repeat(DEFAULT_MAX_URL_LENGTH)}` }), 414, 'request target longer than maxUrlLength'],
    ['space in URL', request(['Host', 'a'], { url: '/a b' }), 400, 'invalid character in request target'],
    ['DEL in URL', request(['Host', 'a'], { url: '/a\x7f' }), 400, 'invalid character in request target'],
    ['too many headers', request(['Host', 'a', ...Array.from({ length: DEFAULT_MAX_HEADER_COUNT }, () => ['X', 'y']).flat()]), 431, 'more header fields than maxHeaderCount'],
    ['header name with space', request(['Host', 'a', 'X A', 'b']), 400, 'invalid header name'],
    ['empty header name', request(['Host', 'a', '', 'b']), 400, 'invalid header name'],
    ['non-ASCII header name', request(['Host', 'a', 'X\xe9', 'b']), 400, 'invalid header name'],
    ['NUL in value', request(['Host', 'a', 'X', 'a\x00b']), 400, 'invalid character in header value'],
    ['0x01 in value', request(['Host', 'a', 'X', 'a\x01b']), 400, 'invalid character in header value'],
    ['0x1f in value', request(['Host', 'a', 'X', 'a\x1fb']), 400, 'invalid character in header value'],
    ['DEL in value', request(['Host', 'a', 'X', 'a\x7fb']), 400, 'invalid character in header value'],
    ['bare CR in value', request(['Host', 'a', 'X', 'a\rb']), 400, 'invalid character in header value'],
    ['bare LF in value', request(['Host', 'a', 'X', 'a\nb']), 400, 'invalid character in header value'],
    ['duplicate CL, different', request(['Host', 'a', 'Content-Length', '5', 'content-length', '6']), 400, 'duplicate Content-Length'],
    ['duplicate CL, equal', request(['Host', 'a', 'Content-Length', '5', 'Content-Length', '5']), 400, 'duplicate Content-Length'],
    ['CL list', request(['Host', 'a', 'Content-Length', '5, 5']), 400, 'invalid Content-Length'],
    ['CL sign', request(['Host', 'a', 'Content-Length', '+5']), 400, 'invalid Content-Length'],
    ['CL empty', request(['Host', 'a', 'Content-Length', '']), 400, 'invalid Content-Length'],
    ['CL + TE', request(['Host', 'a', 'Content-Length', '5', 'Transfer-Encoding', 'chunked']), 400, 'both Content-Length and Transfer-Encoding'],
    ['TE + CL', request(['Host', 'a', 'TRANSFER-ENCODING', 'chunked', 'CONTENT-LENGTH', '5']), 400, 'both Content-Length and Transfer-Encoding'],
    ['TE twice', request(['Host', 'a', 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']), 400, 'duplicate Transfer-Encoding'],
    ['TE gzip', request(['Host', 'a', 'Transfer-Encoding', 'gzip']), 400, 'Transfer-Encoding other than chunked'],
    ['TE gzip, chunked', request(['Host', 'a', 'Transfer-Encoding', 'gzip, chunked']), 400, 'Transfer-Encoding other than chunked'],
    ['TE chunked, gzip', request(['Host', 'a', 'Transfer-Encoding', 'chunked, gzip']), 400, 'Transfer-Encoding other than chunked'],
    ['TE chunked;x=1', request(['Host', 'a', 'Transfer-Encoding', 'chunked;x=1']), 400, 'Transfer-Encoding other than chunked'],
    ['TE identity', request(['Host', 'a', 'Transfer-Encoding', 'identity']), 400, 'Transfer-Encoding other than chunked'],
    ['TE on HTTP/1.0', request(['Transfer-Encoding', 'chunked'], { httpVersionMinor: 0 }), 400, 'Transfer-Encoding in an HTTP/1.0 request'],
    ['duplicate Host', request(['Host', 'a', 'Host', 'b']), 400, 'duplicate Host'],
    ['missing Host', request([]), 400, 'missing Host'],
    ['Host with space', request(['Host', 'a b']), 400, 'invalid Host'],
    ['Host with slash', request(['Host', 'a/b']), 400, 'invalid Host'],
    ['Host with userinfo', request(['Host', 'user@a']), 400, 'invalid Host'],
    ['upgrade with CL body', request(['Host', 'a', 'Upgrade', 'websocket', 'Connection', 'Upgrade', 'Content-Length', '5']), 400, 'upgrade request with a body'],
    ['upgrade with chunked body', request(['Host', 'a', 'Upgrade', 'websocket', 'Connection', 'keep-alive, Upgrade', 'Transfer-Encoding', 'chunked']), 400, 'upgrade request with a body'],
  ] as const)('refuses %s', (_why, req, status, reason) => {
    expect(guard(req)).toEqual({ status, reason });
  });

  it('honours maxUrlLength and maxHeaderCount', () => {
    const strict = createRequestGuard({ maxUrlLength: 10, maxHeaderCount: 2 });
    expect(strict(request(['Host', 'a'], { url: '/123456789' }))).toBeUndefined();
    expect(strict(request(['Host', 'a'], { url: '/1234567890' }))).toMatchObject({ status: 414 });
    expect(strict(request(['Host', 'a', 'X', 'y']))).toBeUndefined();
    expect(strict(request(['Host', 'a', 'X', 'y', 'Z', 'z']))).toMatchObject({ status: 431 });
  });

  it.each([
    [{ maxUrlLength: 0 }, 'maxUrlLength must be a positive integer, got 0'],
    [{ maxUrlLength: 1.5 }, 'maxUrlLength must be a positive integer, got 1.5'],
    [{ maxHeaderCount: -1 }, 'maxHeaderCount must be a positive integer, got -1'],
    [{ maxHeaderCount: Number.NaN }, 'maxHeaderCount must be a positive integer, got NaN'],
  ])('refuses the options %j', (options, message) => {
    expect(() => createRequestGuard(options)).toThrow(InvalidOptionError);
    expect(() => createRequestGuard(options)).toThrow(message);
  });

  it('never throws on random headers', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 30 }), fc.string({ maxLength: 30 }), (raw, url) => {
        const r = guard(request(raw.length % 2 === 0 ? raw : raw.slice(1), { url }));
        if (r !== undefined) expect([400, 414, 431, 505]).toContain(r.status);
      }),
      { numRuns: 500, interruptAfterTimeLimit: 800 },
    );
  });
});

describe('statusForClientError()', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_INVALID_HEADER_TOKEN', 400],
    ['HPE_INVALID_METHOD', 400],
    ['HPE_INVALID_EOF_STATE', undefined],
    ['ECONNRESET', undefined],
    [undefined, undefined],
  ])('%s -> %s', (code, status) => {
    expect(statusForClientError(code === undefined ? {} : { code })).toBe(status);
  });
});

/** What one connection saw: the status lines the client got, and what the server let through. */
interface Exchange {
  statuses: string[];
  events: string[];
}

describe('on a real node:http server', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => { s.closeAllConnections(); return new Promise((r) => s.close(r)); }));
  });

  /**
   * A server wired the way the proxy should be: guard first in both paths, and a clientError listener that
   * answers with statusForClientError. `guarded: false` gives Node's own behaviour (no guard, no listener).
   */
  async function serve(options: ServerOptions, guarded: boolean): Promise<Server> {
    const guard = createRequestGuard();
    // Connections already answered: the parser may still fail on the body bytes behind a refused request, and
    // that clientError must not write a second response (Node's default handler makes the same check).
    const answered = new WeakSet<Socket>();
    const server = createServer(options, (req: IncomingMessage, res) => {
      req.on('error', () => {});
      const rejection = guarded ? guard(req) : undefined;
      if (rejection !== undefined) {
        answered.add(req.socket);
        res.writeHead(rejection.status, { connection: 'close' }).end();
        return;
      }
      (server as Server & { events: string[] }).events.push('forwarded');
      req.resume();
      req.on('end', () => res.end());
    });
    (server as Server & { events: string[] }).events = [];
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      socket.on('error', () => {});
      const rejection = guarded ? guard(req) : undefined;
      if (rejection !== undefined) {
        socket.end(`HTTP/1.1 ${rejection.status} \r\nConnection: close\r\n\r\n`);
        return;
      }
      (server as Server & { events: string[] }).events.push('upgraded');
      socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n');
    });
    if (guarded) {
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
        (server as Server & { events: string[] }).events.push(`clientError ${err.code ?? ''}`);
        const status = statusForClientError(err);
        if (status !== undefined && socket.writable && !answered.has(socket)) socket.write(`HTTP/1.1 ${status} \r\nConnection: close\r\n\r\n`);
        socket.destroy();
      });
    }
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return server;
  }

  async function exchange(server: Server, bytes: string, waitMs = 300): Promise<Exchange> {
    const events = (server as Server & { events: string[] }).events;
    events.length = 0;
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    sockets.push(client);
    client.on('error', () => {});
    const chunks: Buffer[] = [];
    client.write(Buffer.from(bytes, 'latin1'));
    await new Promise<void>((resolve) => {
      let t = setTimeout(resolve, waitMs);
      client.on('data', (c: Buffer) => {
        chunks.push(c);
        // A kept-alive connection stays open after its answer; a moment more catches a second, wrong, response.
        clearTimeout(t);
        t = setTimeout(resolve, 50);
      });
      client.on('close', () => { clearTimeout(t); resolve(); });
    });
    client.destroy();
    const text = Buffer.concat(chunks).toString('latin1');
    return { statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]), events: [...events] };
  }

  // The canary: if a Node upgrade changes any of these, the table at the top of request-guard.ts is stale.
  describe("Node's own parser (the table in request-guard.ts)", () => {
    it.each([
      ['obs-fold', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, '400', 'clientError HPE_INVALID_HEADER_TOKEN'],
      ['CL + TE', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, '400', 'clientError HPE_INVALID_TRANSFER_ENCODING'],
      ['TE + CL', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, '400', 'clientError HPE_INVALID_CONTENT_LENGTH'],
      ['duplicate CL, equal', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, '400', 'clientError HPE_UNEXPECTED_CONTENT_LENGTH'],
      ['CL "5, 5"', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`, '400', 'clientError HPE_INVALID_CONTENT_LENGTH'],
      ['TE chunked, gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, '400', 'clientError HPE_INVALID_TRANSFER_ENCODING'],
      ['invalid header name', `GET / HTTP/1.1\r\n${H}X@A: b\r\n\r\n`, '400', 'clientError HPE_INVALID_HEADER_TOKEN'],
      ['space before colon', `GET / HTTP/1.1\r\n${H}X : b\r\n\r\n`, '400', 'clientError HPE_INVALID_HEADER_TOKEN'],
      ['0x01 in value', `GET / HTTP/1.1\r\n${H}X: a\x01b\r\n\r\n`, '400', 'clientError HPE_INVALID_HEADER_TOKEN'],
      ['DEL in value', `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`, '400', 'clientError HPE_INVALID_HEADER_TOKEN'],
      ['bare LF', `GET / HTTP/1.1\r\n${H}X: a\nY: b\r\n\r\n`, '400', 'clientError HPE_CR_EXPECTED'],
      ['header section over 16 KiB', `GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(17 * 1024)}\r\n\r\n`, '431', 'clientError HPE_HEADER_OVERFLOW'],
      ['URL over 16 KiB', `GET /${'a'.repeat(17 * 1024)} HTTP/1.1\r\n${H}\r\n`, '431', 'clientError HPE_HEADER_OVERFLOW'],
      ['unknown method', `FOO / HTTP/1.1\r\n${H}\r\n`, '400', 'clientError HPE_INVALID_METHOD'],
      ['TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', '400', 'clientError HPE_INVALID_METHOD'],
      ['HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`, '400', 'clientError HPE_INVALID_VERSION'],
      ['NUL in URL', `GET /a\x00 HTTP/1.1\r\n${H}\r\n`, '400', 'clientError HPE_INVALID_URL'],
      ['missing Host', 'GET / HTTP/1.1\r\n\r\n', '400', undefined],
    ])('rejects %s itself', async (_name, bytes, status, event) => {
      const [plain, guarded] = [await serve({}, false), await serve({}, true)];
      expect((await exchange(plain, bytes)).statuses).toEqual([status]);
      // With a clientError listener Node writes nothing; statusForClientError gives the same answer back.
      const withListener = await exchange(guarded, bytes);
      expect(withListener).toEqual({ statuses: [status], events: event === undefined ? [] : [event] });
    });

    it.each([
      ['TE gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`],
      ['TE chunked;x=1', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;x=1\r\n\r\n`],
    ])("rejects %s only after 'request' has fired", async (_name, bytes) => {
      const seen: string[] = [];
      const server = await serve({}, false);
      server.prependListener('request', () => seen.push('request'));
      expect((await exchange(server, bytes)).statuses).toEqual(['400']);
      expect(seen).toEqual(['request']);
    });

    it.each([
      ['TE on HTTP/1.0', `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'forwarded'],
      ['duplicate Host', `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\n`, 'forwarded'],
      ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'forwarded'],
      ['URL of 10 KiB', `GET /${'a'.repeat(10 * 1024)} HTTP/1.1\r\n${H}\r\n`, 'forwarded'],
      ['HTTP/0.9', 'GET /\r\n\r\n', 'forwarded'],
      ['HTTP/2.0 request line', `GET / HTTP/2.0\r\n${H}\r\n`, 'forwarded'],
      ['200 header lines', `GET / HTTP/1.1\r\n${H}${'X: y\r\n'.repeat(200)}\r\n`, 'forwarded'],
      ['WebSocket upgrade with a body', `GET / HTTP/1.1\r\n${H}${WS}Content-Length: 5\r\n\r\nhello`, 'upgraded'],
      ['WebSocket upgrade, chunked', `GET / HTTP/1.1\r\n${H}${WS}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'upgraded'],
    ])('lets %s through', async (_name, bytes, event) => {
      const server = await serve({}, false);
      expect((await exchange(server, bytes)).events).toEqual([event]);
    });

    it('drops header lines past about a thousand without a word', async () => {
      let count = -1;
      const server = await serve({}, false);
      server.prependListener('request', (req: IncomingMessage) => { count = req.rawHeaders.length / 2; });
      await exchange(server, `GET / HTTP/1.1\r\n${H}${'X: y\r\n'.repeat(1099)}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThan(1101);
    });

    it('answers a slow header section with 408 after headersTimeout', async () => {
      const options: ServerOptions = { headersTimeout: 200, requestTimeout: 1000, connectionsCheckingInterval: 50 };
      const [plain, guarded] = [await serve(options, false), await serve(options, true)];
      expect((await exchange(plain, 'GET / HTTP/1.1\r\nHo', 1000)).statuses).toEqual(['408']);
      expect(await exchange(guarded, 'GET / HTTP/1.1\r\nHo', 1000)).toEqual({ statuses: ['408'], events: ['clientError ERR_HTTP_REQUEST_TIMEOUT'] });
    });
  });

  describe('with the guard', () => {
    it.each([
      ['TE gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, '400'],
      ['TE on HTTP/1.0', `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, '400'],
      ['duplicate Host', `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\n`, '400'],
      ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', '400'],
      ['URL of 10 KiB', `GET /${'a'.repeat(10 * 1024)} HTTP/1.1\r\n${H}\r\n`, '414'],
      ['HTTP/0.9', 'GET /\r\n\r\n', '505'],
      ['HTTP/2.0 request line', `GET / HTTP/2.0\r\n${H}\r\n`, '505'],
      ['200 header lines', `GET / HTTP/1.1\r\n${H}${'X: y\r\n'.repeat(200)}\r\n`, '431'],
      ['WebSocket upgrade with a body', `GET / HTTP/1.1\r\n${H}${WS}Content-Length: 5\r\n\r\nhello`, '400'],
      ['WebSocket upgrade, chunked', `GET / HTTP/1.1\r\n${H}${WS}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, '400'],
    ])('refuses %s before anything is forwarded', async (_name, bytes, status) => {
      const server = await serve({}, true);
      const { statuses, events } = await exchange(server, bytes);
      expect(statuses).toEqual([status]);
      // A refused TE gzip request still makes the parser fail on its body afterwards (clientError), harmlessly.
      expect(events.filter((e) => !e.startsWith('clientError'))).toEqual([]);
    });

    it('still passes an ordinary request and upgrade', async () => {
      const server = await serve({}, true);
      expect(await exchange(server, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).toEqual({ statuses: ['200'], events: ['forwarded'] });
      expect(await exchange(server, `GET / HTTP/1.1\r\n${H}${WS}\r\n`)).toEqual({ statuses: ['101'], events: ['upgraded'] });
    });

    it.each([
      ['CL + TE', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      ['TE twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      ['TE chunked, gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`],
      ['0x01 in value', `GET / HTTP/1.1\r\n${H}X: a\x01b\r\n\r\n`],
      ['DEL in value', `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`],
    ])('refuses %s even behind insecureHTTPParser', async (_name, bytes) => {
      const [plain, guarded] = [await serve({ insecureHTTPParser: true }, false), await serve({ insecureHTTPParser: true }, true)];
      expect((await exchange(plain, bytes)).events).toEqual(['forwarded']);
      expect(await exchange(guarded, bytes)).toEqual({ statuses: ['400'], events: [] });
    });
  });
});
