import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { InvalidOptionError } from '../../../src/errors';
import { normalizeIp } from '../../../src/edge/ip-address';
import {
  DEFAULT_MAX_PROXY_HEADER_LENGTH,
  parseProxyHeader,
  readProxyHeader,
  type ProxyEndpoint,
  type ProxyHeaderResult,
} from '../../../src/edge/proxy-protocol';

/** Bounds every property so the file stays within a few seconds. */
const RUN = { numRuns: 300, interruptAfterTimeLimit: 700 } as const;

const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

interface V2Spec {
  command: 0 | 1;
  family: 0 | 1 | 2 | 3;
  transport: 0 | 1;
  address: Uint8Array;
  srcPort: number;
  dstPort: number;
  tlvs: { type: number; value: Uint8Array }[];
}

/** Reference v2 encoder, independent of the module under test. */
function encodeV2(spec: V2Spec): Buffer {
  const ports = Buffer.alloc(spec.family === 1 || spec.family === 2 ? 4 : 0);
  if (ports.length > 0) { ports.writeUInt16BE(spec.srcPort, 0); ports.writeUInt16BE(spec.dstPort, 2); }
  const tlvs = spec.tlvs.map((t) => {
    const head = Buffer.alloc(3);
    head[0] = t.type;
    head.writeUInt16BE(t.value.length, 1);
    return Buffer.concat([head, t.value]);
  });
  const body = Buffer.concat([spec.address, ports, ...tlvs]);
  const pre = Buffer.alloc(4);
  pre[0] = 0x20 | spec.command;
  pre[1] = (spec.family << 4) | spec.transport;
  pre.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIGNATURE, pre, body]);
}

/** What a correct parser must report for a v2 spec. */
function expectedV2(spec: V2Spec): { source?: ProxyEndpoint; destination?: ProxyEndpoint } {
  if (spec.command === 0 || spec.transport !== 1 || spec.family === 0 || spec.family === 3) return {};
  const a = Buffer.from(spec.address);
  const text = (at: number, n: number): string =>
    n === 4 ? [...a.subarray(at, at + 4)].join('.') : normalizeIp(a.subarray(at, at + 16).toString('hex').replace(/(.{4})(?!$)/g, '$1:')) ?? '';
  const n = spec.family === 1 ? 4 : 16;
  return { source: { address: text(0, n), port: spec.srcPort }, destination: { address: text(n, n), port: spec.dstPort } };
}

const v2Spec: fc.Arbitrary<V2Spec> = fc
  .record({
    command: fc.constantFrom(0 as const, 1 as const, 1 as const),
    family: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
    transport: fc.constantFrom(0 as const, 1 as const, 1 as const),
    seed: fc.uint8Array({ minLength: 216, maxLength: 216 }),
    srcPort: fc.integer({ min: 0, max: 65535 }),
    dstPort: fc.integer({ min: 0, max: 65535 }),
    tlvs: fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 4 }),
  })
  .map(({ seed, ...rest }) => ({ ...rest, address: seed.subarray(0, [0, 8, 32, 216][rest.family]) }));

interface V1Spec {
  text: string;
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
}

const port = fc.integer({ min: 0, max: 65535 });
const v1Spec: fc.Arbitrary<V1Spec> = fc.oneof(
  fc.tuple(fc.constantFrom('TCP4', 'TCP6'), fc.ipV4(), fc.ipV4(), fc.ipV6(), fc.ipV6(), port, port).map(([proto, s4, d4, s6, d6, sp, dp]) => {
    const [s, d] = proto === 'TCP4' ? [s4, d4] : [s6, d6];
    return {
      text: `PROXY ${proto} ${s} ${d} ${sp} ${dp}\r\n`,
      source: { address: normalizeIp(s) ?? '', port: sp },
      destination: { address: normalizeIp(d) ?? '', port: dp },
    };
  }),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 92 }).map((tail) => ({
    text: `PROXY UNKNOWN${tail === '' ? '' : ` ${tail}`}\r\n`,
  })),
).filter((s) => s.text.length <= 107);

