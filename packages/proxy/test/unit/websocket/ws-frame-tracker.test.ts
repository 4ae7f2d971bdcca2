import fc from 'fast-check';
import WebSocket from 'ws';
import { encodeCloseFrame, encodePingFrame, FrameTracker } from '../../../src/websocket/ws-frame-tracker';

// ws exports its frame parser as WebSocket.Receiver without typings; this is the slice these tests use.
interface WsReceiver {
  on(event: 'conclude', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'ping', listener: (data: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  write(chunk: Buffer): boolean;
}
const { Receiver } = WebSocket as unknown as { Receiver: new (options: { isServer: boolean }) => WsReceiver };

/** Bounds every property so the file stays within a few seconds. */
const RUN = { numRuns: 200, interruptAfterTimeLimit: 4000 } as const;

/** One frame of the reference stream, before encoding. */
interface FrameSpec {
  opcode: number;
  fin: boolean;
  length: number;
  /** Encode the length in a wider form than needed (legal; exercises the 16- and 64-bit header paths). */
  wide: 0 | 16 | 64;
  mask: number;
  seed: number;
  /** Close frames only: status code, or undefined for an empty payload. */
  closeCode?: number;
  reason?: string;
}

/** Reference encoder, independent of the module under test. */
function encodeFrame(f: FrameSpec, masked: boolean): Buffer {
  let payload: Buffer;
  if (f.opcode === 0x8) {
    payload = f.closeCode === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([f.closeCode >> 8, f.closeCode & 0xff]), Buffer.from(f.reason ?? '')]);
  } else {
    payload = Buffer.allocUnsafe(f.length);
    let x = f.seed | 1;
    for (let i = 0; i < payload.length; i++) {
      // Cheap xorshift bytes: payloads full of header-looking garbage, without fast-check generating every byte.
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      payload[i] = x & 0xff;
    }
  }
  const len = payload.length;
  const form = len > 65535 || f.wide === 64 ? 64 : len > 125 || f.wide === 16 ? 16 : 7;
  const header = Buffer.alloc(2 + (form === 64 ? 8 : form === 16 ? 2 : 0) + (masked ? 4 : 0));
  header[0] = (f.fin ? 0x80 : 0) | f.opcode;
  header[1] = (masked ? 0x80 : 0) | (form === 64 ? 127 : form === 16 ? 126 : len);
  if (form === 16) header.writeUInt16BE(len, 2);
  if (form === 64) header.writeBigUInt64BE(BigInt(len), 2);
  if (masked) {
    header.writeUInt32BE(f.mask >>> 0, header.length - 4);
    for (let i = 0; i < len; i++) payload[i] ^= header[header.length - 4 + (i & 3)];
  }
  return Buffer.concat([header, payload]);
}

const payloadLength = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 125 }) },
  { weight: 4, arbitrary: fc.integer({ min: 126, max: 65535 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65536, max: 70000 }) },
);
const wide = fc.constantFrom<0 | 16 | 64>(0, 0, 0, 0, 16, 64);
const mask = fc.integer({ min: 0, max: 0xffffffff });
const seed = fc.integer({ min: 1, max: 0x7fffffff });

const controlFrame: fc.Arbitrary<FrameSpec> = fc.oneof(
  fc.record({ opcode: fc.constantFrom(0x9, 0xa), fin: fc.constant(true), length: fc.integer({ min: 0, max: 125 }), wide: fc.constant<0>(0), mask, seed }),
  fc.record({
    opcode: fc.constant(0x8), fin: fc.constant(true), length: fc.constant(0), wide: fc.constant<0>(0), mask, seed,
    closeCode: fc.option(fc.integer({ min: 1000, max: 4999 }), { nil: undefined }),
    reason: fc.string({ maxLength: 40 }),
  }),
);

/** A data message of 1-4 fragments, with 0-2 control frames after each fragment except the last. */
const message: fc.Arbitrary<FrameSpec[]> = fc
  .tuple(fc.constantFrom(0x1, 0x2), fc.array(fc.tuple(payloadLength, wide, mask, seed, fc.array(controlFrame, { maxLength: 2 })), { minLength: 1, maxLength: 4 }))
  .map(([opcode, fragments]) => fragments.flatMap(([length, w, m, s, controls], i): FrameSpec[] => {
    const last = i === fragments.length - 1;
    const data: FrameSpec = { opcode: i === 0 ? opcode : 0x0, fin: last, length, wide: w, mask: m, seed: s };
    return last ? [data] : [data, ...controls];
  }));

