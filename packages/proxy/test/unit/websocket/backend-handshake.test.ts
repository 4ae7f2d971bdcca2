import fc from 'fast-check';
import { ChunkedBodyEnd, FilteredChunkedBody, MAX_RESPONSE_HEAD, RefusalBody, bodyFraming, isInterim, parseResponseHead, serializeRequest } from '../../../src/websocket/backend-handshake';

describe('backend handshake', () => {
  describe('serializeRequest()', () => {
    it('writes a GET request line, the headers in order and a blank line', () => {
      expect(serializeRequest('/chat?x=1', ['Host', 'a', 'Upgrade', 'websocket'])).toBe('GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n');
    });
  });

  describe('parseResponseHead()', () => {
    it('parses a 101 and says where the bytes after the head start', () => {
      const buf = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept:  abc \r\n\r\n\x81\x00', 'latin1');
      const head = parseResponseHead(buf);
      expect(head).toEqual({ status: 101, rawHeaders: ['Upgrade', 'websocket', 'Sec-WebSocket-Accept', 'abc'], bodyStart: buf.length - 2 });
    });

    it('waits for more bytes while the head is incomplete', () => {
      expect(parseResponseHead(Buffer.from('HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n'))).toBeUndefined();
    });

    it.each([
      ['a bad status line', 'HTTP/2 101 x\r\n\r\n', 'invalid status line'],
      ['a header line without a colon', 'HTTP/1.1 401 No\r\nbroken\r\n\r\n', 'invalid header line'],
      ['a header name with a space', 'HTTP/1.1 401 No\r\nBad Name: x\r\n\r\n', 'invalid header name'],
      ['a control byte in a value', 'HTTP/1.1 401 No\r\nX: a\x01b\r\n\r\n', 'invalid header value'],
    ])('names the fault for %s', (_name, text, fault) => {
      expect(parseResponseHead(Buffer.from(text, 'latin1'))).toBe(fault);
    });

    it.each(['000', '099', '600', '999'])('refuses status %s (outside 100-599)', (status) => {
      expect(parseResponseHead(Buffer.from(`HTTP/1.1 ${status} Odd\r\n\r\n`))).toBe('status code out of range');
    });

    it.each([100, 599])('accepts status %d', (status) => {
      expect(parseResponseHead(Buffer.from(`HTTP/1.1 ${status} X\r\n\r\n`))).toMatchObject({ status });
    });

    it('refuses a head larger than 16 KiB, complete or not', () => {
      expect(parseResponseHead(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(17_000)}`))).toBe('response head too large');
      expect(parseResponseHead(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`))).toBe('response head too large');
    });
  });

  describe('isInterim()', () => {
    it.each([
      [100, true],
      [102, true],
      [103, true],
      [199, true],
      [101, false],
      [200, false],
      [403, false],
    ])('%d -> %s', (status, interim) => {
      expect(isInterim(status)).toBe(interim);
    });
  });

  describe('bodyFraming()', () => {
    it.each([
      [401, ['Content-Length', '12'], { kind: 'length', length: 12 }],
      [403, ['Transfer-Encoding', 'chunked'], { kind: 'chunked' }],
      [500, [], { kind: 'close' }],
      [204, ['Content-Length', '5'], { kind: 'none' }],
      [401, ['Content-Length', '1', 'Transfer-Encoding', 'chunked'], 'both content-length and transfer-encoding'],
      [401, ['Content-Length', '1', 'Content-Length', '1'], 'invalid content-length'],
      [401, ['Transfer-Encoding', 'gzip'], 'unsupported transfer-encoding'],
    ] as const)('status %d with %j -> %j', (status, headers, expected) => {
      expect(bodyFraming(status, headers)).toEqual(expected);
    });
  });

  describe('RefusalBody', () => {
    const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));

    it('relays exactly Content-Length bytes across chunks, then is complete', () => {
      const body = new RefusalBody({ kind: 'length', length: 5 });
      expect(text(body.relay(Buffer.from('abc')))).toBe('abc');
      expect(body.complete).toBe(false);
      expect(text(body.relay(Buffer.from('defgh')))).toBe('de');
      expect(body.complete).toBe(true);
      expect(text(body.relay(Buffer.from('x')))).toBe('');
    });

    it('is complete at once without a body', () => {
      expect(new RefusalBody({ kind: 'none' }).complete).toBe(true);
      expect(new RefusalBody({ kind: 'length', length: 0 }).complete).toBe(true);
    });

    it('ends a chunked body after its last chunk, and says null for a malformed one', () => {
      const body = new RefusalBody({ kind: 'chunked' });
      expect(text(body.relay(Buffer.from('3\r\nden\r\n')))).toBe('3\r\nden\r\n');
      expect(text(body.relay(Buffer.from('0\r\n\r\nextra')))).toBe('0\r\n\r\n');
      expect(body.complete).toBe(true);
      expect(new RefusalBody({ kind: 'chunked' }).relay(Buffer.from('zz\r\n'))).toBeNull();
    });

    it('passes a chunked body\'s trailer section through the filter it was given', () => {
      const body = new RefusalBody({ kind: 'chunked' }, (block) => block.replace(/^Server: .*\r\n/m, ''));
      expect(text(body.relay(Buffer.from('1\r\na\r\n0\r\nServer: b\r\nX-Ok: 1\r\n\r\n')))).toBe('1\r\na\r\n0\r\nX-Ok: 1\r\n\r\n');
      expect(body.complete).toBe(true);
    });

    it('relays everything until the close when delimited by the close', () => {
      const body = new RefusalBody({ kind: 'close' });
      expect(body.relay(Buffer.alloc(70_000))?.length).toBe(70_000);
      expect(body.complete).toBe(false);
    });
  });

  describe('ChunkedBodyEnd', () => {
    const encode = (parts: Buffer[], trailers: string[] = []): Buffer =>
      Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')])), Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`)]);

    it('finds the end of a chunked body split at any offset, with trailers, and nothing before it', () => {
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 6 }),
          fc.array(fc.constantFrom('X-Sum: 1', 'X-T: two'), { maxLength: 2 }),
          fc.array(fc.nat(), { maxLength: 5 }),
          fc.nat(20),
          (parts, trailers, cuts, extra) => {
            const body = encode(parts.map((p) => Buffer.from(p)), trailers);
            const wire = Buffer.concat([body, Buffer.alloc(extra, 0x41)]);
            const offsets = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
            const tracker = new ChunkedBodyEnd();
            let at = 0;
            let found = -1;
            for (const end of [...offsets, wire.length]) {
              if (end <= at) continue;
              const r = tracker.push(wire.subarray(at, end));
              if (r >= 0) {
                found = at + r;
                break;
              }
              at = end;
            }
            expect(tracker.failed).toBe(false);
            expect(found).toBe(body.length);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('fails on a bad chunk size', () => {
      const tracker = new ChunkedBodyEnd();
      tracker.push(Buffer.from('zz\r\n'));
      expect(tracker.failed).toBe(true);
    });
  });

  describe('FilteredChunkedBody', () => {
    const body = Buffer.from('4\r\nnope\r\n3;ext=1\r\nabc\r\n0\r\nX-Backend: b7\r\nX-Checksum: 1\r\n\r\n');
    const upper = (block: string): string => block.replace(/X-Backend: b7\r\n/, '').toUpperCase();

    it('relays chunks as they come and the trailer section filtered, however the body is split', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: body.length }), { maxLength: 6 }), (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const filter = new FilteredChunkedBody(upper);
          const out: Buffer[] = [];
          let end = -1;
          let from = 0;
          for (const to of [...points, body.length]) {
            if (to <= from) continue;
            const r = filter.push(body.subarray(from, to));
            if (r.relay !== undefined) out.push(r.relay);
            if (r.end >= 0) end = from + r.end;
            from = to;
          }
          expect(filter.failed).toBe(false);
          expect(end).toBe(body.length);
          expect(Buffer.concat(out).toString()).toBe('4\r\nnope\r\n3;ext=1\r\nabc\r\n0\r\nX-CHECKSUM: 1\r\n\r\n');
        }),
      );
    });

    it('stops at the end of the body and leaves the bytes after it', () => {
      const filter = new FilteredChunkedBody((b) => b);
      const r = filter.push(Buffer.from('1\r\na\r\n0\r\n\r\nHTTP/1.1 200 OK'));
      expect(r.end).toBe(11);
      expect(r.relay?.toString()).toBe('1\r\na\r\n0\r\n\r\n');
    });

    it('fails on trailers larger than a response head instead of holding them', () => {
      const filter = new FilteredChunkedBody((b) => b);
      filter.push(Buffer.from('0\r\n'));
      const r = filter.push(Buffer.from(`X-Big: ${'a'.repeat(MAX_RESPONSE_HEAD)}\r\n`));
      expect(r).toEqual({ relay: undefined, end: -1 });
      expect(filter.failed).toBe(true);
    });

    it('fails on a malformed chunk like ChunkedBodyEnd', () => {
      const filter = new FilteredChunkedBody((b) => b);
      expect(filter.push(Buffer.from('zz\r\n')).relay).toBeUndefined();
      expect(filter.failed).toBe(true);
    });
  });
});