/** Feeds `bytes` as a growing buffer cut at `cuts`, as a socket would deliver it, and checks every answer. */
function feed(bytes: Buffer, headerLength: number, cuts: number[]): ProxyHeaderResult {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1))), bytes.length].sort((x, y) => x - y);
  let last: ProxyHeaderResult = { status: 'incomplete' };
  for (const p of points) {
    last = parseProxyHeader(bytes.subarray(0, p));
    if (p < headerLength) expect(last).toEqual({ status: 'incomplete' });
    else expect(last).toMatchObject({ status: 'done', consumed: headerLength });
  }
  return last;
}

describe('parseProxyHeader()', () => {
  describe('v1', () => {
    it.each([
      ['PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n', { address: '203.0.113.7', port: 51234 }, { address: '10.0.0.1', port: 443 }],
      ['PROXY TCP6 2001:DB8::7 2001:db8::1 1 65535\r\n', { address: '2001:db8::7', port: 1 }, { address: '2001:db8::1', port: 65535 }],
      ['PROXY TCP6 ::ffff:203.0.113.7 ::1 0 80\r\n', { address: '203.0.113.7', port: 0 }, { address: '::1', port: 80 }],
      ['PROXY UNKNOWN\r\n', undefined, undefined],
      ['PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n', undefined, undefined],
    ])('parses %j', (text, source, destination) => {
      const r = parseProxyHeader(Buffer.from(`${text}GET / HTTP/1.1\r\n`));
      expect(r).toEqual({ status: 'done', version: 1, consumed: text.length, source, destination });
    });

    it('accepts a header of exactly 107 bytes and refuses 108', () => {
      const ok = `PROXY UNKNOWN ${'x'.repeat(107 - 16)}\r\n`;
      expect(ok.length).toBe(107);
      expect(parseProxyHeader(Buffer.from(ok))).toMatchObject({ status: 'done', consumed: 107 });
      expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`))).toEqual({ status: 'invalid', reason: 'v1 header longer than 107 bytes' });
      expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(92)}`))).toEqual({ status: 'invalid', reason: 'v1 header longer than 107 bytes' });
    });

    it.each([
      ['PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\n', 'v1 header contains a control or non-ASCII byte'],
      ['PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\rX', 'v1 header must end with CRLF'],
      ['PROXY TCP5 203.0.113.7 10.0.0.1 51234 443\r\n', 'v1 protocol must be TCP4, TCP6 or UNKNOWN'],
      ['PROXY tcp4 203.0.113.7 10.0.0.1 51234 443\r\n', 'v1 protocol must be TCP4, TCP6 or UNKNOWN'],
      ['PROXY  TCP4 203.0.113.7 10.0.0.1 51234 443\r\n', 'v1 protocol must be TCP4, TCP6 or UNKNOWN'],
      ['PROXY TCP4 203.0.113.7 10.0.0.1 51234\r\n', 'v1 header must have 4 fields after the protocol, single-space separated'],
      ['PROXY TCP4 203.0.113.7  10.0.0.1 51234 443\r\n', 'v1 header must have 4 fields after the protocol, single-space separated'],
      ['PROXY TCP4 203.0.113.7 10.0.0.1 51234 443 \r\n', 'v1 header must have 4 fields after the protocol, single-space separated'],
      ['PROXY TCP4 2001:db8::1 10.0.0.1 51234 443\r\n', 'v1 addresses must be IPv4'],
      ['PROXY TCP6 203.0.113.7 ::1 51234 443\r\n', 'v1 addresses must be IPv6'],
      ['PROXY TCP6 fe80::1%eth0 ::1 51234 443\r\n', 'v1 addresses must be IPv6'],
      ['PROXY TCP4 203.0.113.07 10.0.0.1 51234 443\r\n', 'v1 addresses must be IPv4'],
      ['PROXY TCP4 203.0.113.7 10.0.0.1 65536 443\r\n', 'v1 ports must be decimal 0-65535 without leading zeros'],
      ['PROXY TCP4 203.0.113.7 10.0.0.1 0443 443\r\n', 'v1 ports must be decimal 0-65535 without leading zeros'],
      ['PROXY TCP4 203.0.113.7 10.0.0.1 -1 443\r\n', 'v1 ports must be decimal 0-65535 without leading zeros'],
      ['PROXY TCP4 203.0.113.7 10.0.0.1 +1 443\r\n', 'v1 ports must be decimal 0-65535 without leading zeros'],
      ['PROXY TCP4 203.0.113.7\x00 10.0.0.1 1 443\r\n', 'v1 header contains a control or non-ASCII byte'],
      ['PROXY TCP4 203.0.113.7\u00e9 10.0.0.1 1 443\r\n', 'v1 header contains a control or non-ASCII byte'],
      ['PROXY\r\n', 'no PROXY protocol header'],
      ['GET / HTTP/1.1\r\n', 'no PROXY protocol header'],
      ['PRoXY TCP4', 'no PROXY protocol header'],
    ])('refuses %j: %s', (text, reason) => {
      expect(parseProxyHeader(Buffer.from(text, 'latin1'))).toEqual({ status: 'invalid', reason });
    });

    it('answers incomplete for every proper prefix', () => {
      const text = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n');
      for (let i = 0; i < text.length; i++) expect(parseProxyHeader(text.subarray(0, i)).status).toBe('incomplete');
    });

    it('round-trips random headers split at random offsets', () => {
      fc.assert(
        fc.property(v1Spec, fc.uint8Array({ maxLength: 30 }), fc.array(fc.nat(), { maxLength: 6 }), (spec, rest, cuts) => {
          const header = Buffer.from(spec.text, 'latin1');
          const last = feed(Buffer.concat([header, rest]), header.length, cuts);
          expect(last).toEqual({ status: 'done', version: 1, consumed: header.length, source: spec.source, destination: spec.destination });
        }),
        RUN,
      );
    });
  });

  describe('v2', () => {
    const inet = (command: 0 | 1, transport: 0 | 1 = 1): V2Spec => ({
      command, family: 1, transport, address: Uint8Array.from([203, 0, 113, 7, 10, 0, 0, 1]), srcPort: 51234, dstPort: 443, tlvs: [],
    });

    it('parses PROXY over TCP/IPv4', () => {
      const header = encodeV2(inet(1));
      expect(parseProxyHeader(Buffer.concat([header, Buffer.from('GET /')]))).toEqual({
        status: 'done', version: 2, consumed: 28,
        source: { address: '203.0.113.7', port: 51234 }, destination: { address: '10.0.0.1', port: 443 },
      });
    });

    it('parses PROXY over TCP/IPv6, IPv4-mapped shown as a dotted quad', () => {
      const address = Buffer.alloc(32);
      address.write('20010db8000000000000000000000007', 0, 'hex');
      address.write('00000000000000000000ffff0a000001', 16, 'hex');
      const header = encodeV2({ command: 1, family: 2, transport: 1, address, srcPort: 1, dstPort: 2, tlvs: [] });
      expect(parseProxyHeader(header)).toEqual({
        status: 'done', version: 2, consumed: 52,
        source: { address: '2001:db8::7', port: 1 }, destination: { address: '10.0.0.1', port: 2 },
      });
    });

    it('skips TLVs such as the AWS NLB VPC endpoint id', () => {
      const vpce = { type: 0xea, value: Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-08d2bf15fac5001c9')]) };
      const header = encodeV2({ ...inet(1), tlvs: [vpce, { type: 0x04, value: new Uint8Array(0) }] });
      expect(parseProxyHeader(Buffer.concat([header, Buffer.from('x')]))).toMatchObject({ status: 'done', consumed: header.length, source: { address: '203.0.113.7' } });
    });

    it.each([
      ['LOCAL (a balancer health check)', encodeV2({ ...inet(0), address: new Uint8Array(0) })],
      ['LOCAL with addresses', encodeV2(inet(0))],
      ['UNSPEC family', encodeV2({ ...inet(1), family: 0, address: new Uint8Array(0) })],
      ['UNSPEC transport', encodeV2(inet(1, 0))],
      ['UNIX stream', encodeV2({ command: 1, family: 3, transport: 1, address: new Uint8Array(216), srcPort: 0, dstPort: 0, tlvs: [] })],
    ])('reports no endpoint for %s', (_name, header) => {
      expect(parseProxyHeader(header)).toEqual({ status: 'done', version: 2, consumed: header.length });
    });

    it.each([
      ['version 1', (b: Buffer) => { b[12] = 0x11; }, 'v2 version must be 2'],
      ['version 3', (b: Buffer) => { b[12] = 0x31; }, 'v2 version must be 2'],
      ['command 2', (b: Buffer) => { b[12] = 0x22; }, 'v2 command must be LOCAL or PROXY'],
      ['family 4', (b: Buffer) => { b[13] = 0x41; }, 'v2 address family must be UNSPEC, INET, INET6 or UNIX'],
      ['transport 3', (b: Buffer) => { b[13] = 0x13; }, 'v2 transport must be UNSPEC, STREAM or DGRAM'],
      ['DGRAM', (b: Buffer) => { b[13] = 0x12; }, 'v2 DGRAM transport on a stream connection'],
      ['length below the IPv4 block', (b: Buffer) => { b.writeUInt16BE(11, 14); }, 'v2 length too short for its address family'],
      ['IPv6 family with an IPv4 block', (b: Buffer) => { b[13] = 0x21; }, 'v2 length too short for its address family'],
      ['length above the limit', (b: Buffer) => { b.writeUInt16BE(DEFAULT_MAX_PROXY_HEADER_LENGTH - 15, 14); }, `v2 header longer than ${DEFAULT_MAX_PROXY_HEADER_LENGTH} bytes`],
      ['length 65535', (b: Buffer) => { b.writeUInt16BE(0xffff, 14); }, `v2 header longer than ${DEFAULT_MAX_PROXY_HEADER_LENGTH} bytes`],
      ['bad signature', (b: Buffer) => { b[11] = 0x0b; }, 'no PROXY protocol header'],
    ])('refuses %s', (_name, mutate, reason) => {
      const header = encodeV2(inet(1));
      mutate(header);
      expect(parseProxyHeader(header)).toEqual({ status: 'invalid', reason });
    });

    it('refuses an oversized header from its preamble, before the body arrives', () => {
      const pre = encodeV2(inet(1)).subarray(0, 16);
      pre.writeUInt16BE(2000, 14);
      expect(parseProxyHeader(pre).status).toBe('invalid');
      expect(parseProxyHeader(pre, { maxHeaderLength: 4096 }).status).toBe('incomplete');
    });

    it('accepts a header of exactly maxHeaderLength', () => {
      const header = encodeV2({ ...inet(1), tlvs: [{ type: 0xe0, value: new Uint8Array(232 - 28 - 3) }] });
      expect(header.length).toBe(232);
      expect(parseProxyHeader(header, { maxHeaderLength: 232 })).toMatchObject({ status: 'done', consumed: 232 });
    });

    it('round-trips random headers split at random offsets', () => {
      fc.assert(
        fc.property(v2Spec, fc.uint8Array({ maxLength: 30 }), fc.array(fc.nat(), { maxLength: 6 }), (spec, rest, cuts) => {
          const header = encodeV2(spec);
          const last = feed(Buffer.concat([header, rest]), header.length, cuts);
          expect(last).toEqual({ status: 'done', version: 2, consumed: header.length, ...expectedV2(spec) });
        }),
        RUN,
      );
    });
  });

  describe('on hostile bytes', () => {
    const check = (bytes: Uint8Array): void => {
      const buf = Buffer.from(bytes);
      const r = parseProxyHeader(buf);
      if (r.status === 'done') {
        expect(r.consumed).toBeGreaterThan(0);
        expect(r.consumed).toBeLessThanOrEqual(Math.min(buf.length, DEFAULT_MAX_PROXY_HEADER_LENGTH));
      } else if (r.status === 'invalid') {
        expect(typeof r.reason).toBe('string');
      }
    };

    it('never throws on random bytes, random v1 lines or random v2 bodies', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.concat([Buffer.from('PROXY '), b])),
            fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([SIGNATURE, b])),
          ),
          (bytes) => check(bytes),
        ),
        RUN,
      );
    });

    it('never throws on valid headers with bytes flipped or cut', () => {
      const header = fc.oneof(v1Spec.map((s) => Buffer.from(s.text, 'latin1')), v2Spec.map(encodeV2));
      fc.assert(
        fc.property(header, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (h, flips, cut) => {
          for (const [at, value] of flips) h[at % h.length] = value;
          check(h);
          check(h.subarray(0, cut % (h.length + 1)));
        }),
        RUN,
      );
    });
  });

  it('throws InvalidOptionError for a bad maxHeaderLength', () => {
    for (const bad of [231, 65552, 1.5, Number.NaN]) {
      expect(() => parseProxyHeader(Buffer.alloc(0), { maxHeaderLength: bad })).toThrow(InvalidOptionError);
    }
    expect(() => parseProxyHeader(Buffer.alloc(0), { maxHeaderLength: 100 })).toThrow(
      'parseProxyHeader: maxHeaderLength must be an integer from 232 to 65551, got 100',
    );
  });
});

