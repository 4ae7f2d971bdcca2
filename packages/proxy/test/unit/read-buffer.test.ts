import { ReadBuffer } from '../../src/read-buffer';

describe('ReadBuffer (the reusable read buffer of a backend socket)', () => {
  it('starts small and keeps reusing the same buffer while nothing holds on to it', () => {
    const rb = new ReadBuffer();
    const first = rb.current;
    expect(first.length).toBe(512);
    expect(rb.next(64, false)).toBe(first);
    expect(rb.next(511, false)).toBe(first);
  });

  it('moves to a 64 KiB buffer after a read that filled the small one, and keeps it for large reads', () => {
    const rb = new ReadBuffer();
    const small = rb.current;
    const large = rb.next(small.length, false);
    expect(large.length).toBe(64 * 1024);
    expect(rb.next(65536, false)).toBe(large);
    expect(rb.next(5000, false)).toBe(large);
  });

  it('goes back to the small buffer after a small read, so a quiet connection holds 512 bytes', () => {
    const rb = new ReadBuffer();
    const small = rb.current;
    rb.next(small.length, false);
    expect(rb.next(100, false)).toBe(small);
  });

  it('never hands out a buffer that a pending write still references', () => {
    const rb = new ReadBuffer();
    const small = rb.current;
    const afterLentSmall = rb.next(10, true);
    expect(afterLentSmall).not.toBe(small);
    expect(afterLentSmall.length).toBe(512);
    // A full small read that was lent: the next read goes to a new large buffer, and the small one is new too.
    const large = rb.next(512, true);
    expect(large.length).toBe(64 * 1024);
    const large2 = rb.next(65536, true);
    expect(large2).not.toBe(large);
    expect(large2.length).toBe(64 * 1024);
    // A small read into a lent large buffer: back to the (unlent) small one.
    const back = rb.next(10, true);
    expect(back).not.toBe(large2);
    expect(back.length).toBe(512);
    expect(back).not.toBe(small);
  });
});
