import { DEFAULT_HTTP2, resolveHttp2Options } from '../../../src/http2/http2-options';

describe('resolveHttp2Options()', () => {
  it('fills every default when the group is left out, and keeps what is given', () => {
    expect(resolveHttp2Options(undefined)).toBe(DEFAULT_HTTP2);
    const resolved = resolveHttp2Options({ maxConcurrentStreams: 10, floodInterval: 500 });
    expect(resolved).toEqual({ ...DEFAULT_HTTP2, maxConcurrentStreams: 10, floodInterval: 500 });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it.each([
    [null, 'options.http2 must be an object'],
    [[], 'options.http2 must be an object'],
    [{ maxStreams: 5 }, /^options\.http2\.maxStreams is not an option \(known: maxConcurrentStreams, /],
    [{ maxConcurrentStreams: 0 }, 'options.http2.maxConcurrentStreams must be a positive integer (at most 4294967295), got 0'],
    [{ maxResets: 2.5 }, 'options.http2.maxResets must be a positive integer (at most 4294967295), got 2.5'],
    [{ maxHeaderListSize: 2 ** 32 }, 'options.http2.maxHeaderListSize must be a positive integer (at most 4294967295), got 4294967296'],
    [{ floodInterval: '10s' }, 'options.http2.floodInterval must be a positive integer number of milliseconds (at most 4294967295), got 10s'],
    [{ idleTimeout: -1 }, 'options.http2.idleTimeout must be a positive integer number of milliseconds (at most 4294967295), got -1'],
  ])('refuses %j with ERR_INVALID_OPTION', (input, message) => {
    expect(() => resolveHttp2Options(input)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: typeof message === 'string' ? message : expect.stringMatching(message) }) as Error);
  });
});