describe('readProxyHeader()', () => {
  let server: Server;
  let accepted: Socket[];
  let clients: Socket[];
  let waiting: ((s: Socket) => void)[];

  beforeEach(async () => {
    accepted = [];
    clients = [];
    waiting = [];
    server = createServer((s) => {
      s.on('error', () => s.destroy());
      const w = waiting.shift();
      if (w === undefined) accepted.push(s);
      else w(s);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterEach(async () => {
    for (const s of [...accepted, ...clients]) s.destroy();
    server.close();
    await once(server, 'close');
  });

  /** Connects a client and returns both ends. */
  async function pair(): Promise<{ client: Socket; peer: Socket }> {
    const peerReady = new Promise<Socket>((resolve) => waiting.push((s) => { accepted.push(s); resolve(s); }));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const client = connect(address.port, '127.0.0.1');
    client.on('error', () => client.destroy());
    clients.push(client);
    client.setNoDelay(true);
    await once(client, 'connect');
    return { client, peer: await peerReady };
  }

  const LISTENED = ['readable', 'end', 'close', 'error', 'data'] as const;
  const listeners = (s: Socket): number[] => LISTENED.map((e) => s.listenerCount(e));
  const realSetTimeout = global.setTimeout;
  /** Records the timers set while `run` is pending and whether each one was cleared. */
  async function watchTimers<T>(run: () => Promise<T>): Promise<{ result: T; set: number; cleared: number }> {
    const created: unknown[] = [];
    const setSpy = jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const handle = realSetTimeout(fn, ms);
      created.push(handle);
      return handle;
    }) as typeof setTimeout);
    const clearSpy = jest.spyOn(global, 'clearTimeout');
    try {
      const result = await run();
      const cleared = created.filter((h) => clearSpy.mock.calls.some(([c]) => c === h)).length;
      return { result, set: created.length, cleared };
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  }

  /** Resolves with everything the socket delivers until `n` bytes arrived. */
  function readBytes(s: Socket, n: number): Promise<Buffer> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let got = 0;
      const onData = (c: Buffer): void => {
        chunks.push(c);
        got += c.length;
        if (got >= n) { s.removeListener('data', onData); resolve(Buffer.concat(chunks)); }
      };
      s.on('data', onData);
    });
  }

  it('reads a v1 header sent with the first request bytes and puts those bytes back', async () => {
    const { client, peer } = await pair();
    const before = listeners(peer);
    client.write('PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nhello');
    const { result: r, set, cleared } = await watchTimers(() => readProxyHeader(peer, { timeout: 2000 }));
    expect(r).toMatchObject({ status: 'done', version: 1, source: { address: '203.0.113.7', port: 51234 } });
    expect(listeners(peer)).toEqual(before);
    expect({ set, cleared }).toEqual({ set: 1, cleared: 1 });
    expect((await readBytes(peer, 5)).toString()).toBe('hello');
  });

  it('reads a v2 header that arrives in pieces', async () => {
    const { client, peer } = await pair();
    const header = encodeV2({ command: 1, family: 1, transport: 1, address: Uint8Array.from([198, 51, 100, 9, 10, 0, 0, 1]), srcPort: 7, dstPort: 8, tlvs: [] });
    const result = readProxyHeader(peer, { timeout: 2000 });
    for (const piece of [header.subarray(0, 5), header.subarray(5, 17), header.subarray(17), Buffer.from('after')]) {
      client.write(piece);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await result).toMatchObject({ status: 'done', version: 2, source: { address: '198.51.100.9', port: 7 } });
    expect((await readBytes(peer, 5)).toString()).toBe('after');
  });

  it('hands a node:http server a stream that starts at the request', async () => {
    const http = createHttpServer((req, res) => res.end(`${req.method} ${req.url}`));
    const { client, peer } = await pair();
    client.write('PROXY TCP6 2001:db8::7 ::1 1 2\r\nGET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const r = await readProxyHeader(peer, { timeout: 2000 });
    expect(r).toMatchObject({ status: 'done', source: { address: '2001:db8::7' } });
    http.emit('connection', peer);
    const chunks: Buffer[] = [];
    client.on('data', (c: Buffer) => chunks.push(c));
    await once(client, 'end');
    const response = Buffer.concat(chunks).toString();
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response.endsWith('GET /x')).toBe(true);
    http.close();
  });

  it('keeps the bytes after the header when the client half-closes at once', async () => {
    const { client, peer } = await pair();
    client.end('PROXY UNKNOWN\r\ntail');
    await new Promise((r) => setTimeout(r, 20));
    expect(await readProxyHeader(peer, { timeout: 2000 })).toMatchObject({ status: 'done', consumed: 15 });
    const data = readBytes(peer, 4);
    expect((await data).toString()).toBe('tail');
  });

  it('gives up after the timeout on a peer that dribbles, and cleans up', async () => {
    const { client, peer } = await pair();
    const before = listeners(peer);
    client.write('PROXY TCP4 1.2.3.4 ');
    const started = performance.now();
    const { result: r, set } = await watchTimers(() => readProxyHeader(peer, { timeout: 150 }));
    expect(r).toEqual({ status: 'invalid', reason: 'timed out waiting for the PROXY protocol header' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(listeners(peer)).toEqual(before);
    expect(set).toBe(1);
    // The partial bytes were put back for the caller.
    expect((await readBytes(peer, 19)).toString()).toBe('PROXY TCP4 1.2.3.4 ');
  });

  it('answers invalid at once for a non-PROXY stream and puts the bytes back', async () => {
    const { client, peer } = await pair();
    const before = listeners(peer);
    client.write('GET / HTTP/1.1\r\n');
    expect(await readProxyHeader(peer, { timeout: 5000 })).toEqual({ status: 'invalid', reason: 'no PROXY protocol header' });
    expect(listeners(peer)).toEqual(before);
    expect((await readBytes(peer, 16)).toString()).toBe('GET / HTTP/1.1\r\n');
  });

  it('refuses an oversized v2 header without waiting for its body', async () => {
    const { client, peer } = await pair();
    const pre = encodeV2({ command: 1, family: 1, transport: 1, address: new Uint8Array(8), srcPort: 0, dstPort: 0, tlvs: [] }).subarray(0, 16);
    pre.writeUInt16BE(60000, 14);
    client.write(pre);
    expect(await readProxyHeader(peer, { timeout: 5000 })).toMatchObject({ status: 'invalid', reason: 'v2 header longer than 1024 bytes' });
  });

  it('answers invalid when the peer leaves first', async () => {
    const { client, peer } = await pair();
    const before = listeners(peer);
    const result = readProxyHeader(peer, { timeout: 5000 });
    client.end('PROXY TCP4');
    expect(await result).toEqual({ status: 'invalid', reason: 'connection closed before the PROXY protocol header was complete' });
    expect(listeners(peer)).toEqual(before);
  });

  it('answers invalid when the peer resets', async () => {
    const { client, peer } = await pair();
    const result = readProxyHeader(peer, { timeout: 5000 });
    client.resetAndDestroy();
    expect((await result).status).toBe('invalid');
  });

  it('answers invalid for a socket that is already gone', async () => {
    const { peer } = await pair();
    peer.destroy();
    expect(await readProxyHeader(peer, { timeout: 5000 })).toEqual({ status: 'invalid', reason: 'connection closed before the PROXY protocol header was complete' });
  });

  it('throws InvalidOptionError for a bad timeout', async () => {
    const { peer } = await pair();
    const before = listeners(peer);
    for (const timeout of [0, -1, Number.NaN, Infinity]) {
      expect(() => readProxyHeader(peer, { timeout })).toThrow(InvalidOptionError);
    }
    expect(() => readProxyHeader(peer, { timeout: 0 })).toThrow('readProxyHeader: timeout must be a number of milliseconds from 1 to 2147483647, got 0');
    expect(listeners(peer)).toEqual(before);
  });
});