/** Messages with control frames between them; the reference tracker state after every frame. */
const stream = fc
  .tuple(fc.array(fc.tuple(fc.array(controlFrame, { maxLength: 2 }), message), { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([parts, masked]) => {
    const frames = parts.flatMap(([controls, msg]) => [...controls, ...msg]);
    const encoded = frames.map((f) => encodeFrame(f, masked));
    const ends: number[] = [];
    const starts: number[] = [];
    const fragmented: boolean[] = [];
    let offset = 0;
    let inMessage = false;
    let messages = 0;
    let closeCode: number | undefined;
    frames.forEach((f, i) => {
      starts.push(offset);
      offset += encoded[i].length;
      ends.push(offset);
      if (f.opcode < 0x8) {
        inMessage = !f.fin;
        if (f.fin) messages++;
      } else if (f.opcode === 0x8 && closeCode === undefined) {
        closeCode = f.closeCode ?? 1005;
      }
      fragmented.push(inMessage);
    });
    return { masked, bytes: Buffer.concat(encoded), starts, ends, fragmented, messages, closeCode, frames: frames.length };
  });
type Stream = typeof stream extends fc.Arbitrary<infer T> ? T : never;

/** Cut points: some uniform, some a few bytes into a frame so headers straddle chunks. */
const cuts = fc.tuple(fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 15 })), { maxLength: 20 }));

function chunksOf(s: Stream, [uniform, nearHeaders]: [number[], [number, number][]]): Buffer[] {
  const points = new Set<number>([s.bytes.length]);
  for (const u of uniform) points.add(u % s.bytes.length);
  for (const [f, k] of nearHeaders) points.add(Math.min(s.starts[f % s.starts.length] + k, s.bytes.length));
  points.delete(0);
  const sorted = [...points].sort((a, b) => a - b);
  return sorted.map((p, i) => s.bytes.subarray(i === 0 ? 0 : sorted[i - 1], p));
}

function expectFinalState(t: FrameTracker, s: Stream): void {
  expect(t.violation).toBeUndefined();
  expect(t.atBoundary).toBe(true);
  expect(t.inFragmentedMessage).toBe(false);
  expect(t.frames).toBe(s.frames);
  expect(t.messages).toBe(s.messages);
  expect(t.closeCode).toBe(s.closeCode);
}

function frame(b0: number, b1: number, ...rest: number[]): Buffer {
  return Buffer.from([b0, b1, ...rest]);
}

