import { normalizeIp, readCookie, readQueryParam } from '../../../src/strategies/request-keys';

describe('readCookie()', () => {
  it.each([
    ['sid=abc', 'sid', 'abc'],
    ['a=1; sid=abc; b=2', 'sid', 'abc'],
    ['a=1;sid=abc', 'sid', 'abc'],
    ['  sid = abc ', 'sid', 'abc'],
    ['sid="quoted"', 'sid', 'quoted'],
    ['sid=first; sid=second', 'sid', 'first'],
    ['xsid=no; sidx=no', 'sid', undefined],
    ['sid=', 'sid', ''],
    ['novalue; sid=v', 'sid', 'v'],
    ['a=b=c', 'a', 'b=c'],
    ['', 'sid', undefined],
  ])('reads %j -> %s = %j', (header, name, expected) => {
    expect(readCookie(header, name)).toBe(expected);
  });

  it('reads nothing without a header', () => {
    expect(readCookie(undefined, 'sid')).toBeUndefined();
  });
});

describe('readQueryParam()', () => {
  it.each([
    ['/chat?room=42', 'room', '42'],
    ['/chat?a=1&room=42&b=2', 'room', '42'],
    ['/chat?room=a%20b', 'room', 'a b'],
    ['/chat?room=a+b', 'room', 'a b'],
    ['/chat?r%6Fom=x', 'room', 'x'],
    ['/chat?room', 'room', ''],
    ['/chat?room=%E0%A4%A', 'room', '%E0%A4%A'],
    ['/chat?room=1#frag', 'room', '1'],
    ['/chat?rooms=1', 'room', undefined],
    ['/chat', 'room', undefined],
  ])('reads %j -> %s = %j', (url, name, expected) => {
    expect(readQueryParam(url, name)).toBe(expected);
  });
});

describe('normalizeIp()', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::1', '::1'],
    ['', undefined],
    [undefined, undefined],
  ])('normalizes %p to %p', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });
});
