import { ChunkedDecoder } from '../../../src/http2/extended-connect-body';

/** Feeds `parts` one by one; returns the decoded text and the decoder. */
function decode(...parts: string[]): { text: string; decoder: ChunkedDecoder } {
  const decoder = new ChunkedDecoder();
  let text = '';
  for (const p of parts) text += decoder.push(Buffer.from(p, 'latin1')).map((b) => b.toString('latin1')).join('');
  return { text, decoder };
}

describe('ChunkedDecoder', () => {
  it('yields the data of each chunk and ends at the last chunk', () => {
    const { text, decoder } = decode('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    expect(text).toBe('hello world');
    expect([decoder.done, decoder.failed]).toEqual([true, false]);
  });

  it('decodes the same body fed one byte at a time', () => {
    const body = 'a\r\n0123456789\r\n1;ext=1\r\n!\r\n0\r\n\r\n';
    const { text, decoder } = decode(...body.split(''));
    expect(text).toBe('0123456789!');
    expect(decoder.done).toBe(true);
  });

  it('drops the trailer section and whatever follows the body', () => {
    const { text, decoder } = decode('3\r\nabc\r\n0\r\nx-trailer: secret\r\n\r\nGARBAGE');
    expect(text).toBe('abc');
    expect(decoder.done).toBe(true);
    expect(decoder.push(Buffer.from('more'))).toEqual([]);
  });

  it.each([
    ['a size that is not hex', 'zz\r\n'],
    ['a chunk longer than its size', '2\r\nabc\r\n'],
    ['a bare LF after the size', '2\nab\r\n'],
    ['an absurd size', 'ffffffffffffff\r\n'],
  ])('fails on %s', (_name, body) => {
    expect(decode(body).decoder.failed).toBe(true);
  });
});