describe('FrameTracker', () => {
  describe('push()', () => {
    it('is at a boundary after a chunk exactly when the bytes so far end a frame, however the stream is cut', () => {
      fc.assert(fc.property(stream, cuts, (s, c) => {
        const t = new FrameTracker({ masked: s.masked });
        const ends = new Map(s.ends.map((e, i) => [e, i]));
        let offset = 0;
        for (const chunk of chunksOf(s, c)) {
          expect(t.push(chunk)).toBe(true);
          offset += chunk.length;
          const frameIndex = ends.get(offset);
          expect(t.atBoundary).toBe(frameIndex !== undefined);
          if (frameIndex !== undefined) {
            expect(t.frames).toBe(frameIndex + 1);
            expect(t.inFragmentedMessage).toBe(s.fragmented[frameIndex]);
          }
        }
        expectFinalState(t, s);
      }), RUN);
    });

    it('tracks every header form when fed one byte at a time', () => {
      const specs: FrameSpec[] = [
        { opcode: 0x1, fin: false, length: 3, wide: 64, mask: 0x01020304, seed: 7 },
        { opcode: 0x9, fin: true, length: 0, wide: 0, mask: 0xdeadbeef, seed: 1 },
        { opcode: 0x0, fin: false, length: 200, wide: 0, mask: 0xffffffff, seed: 9 },
        { opcode: 0x8, fin: true, length: 0, wide: 0, mask: 0xa5a5a5a5, seed: 1, closeCode: 4321, reason: 'bye' },
        { opcode: 0x0, fin: true, length: 70000, wide: 0, mask: 0, seed: 3 },
      ];
      for (const masked of [true, false]) {
        const t = new FrameTracker({ masked });
        const bytes = Buffer.concat(specs.map((f) => encodeFrame(f, masked)));
        let ok = true;
        for (let i = 0; i < bytes.length; i++) ok = t.push(bytes.subarray(i, i + 1)) && ok;
        expect(ok).toBe(true);
        expect(t.atBoundary).toBe(true);
        expect([t.frames, t.messages, t.closeCode]).toEqual([5, 1, 4321]);
      }
    });

    it('never throws on garbage, and either accepts it or reports 1002/1009 the same way however it is cut', () => {
      fc.assert(fc.property(
        fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 10 }), fc.option(fc.nat(300), { nil: undefined }),
        (raw, masked, cutPoints, limit) => {
          const bytes = Buffer.from(raw);
          const whole = new FrameTracker({ masked, maxFramePayload: limit, maxMessageSize: limit });
          const ok = whole.push(bytes);
          expect(ok).toBe(whole.violation === undefined);
          if (!ok) expect([1002, 1009]).toContain(whole.violation?.code);
          const cut = new FrameTracker({ masked, maxFramePayload: limit, maxMessageSize: limit });
          const points = [...new Set(cutPoints.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
          let from = 0;
          for (const p of [...points, bytes.length]) { cut.push(bytes.subarray(from, p)); from = p; }
          expect(cut.violation).toEqual(whole.violation);
          expect([cut.frames, cut.messages, cut.closeCode, cut.atBoundary]).toEqual([whole.frames, whole.messages, whole.closeCode, whole.atBoundary]);
          if (!ok) expect(whole.push(Buffer.from([0x81, 0x00]))).toBe(false);
        }), RUN);
    });

    it('never throws when a valid stream has one byte corrupted', () => {
      fc.assert(fc.property(stream, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, at, flip) => {
        const bytes = Buffer.from(s.bytes);
        bytes[at % bytes.length] ^= flip;
        const t = new FrameTracker({ masked: s.masked });
        expect(t.push(bytes)).toBe(t.violation === undefined);
      }), { ...RUN, numRuns: 100 });
    });

    it.each([
      ['MASK bit clear from the client', true, frame(0x81, 0x00), 'MASK must be set'],
      ['MASK bit set from the server', false, frame(0x81, 0x80, 0, 0, 0, 0), 'MASK must be clear'],
      ['reserved data opcode 0x3', false, frame(0x83, 0x00), 'reserved opcode 0x3'],
      ['reserved control opcode 0xb', false, frame(0x8b, 0x00), 'reserved opcode 0xb'],
      ['control frame with FIN=0', false, frame(0x09, 0x00), 'fragmented control frame'],
      ['control frame with a 16-bit length', false, frame(0x89, 126, 0, 126), 'control frame payload over 125 bytes'],
      ['continuation with no message in progress', false, frame(0x80, 0x00), 'continuation frame without a message in progress'],
      ['new data frame inside a fragmented message', false, Buffer.concat([frame(0x01, 0x00), frame(0x82, 0x00)]), 'new data frame inside a fragmented message'],
      ['64-bit length with its top bit set', false, frame(0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0), '64-bit payload length has its most significant bit set'],
      ['close frame with a 1-byte payload', false, frame(0x88, 0x01, 0x03), 'close frame payload of 1 byte'],
    ])('reports 1002 for %s', (_name, masked, bytes, reason) => {
      const t = new FrameTracker({ masked });
      expect(t.push(bytes)).toBe(false);
      expect(t.violation).toEqual({ code: 1002, reason });
      expect(t.atBoundary).toBe(false);
    });

    it('reports a wrong MASK bit as soon as the first two header bytes arrive', () => {
      const t = new FrameTracker({ masked: true });
      expect(t.push(Buffer.from([0x82]))).toBe(true);
      expect(t.push(Buffer.from([127]))).toBe(false);
      expect(t.violation?.code).toBe(1002);
    });

    it('accepts RSV1, RSV2 and RSV3, which belong to extensions negotiated between the ends', () => {
      const t = new FrameTracker({ masked: false });
      expect(t.push(frame(0xc1, 0x01, 0x61))).toBe(true);
      expect(t.push(frame(0xb2, 0x00))).toBe(true);
      expect([t.frames, t.messages]).toEqual([2, 2]);
    });

    it('skips a payload over 4 GiB by counting, with both words of its 64-bit length', () => {
      const t = new FrameTracker({ masked: false });
      const mib = Buffer.alloc(1 << 20);
      t.push(frame(0x82, 127, 0, 0, 0, 0x01, 0, 0, 0, 0x03));
      let ok = true;
      for (let i = 0; i < 4096; i++) ok = t.push(mib) && ok;
      expect([ok, t.atBoundary]).toEqual([true, false]);
      expect(t.pushToBoundary(Buffer.from([1, 2, 3, 0x89, 0x00]))).toBe(3);
      expect([t.atBoundary, t.frames, t.messages]).toEqual([true, 1, 1]);
    });

    it('reports 1009 for a 64-bit length beyond 2^53 - 1, which cannot be counted exactly', () => {
      const t = new FrameTracker({ masked: false });
      expect(t.push(frame(0x82, 127, 0x00, 0x20, 0, 0, 0, 0, 0, 0))).toBe(false);
      expect(t.violation?.code).toBe(1009);
    });

    it('reports 1009 for a frame over maxFramePayload, from its header alone', () => {
      const t = new FrameTracker({ masked: false, maxFramePayload: 10 });
      expect(t.push(Buffer.concat([frame(0x82, 10), Buffer.alloc(10)]))).toBe(true);
      expect(t.push(frame(0x82, 11))).toBe(false);
      expect(t.violation).toEqual({ code: 1009, reason: 'frame payload too big' });
    });

    it('reports 1009 when the fragments of one message add up past maxMessageSize, control frames not counted', () => {
      const t = new FrameTracker({ masked: false, maxMessageSize: 10 });
      expect(t.push(Buffer.concat([frame(0x01, 6), Buffer.alloc(6), frame(0x89, 100), Buffer.alloc(100)]))).toBe(true);
      expect(t.push(Buffer.concat([frame(0x00, 4), Buffer.alloc(4), frame(0x80, 0)]))).toBe(true);
      expect(t.messages).toBe(1);
      expect(t.push(Buffer.concat([frame(0x01, 6), Buffer.alloc(6), frame(0x00, 4), Buffer.alloc(4)]))).toBe(true);
      expect(t.push(frame(0x80, 1))).toBe(false);
      expect(t.violation).toEqual({ code: 1009, reason: 'message too big' });
    });

    it('starts counting afresh for each message', () => {
      const t = new FrameTracker({ masked: false, maxMessageSize: 10 });
      const tenBytes = Buffer.concat([frame(0x82, 10), Buffer.alloc(10)]);
      expect(t.push(Buffer.concat([tenBytes, tenBytes, tenBytes]))).toBe(true);
      expect(t.messages).toBe(3);
    });

    it('reads the close code through the mask, and 1005 for an empty close frame', () => {
      const masked = new FrameTracker({ masked: true });
      const spec: FrameSpec = { opcode: 0x8, fin: true, length: 0, wide: 0, mask: 0x12345678, seed: 1, closeCode: 1001, reason: 'going away' };
      masked.push(encodeFrame(spec, true));
      expect(masked.closeCode).toBe(1001);
      const empty = new FrameTracker({ masked: false });
      empty.push(frame(0x88, 0x00));
      expect(empty.closeCode).toBe(1005);
    });

    it('keeps the code of the first close frame and sets it only once the frame has fully passed', () => {
      const t = new FrameTracker({ masked: false });
      t.push(frame(0x88, 0x04, 0x0f, 0xa0, 0x61));
      expect(t.closeCode).toBeUndefined();
      t.push(Buffer.from([0x62, 0x88, 0x02, 0x03, 0xe8]));
      expect([t.closeCode, t.frames]).toEqual([4000, 2]);
    });

    it('rejects a negative limit when constructed', () => {
      expect(() => new FrameTracker({ masked: false, maxMessageSize: -1 })).toThrow(RangeError);
    });
  });

  describe('violationOffset', () => {
    const text = Buffer.from([0x81, 0x02, 0x68, 0x69]); // unmasked "hi"
    const bigPing = Buffer.from([0x89, 0x7e, 0x00, 0x7e]); // a ping claiming 126 bytes

    it('is -1 while no violation was found', () => {
      const t = new FrameTracker({ masked: false });
      t.push(text);
      expect(t.violationOffset).toBe(-1);
    });

    it('points at the first header byte of the offending frame, after the frames that passed', () => {
      const t = new FrameTracker({ masked: false });
      expect(t.push(Buffer.concat([text, text, bigPing]))).toBe(false);
      expect(t.violation).toEqual({ code: 1002, reason: 'control frame payload over 125 bytes' });
      expect(t.violationOffset).toBe(8);
    });

    it('points past the rest of a frame that began in an earlier chunk', () => {
      const t = new FrameTracker({ masked: false, maxFramePayload: 10 });
      t.push(Buffer.from([0x82, 0x05, 1, 2]));
      expect(t.push(Buffer.from([3, 4, 5, 0x82, 0x0b]))).toBe(false);
      expect(t.violation?.code).toBe(1009);
      expect(t.violationOffset).toBe(3);
    });

    it('counts a header gathered byte by byte from where it started in the chunk', () => {
      const t = new FrameTracker({ masked: false });
      // "hi", then the first two bytes of a 64-bit-length header: too short for the fast path, bad at byte 2.
      expect(t.push(Buffer.concat([text, Buffer.from([0x89, 0x7f])]))).toBe(false);
      expect(t.violationOffset).toBe(4);
    });

    it('is -1 when the offending header began in an earlier chunk (its first bytes were already passed on)', () => {
      const t = new FrameTracker({ masked: false });
      expect(t.push(Buffer.concat([text, Buffer.from([0x89])]))).toBe(true);
      expect(t.push(Buffer.from([0x7e, 0x00, 0x7e]))).toBe(false);
      expect(t.violationOffset).toBe(-1);
    });
  });

  describe('pushToBoundary()', () => {
    it('stops exactly at the end of the current frame, or consumes the chunk when the frame goes on', () => {
      fc.assert(fc.property(stream, cuts, fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }), (s, c, steps) => {
        const t = new FrameTracker({ masked: s.masked });
        let base = 0;
        let step = 0;
        for (const chunk of chunksOf(s, c)) {
          let at = 0;
          while (at < chunk.length) {
            const absolute = base + at;
            if (t.atBoundary) {
              expect(t.pushToBoundary(chunk, at)).toBe(0);
              // pushToBoundary() is for mid-frame positions: step into the next frame with push().
              const n = Math.min(steps[step++ % steps.length], chunk.length - at);
              expect(t.push(chunk.subarray(at, at + n))).toBe(true);
              at += n;
              continue;
            }
            const nextEnd = s.ends.find((e) => e > absolute) ?? s.bytes.length;
            const consumed = t.pushToBoundary(chunk, at);
            expect(base + at + consumed).toBe(Math.min(nextEnd, base + chunk.length));
            expect(t.atBoundary).toBe(base + at + consumed === nextEnd);
            at += consumed;
          }
          base += chunk.length;
        }
        expectFinalState(t, s);
      }), RUN);
    });

    it('returns 0 after a violation', () => {
      const t = new FrameTracker({ masked: true });
      t.push(frame(0x81, 0x00));
      expect(t.pushToBoundary(frame(0x81, 0x80, 0, 0, 0, 0))).toBe(0);
    });
  });
});

