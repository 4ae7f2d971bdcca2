import fc from 'fast-check';
import { ChunkedBodyEnd, RefusalBody, bodyFraming, isInterim, parseResponseHead, serializeRequest } from '../../src/backend-handshake';

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
    it('takes exactly Content-Length bytes across chunks, then is complete', () => {
      const body = new RefusalBody({ kind: 'length', length: 5 });
      expect(body.take(Buffer.from('abc'))).toBe(3);
      expect(body.complete).toBe(false);
      expect(body.take(Buffer.from('defgh'))).toBe(2);
      expect(body.complete).toBe(true);
      expect(body.take(Buffer.from('x'))).toBe(0);
    });

    it('is complete at once without a body', () => {
      expect(new RefusalBody({ kind: 'none' }).complete).toBe(true);
      expect(new RefusalBody({ kind: 'length', length: 0 }).complete).toBe(true);
    });

    it('ends a chunked body after its last chunk, and says -1 for a malformed one', () => {
      const body = new RefusalBody({ kind: 'chunked' });
      expect(body.take(Buffer.from('3\r\nden\r\n'))).toBe(8);
      expect(body.take(Buffer.from('0\r\n\r\nextra'))).toBe(5);
      expect(body.complete).toBe(true);
      expect(new RefusalBody({ kind: 'chunked' }).take(Buffer.from('zz\r\n'))).toBe(-1);
    });

    it('takes everything until the close when delimited by the close', () => {
      const body = new RefusalBody({ kind: 'close' });
      expect(body.take(Buffer.alloc(70_000))).toBe(70_000);
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
});
