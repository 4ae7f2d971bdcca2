import fc from 'fast-check';
import { FrameTracker } from '../../../src/websocket/ws-frame-tracker';
import { NativeRelay, nativeRelayLoadError, nativeTrackFrames } from '../../../src/native/native-relay';

// The C++ tracker (native/src/frame_tracker.h) is a port of ws-frame-tracker.ts: both data planes must give
// the same verdict on the same bytes, however they are split into reads. Skipped (reason on the line) when
// the addon did not build; under CI=true the addon must be there.
const run = NativeRelay.available || process.env.CI === 'true';
const describeNative = run ? describe : describe.skip;
const title = run ? 'native frame tracker = TypeScript frame tracker' : `native frame tracker (skipped: ${nativeRelayLoadError ?? 'not built'})`;

/** One frame header and as much payload as the generator gives it (possibly less than declared). */
const frameBytes = fc
  .record({
    opcode: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0x0, 0x1, 0x2, 0x8, 0x9, 0xa) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
    fin: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    maskRight: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    form: fc.constantFrom(7, 7, 7, 16, 64),
    length: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 125 }) },
      { weight: 2, arbitrary: fc.integer({ min: 126, max: 3000 }) },
      { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 63) },
    ),
    payload: fc.uint8Array({ maxLength: 200 }),
  })
  .map((f) => (masked: boolean): Buffer => {
    const m = f.maskRight === masked;
    const form = f.length > 65535 ? 64 : f.length > 125 && f.form === 7 ? 16 : f.form;
    const header = Buffer.alloc(2 + (form === 64 ? 8 : form === 16 ? 2 : 0) + (m ? 4 : 0));
    header[0] = (f.fin ? 0x80 : 0) | f.opcode;
    header[1] = (m ? 0x80 : 0) | (form === 64 ? 127 : form === 16 ? 126 : f.length);
    if (form === 16) header.writeUInt16BE(f.length & 0xffff, 2);
    if (form === 64) header.writeBigUInt64BE(BigInt(f.length), 2);
    if (m) header.writeUInt32BE(0x01020304, header.length - 4);
    // Payload as declared when it is small, else what was generated (the stream then ends mid-frame).
    const declared = form === 7 ? f.length : form === 16 ? f.length & 0xffff : f.length;
    const payload = declared <= 3000 ? Buffer.alloc(declared, 0x41) : Buffer.from(f.payload);
    if (f.opcode === 0x8 && declared >= 2 && declared <= 3000) payload.writeUInt16BE(1000 + (f.payload[0] ?? 0), 0);
    return Buffer.concat([header, payload]);
  });

const input = fc.record({
  masked: fc.boolean(),
  frames: fc.array(frameBytes, { minLength: 1, maxLength: 8 }),
  flip: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { nil: undefined }),
  chunk: fc.integer({ min: 1, max: 64 }),
  maxFramePayload: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 2000 })),
  maxMessageSize: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 4000 })),
});

function tsVerdict(bytes: Buffer, masked: boolean, maxFramePayload: number, maxMessageSize: number, chunk: number): number[] {
  const t = new FrameTracker({ masked, maxFramePayload, maxMessageSize });
  for (let at = 0; at < bytes.length && t.violation === undefined; at += chunk) t.push(bytes.subarray(at, at + chunk));
  return [t.frames, t.messages, t.closeCode ?? 0, t.violation?.code ?? 0];
}

describeNative(title, () => {
  it('counts the same frames and messages, sees the same close code and the same violation, for any bytes and any reads', () => {
    fc.assert(
      fc.property(input, (i) => {
        const bytes = Buffer.concat(i.frames.map((f) => f(i.masked)));
        if (i.flip !== undefined && bytes.length > 0) bytes[i.flip[0] % bytes.length] = i.flip[1];
        const expected = tsVerdict(bytes, i.masked, i.maxFramePayload, i.maxMessageSize, i.chunk);
        expect(nativeTrackFrames(bytes, i.masked, i.maxFramePayload, i.maxMessageSize, i.chunk)).toEqual(expected);
      }),
      { numRuns: 3000, interruptAfterTimeLimit: 8000 },
    );
  });
});