function decode(frameBytes: Buffer, isServer: boolean): Promise<{ event: string; code?: number; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const receiver = new Receiver({ isServer });
    receiver.on('conclude', (code, reason) => resolve({ event: 'close', code, data: Buffer.from(reason) }));
    receiver.on('ping', (data) => resolve({ event: 'ping', data: Buffer.from(data) }));
    receiver.on('error', reject);
    // ws unmasks in place; hand it a copy so the same bytes can still be fed to the tracker.
    receiver.write(Buffer.from(frameBytes));
  });
}

describe('encodeCloseFrame()', () => {
  it.each([true, false])('produces a frame ws decodes to the same code and reason (masked=%s)', async (masked) => {
    const bytes = encodeCloseFrame(1001, 'proxy shutting down', masked);
    expect((bytes[1] & 0x80) !== 0).toBe(masked);
    await expect(decode(bytes, masked)).resolves.toEqual({ event: 'close', code: 1001, data: Buffer.from('proxy shutting down') });
    const t = new FrameTracker({ masked });
    expect(t.push(bytes)).toBe(true);
    expect(t.closeCode).toBe(1001);
  });

  it('truncates a long reason at a character boundary so the payload stays within 125 bytes', async () => {
    const bytes = encodeCloseFrame(4000, 'é'.repeat(100), true);
    expect(bytes[1] & 0x7f).toBe(124);
    const decoded = await decode(bytes, true);
    expect(decoded.data.toString()).toBe('é'.repeat(61));
  });

  it('refuses close codes that may not be sent', () => {
    expect(() => encodeCloseFrame(1005, '', false)).toThrow(RangeError);
    expect(() => encodeCloseFrame(1006, '', false)).toThrow(RangeError);
  });
});

describe('encodePingFrame()', () => {
  it.each([true, false])('produces a frame ws decodes to the same payload (masked=%s)', async (masked) => {
    const payload = Buffer.from('are you there?');
    const bytes = encodePingFrame(payload, masked);
    await expect(decode(bytes, masked)).resolves.toEqual({ event: 'ping', data: payload });
    expect(payload.toString()).toBe('are you there?');
    const t = new FrameTracker({ masked });
    expect(t.push(bytes)).toBe(true);
    expect(t.frames).toBe(1);
  });

  it('encodes an empty ping and refuses a payload over 125 bytes', async () => {
    await expect(decode(encodePingFrame(Buffer.alloc(0), false), false)).resolves.toEqual({ event: 'ping', data: Buffer.alloc(0) });
    expect(() => encodePingFrame(Buffer.alloc(126), true)).toThrow(RangeError);
  });
});
