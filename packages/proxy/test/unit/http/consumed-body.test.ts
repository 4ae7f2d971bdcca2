import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { consumedBodyOf, declaresBody, isBodyConsumed, serializeBody, withReplayHeaders, type ReplayBody } from '../../../src/http/consumed-body';
import { ConsumedBodyError } from '../../../src/errors';

/** A request-like stream with headers, as a framework leaves it. */
function requestOf(chunks: string[], headers: Record<string, string>, body?: unknown): Readable & { headers: Record<string, string>; body?: unknown } {
  const stream = Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });
  return Object.assign(stream, { headers, ...(body === undefined ? {} : { body }) });
}

async function readAll(stream: Readable): Promise<void> {
  stream.on('data', () => undefined);
  await once(stream, 'end');
}

function replay(result: ReturnType<typeof serializeBody>): ReplayBody {
  if (typeof result === 'string') throw new Error(`refused: ${result}`);
  return result;
}

describe('consumed-body', () => {
  describe('declaresBody()', () => {
    it('is true for a positive Content-Length or any Transfer-Encoding, false otherwise', () => {
      expect(declaresBody({ 'content-length': '5' })).toBe(true);
      expect(declaresBody({ 'transfer-encoding': 'chunked' })).toBe(true);
      expect(declaresBody({ 'content-length': '0' })).toBe(false);
      expect(declaresBody({})).toBe(false);
    });
  });

  describe('isBodyConsumed()', () => {
    it('is false for a stream nobody read, even once all of it is buffered', async () => {
      const s = new PassThrough();
      s.end('abc');
      await new Promise((r) => setImmediate(r));
      expect(s.readableLength).toBe(3);
      expect(isBodyConsumed(s)).toBe(false);
    });

    it('is true once a reader took data, before and after the end', async () => {
      const s = Readable.from([Buffer.from('a'), Buffer.from('b')], { objectMode: false });
      s.read();
      expect(isBodyConsumed(s)).toBe(true);
      await readAll(s);
      expect(s.readableEnded).toBe(true);
      expect(isBodyConsumed(s)).toBe(true);
    });

    it('is true for an empty stream someone read to its end', async () => {
      const s = Readable.from([], { objectMode: false });
      await readAll(s);
      expect(isBodyConsumed(s)).toBe(true);
    });

    it('is false for a destroyed stream that did not end (an aborted request, reported by the normal path)', () => {
      const s = Readable.from([Buffer.from('a')], { objectMode: false });
      s.destroy();
      expect(isBodyConsumed(s)).toBe(false);
    });
  });

  describe('serializeBody()', () => {
    it('sends a Buffer or any Uint8Array as is, keeping only its own bytes', () => {
      const backing = Buffer.from('xxhelloxx');
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 5);
      expect(replay(serializeBody(view, 'application/octet-stream')).bytes.toString()).toBe('hello');
      const buf = replay(serializeBody(Buffer.from([0, 255, 1]), undefined));
      expect([...buf.bytes]).toEqual([0, 255, 1]);
      expect(buf.decoded).toBe(false);
    });

    it.each([
      ['text/plain', 'é', 'c3a9'],
      ['text/plain; charset=UTF-8', 'é', 'c3a9'],
      ['text/plain; charset="iso-8859-1"', 'é', 'e9'],
      ['text/plain; charset=utf-16le', 'é', 'e900'],
      [undefined, 'é', 'c3a9'],
    ])('encodes a string sent as %s in its charset', (type, text, hex) => {
      const r = replay(serializeBody(text, type));
      expect(r.bytes.toString('hex')).toBe(hex);
      expect(r.decoded).toBe(true);
    });

    it('refuses a string whose charset Node cannot encode, naming the Content-Type', () => {
      expect(serializeBody('x', 'text/plain; charset=shift_jis')).toMatch(/shift_jis/);
    });

    it.each(['application/json', 'application/json; charset=utf-8', 'application/merge-patch+json', 'Application/JSON'])(
      'serializes an object as JSON for %s',
      (type) => {
        expect(replay(serializeBody({ a: [1, 'ü', null], b: { c: true } }, type)).bytes.toString()).toBe('{"a":[1,"ü",null],"b":{"c":true}}');
      },
    );

    it('serializes JSON values that are not objects (a parser may keep null, a number, a string)', () => {
      expect(replay(serializeBody(null, 'application/json')).bytes.toString()).toBe('null');
      expect(replay(serializeBody(42, 'application/json')).bytes.toString()).toBe('42');
    });

    it('encodes a flat form as node:querystring would (Express 5 default): repeated keys for lists, + for spaces', () => {
      const form = Object.assign(Object.create(null) as Record<string, unknown>, { name: 'Jürgen X', tag: ['a', 'b'], n: 3, empty: '' });
      expect(replay(serializeBody(form, 'application/x-www-form-urlencoded')).bytes.toString()).toBe('name=J%C3%BCrgen+X&tag=a&tag=b&n=3&empty=');
    });

    it('encodes a nested form (qs, express.urlencoded({ extended: true })) in bracket form', () => {
      const text = replay(serializeBody({ user: { name: 'a', roles: ['x', 'y'] }, list: [{ id: 1 }, { id: 2 }] }, 'application/x-www-form-urlencoded')).bytes.toString();
      expect([...new URLSearchParams(text)]).toEqual([
        ['user[name]', 'a'],
        ['user[roles]', 'x'],
        ['user[roles]', 'y'],
        ['list[0][id]', '1'],
        ['list[1][id]', '2'],
      ]);
    });

    it('refuses a form too deep to be a parser output (or a cycle)', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      expect(serializeBody(cyclic, 'application/x-www-form-urlencoded')).toMatch(/form/);
    });

    it('refuses an object for a type it has no serializer for, naming the type', () => {
      expect(serializeBody({ a: 1 }, 'application/xml')).toMatch(/Content-Type application\/xml/);
      expect(serializeBody({ a: 1 }, undefined)).toMatch(/no Content-Type/);
      expect(serializeBody({ a: 1 }, 'multipart/form-data; boundary=x')).toMatch(/multipart\/form-data/);
    });

    it('refuses a stream and a missing body', () => {
      expect(serializeBody(Readable.from([]), 'application/json')).toMatch(/stream/);
      expect(serializeBody(undefined, 'application/json')).toMatch(/no body/);
    });
  });

  describe('withReplayHeaders()', () => {
    it('sets Content-Length to the body size and drops Transfer-Encoding, keeping the other headers in order', () => {
      const body = replay(serializeBody(Buffer.from('12345'), undefined));
      const out = withReplayHeaders(['Host', 'h', 'Content-Length', '999', 'transfer-encoding', 'chunked', 'Content-Encoding', 'gzip', 'X-A', '1'], body);
      expect(out).toEqual(['Host', 'h', 'Content-Encoding', 'gzip', 'X-A', '1', 'Content-Length', '5']);
    });

    it('drops Content-Encoding for a decoded value: parsers inflate before they parse', () => {
      const body = replay(serializeBody({ a: 1 }, 'application/json'));
      expect(withReplayHeaders(['content-encoding', 'gzip', 'content-type', 'application/json'], body)).toEqual(['content-type', 'application/json', 'Content-Length', '7']);
    });
  });

  describe('consumedBodyOf()', () => {
    it('leaves an unread request to the stream path', () => {
      expect(consumedBodyOf(requestOf(['{}'], { 'content-length': '2' }, { a: 1 }), undefined, {})).toBeUndefined();
    });

    it('leaves a request without a body alone, whatever req.body holds', async () => {
      const req = requestOf([], {}, {});
      await readAll(req);
      expect(consumedBodyOf(req, undefined, {})).toBeUndefined();
    });

    it('replays req.body for a spent request, and prefers the body option over it', async () => {
      const req = requestOf(['{"a":1}'], { 'content-length': '7', 'content-type': 'application/json' }, { a: 1 });
      await readAll(req);
      expect((consumedBodyOf(req, undefined, {}) as ReplayBody).bytes.toString()).toBe('{"a":1}');
      expect((consumedBodyOf(req, 'raw', {}) as ReplayBody).bytes.toString()).toBe('raw');
    });

    it('answers a spent request with nothing to replay with ConsumedBodyError naming the cause and the fix', async () => {
      const req = requestOf(['x'], { 'transfer-encoding': 'chunked' });
      await readAll(req);
      const err = consumedBodyOf(req, undefined, { clientAddress: '127.0.0.1:1' });
      expect(err).toBeInstanceOf(ConsumedBodyError);
      const e = err as ConsumedBodyError;
      expect([e.code, e.status, e.clientAddress]).toEqual(['ERR_BODY_CONSUMED', 500, '127.0.0.1:1']);
      expect(e.message).toMatch(/already read by another handler.*no body was kept.*req\.body.*body option/);
    });
  });
});
