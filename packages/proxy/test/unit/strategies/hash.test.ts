import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../../../src/errors';
import { HashStrategy } from '../../../src/strategies/hash';
import type { HashKeySource } from '../../../src/strategies/request-keys';
import type { BackendView, PickContext, Strategy } from '../../../src/strategies/strategy';
import { candidatesOf, fakeBackends, fakeContext } from './fakes';

type Request = { url?: string; headers?: Record<string, string> };

/** First-candidate strategy that counts its picks: shows when the fallback is used. */
class CountingFallback implements Strategy {
  readonly name = 'counting';
  picks = 0;
  pick(_context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    this.picks++;
    return candidates[0];
  }
}

const SOURCES: { name: string; key: HashKeySource | undefined; request: (value: string) => Request; missing: Request }[] = [
  { name: 'the path (default)', key: undefined, request: (v) => ({ url: `/rooms/${v}?t=${Math.random()}` }), missing: { url: '' } },
  { name: "'path'", key: 'path', request: (v) => ({ url: `/rooms/${v}` }), missing: { url: '' } },
  { name: 'a header', key: { header: 'X-User-Id' }, request: (v) => ({ headers: { 'x-user-id': v } }), missing: { headers: {} } },
  { name: 'a query parameter', key: { query: 'room' }, request: (v) => ({ url: `/chat?x=1&room=${encodeURIComponent(v)}` }), missing: { url: '/chat?x=1' } },
  { name: 'a cookie', key: { cookie: 'sid' }, request: (v) => ({ headers: { cookie: `a=b; sid=${v}` } }), missing: { headers: { cookie: 'a=b' } } },
  {
    name: 'a function',
    key: (req: IncomingMessage) => req.headers['x-tenant'] as string | undefined,
    request: (v) => ({ headers: { 'x-tenant': v } }),
    missing: { headers: {} },
  },
];

describe('HashStrategy', () => {
  describe.each(SOURCES)('keyed by $name', ({ key, request, missing }) => {
    const backends = fakeBackends(10);
    const make = (fallback?: Strategy): HashStrategy => {
      const strategy = new HashStrategy(key === undefined ? { fallback } : { key, fallback });
      strategy.update(backends);
      return strategy;
    };
    const pick = (strategy: HashStrategy, req: Request): string | undefined =>
      strategy.pick(fakeContext(req), candidatesOf(backends))?.id;

    it('sends the same key to the same backend, and different keys across backends', () => {
      const strategy = make();
      const used = new Set<string | undefined>();
      for (let i = 0; i < 200; i++) {
        const value = `user-${i}`;
        const first = pick(strategy, request(value));
        expect(pick(strategy, request(value))).toBe(first);
        used.add(first);
      }
      expect(used.size).toBe(backends.length);
    });

    it('agrees with an independent instance', () => {
      const a = make();
      const b = make();
      for (let i = 0; i < 200; i++) expect(pick(a, request(`k${i}`))).toBe(pick(b, request(`k${i}`)));
    });

    it('places a request without the key with the fallback strategy', () => {
      const fallback = new CountingFallback();
      const strategy = make(fallback);
      expect(pick(strategy, missing)).toBe(backends[0].id);
      expect(fallback.picks).toBe(1);
      pick(strategy, request('present'));
      expect(fallback.picks).toBe(1);
    });
  });

  it('joins repeated header values, so the key is stable however the client splits them', () => {
    const backends = fakeBackends(10);
    const strategy = new HashStrategy({ key: { header: 'x-shard' } });
    strategy.update(backends);
    const ctx = fakeContext();
    ctx.req.headers['x-shard'] = ['a', 'b'] as unknown as string;
    const joined = fakeContext({ headers: { 'x-shard': 'a,b' } });
    expect(strategy.pick(ctx, backends)).toBe(strategy.pick(joined, backends));
  });

  it.each([
    { key: 'url' },
    { key: { header: '' } },
    { key: { query: 42 } },
    { key: { cookies: 'sid' } },
    { key: null },
  ])('throws ERR_INVALID_OPTION for key $key', ({ key }) => {
    expect(() => new HashStrategy({ key } as never)).toThrow(InvalidOptionError);
  });
});
