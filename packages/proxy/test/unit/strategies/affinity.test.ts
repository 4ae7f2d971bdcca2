import { InvalidOptionError } from '../../../src/errors';
import { withAffinity, type AffinityOptions } from '../../../src/strategies/affinity';
import { RoundRobinStrategy } from '../../../src/strategies/round-robin';
import type { BackendView, PickContext, Strategy } from '../../../src/strategies/strategy';
import { candidatesFor, candidatesOf, fakeBackends, fakeContext, ipv4, type FakeBackend } from './fakes';

/** A clock the test moves by hand. */
class FakeClock {
  time = 1_000;
  now(): number {
    return this.time;
  }
}

function setup(options: Partial<AffinityOptions> = {}) {
  const clock = new FakeClock();
  const inner = new RoundRobinStrategy();
  const backends = fakeBackends(4);
  const strategy = withAffinity(inner, { ttl: 60_000, max: 1_000, clock, ...options });
  strategy.update(backends);
  const pick = (address: string): string | undefined => strategy.pick(fakeContext({ address }), candidatesOf(backends))?.id;
  return { clock, backends, strategy, pick };
}

describe('withAffinity()', () => {
  it('sends a returning client back to the backend it used, while round-robin moves everyone else on', () => {
    const { pick } = setup();
    const first = pick('10.0.0.1');
    const others = [pick('10.0.0.2'), pick('10.0.0.3'), pick('10.0.0.4')];
    expect(new Set([first, ...others]).size).toBe(4);
    for (let i = 0; i < 5; i++) expect(pick('10.0.0.1')).toBe(first);
  });

  it('forgets a client after ttl ms without a connection', () => {
    const { clock, pick } = setup({ ttl: 60_000 });
    const first = pick('10.0.0.1');
    clock.time += 59_999;
    expect(pick('10.0.0.1')).toBe(first);
    // The reconnect renewed the memory: 60 s from now it is still there, 60 s + 1 ms later it is gone.
    clock.time += 60_000;
    expect(pick('10.0.0.1')).toBe(first);
    clock.time += 60_001;
    pick('10.0.0.9'); // round-robin moves on
    expect(pick('10.0.0.1')).not.toBe(first);
  });

  it('remembers at most max clients, forgetting the least recently seen', () => {
    const { strategy, pick } = setup({ max: 100 });
    const homes = new Map<string, string | undefined>();
    for (let i = 0; i < 250; i++) {
      homes.set(ipv4(i), pick(ipv4(i)));
      expect(strategy.size).toBeLessThanOrEqual(100);
    }
    expect(strategy.size).toBe(100);
    // The 100 most recent clients are remembered.
    for (let i = 150; i < 250; i++) expect(pick(ipv4(i))).toBe(homes.get(ipv4(i)));
  });

  describe.each([
    { change: 'goes down', apply: (b: FakeBackend) => (b.state = 'down') },
    { change: 'drains', apply: (b: FakeBackend) => (b.state = 'draining') },
    { change: 'is full', apply: (b: FakeBackend) => (b.maxConnections = 0) },
  ])('when the remembered backend $change', ({ apply }) => {
    it('lets the inner strategy choose, and remembers the new backend', () => {
      const { backends, pick } = setup();
      const first = pick('10.0.0.1')!;
      apply(backends.find((b) => b.id === first)!);
      const second = pick('10.0.0.1');
      expect(second).not.toBe(first);
      expect(second).toBeDefined();
      Object.assign(backends.find((b) => b.id === first)!, { state: 'up', maxConnections: Infinity });
      expect(pick('10.0.0.1')).toBe(second);
    });
  });

  it('lets the inner strategy choose when the remembered backend must be avoided (a retry)', () => {
    const { backends, strategy, pick } = setup();
    const home = pick('10.0.0.1')!;
    const retry = fakeContext({ address: '10.0.0.1', avoid: [home] });
    const second = strategy.pick(retry, candidatesFor(backends, retry))?.id;
    expect(second).toBeDefined();
    expect(second).not.toBe(home);
    // The retry succeeded elsewhere: that is where the client now lives.
    expect(pick('10.0.0.1')).toBe(second);
  });

  it('keys on a custom identity when given one', () => {
    const clock = new FakeClock();
    const backends = fakeBackends(4);
    const strategy = withAffinity(new RoundRobinStrategy(), { ttl: 1000, max: 10, clock, key: (ctx) => ctx.req.headers['x-user'] as string | undefined });
    strategy.update(backends);
    const as = (user: string, address: string) => strategy.pick(fakeContext({ address, headers: { 'x-user': user } }), backends)?.id;
    const home = as('alice', '10.0.0.1');
    as('bob', '10.0.0.1');
    expect(as('alice', '10.9.9.9')).toBe(home);
  });

  it('passes update, open, close and response headers through to the inner strategy', () => {
    const calls: string[] = [];
    const inner: Strategy = {
      name: 'inner',
      pick: (_c: PickContext, candidates: readonly BackendView[]) => candidates[0],
      update: () => calls.push('update'),
      onConnectionOpen: () => calls.push('open'),
      onConnectionClose: () => calls.push('close'),
      responseHeaders: () => ({ 'x-inner': '1' }),
    };
    const strategy = withAffinity(inner, { ttl: 1000, max: 10 });
    const backends = fakeBackends(2);
    const ctx = fakeContext();
    strategy.update(backends);
    const chosen = strategy.pick(ctx, backends)!;
    strategy.onConnectionOpen(chosen, ctx);
    strategy.onConnectionClose(chosen);
    expect(strategy.responseHeaders(chosen, ctx)).toEqual({ 'x-inner': '1' });
    expect(calls).toEqual(['update', 'open', 'close']);
    expect(strategy.name).toBe('inner+affinity');
  });

  it.each([
    [{ ttl: 0, max: 10 }, /ttl/],
    [{ ttl: Number.POSITIVE_INFINITY, max: 10 }, /ttl/],
    [{ ttl: 1000, max: 0 }, /max/],
    [{ ttl: 1000, max: 1.5 }, /max/],
    [{ ttl: 1000 }, /max/],
    [{ ttl: 1000, max: 10, key: 'ip' }, /key/],
  ])('throws ERR_INVALID_OPTION for %j', (options, message) => {
    expect(() => withAffinity(new RoundRobinStrategy(), options as never)).toThrow(InvalidOptionError);
    expect(() => withAffinity(new RoundRobinStrategy(), options as never)).toThrow(message);
  });

  it('throws ERR_INVALID_OPTION without a strategy or options', () => {
    expect(() => withAffinity(undefined as never, { ttl: 1, max: 1 })).toThrow(InvalidOptionError);
    expect(() => withAffinity(new RoundRobinStrategy(), undefined as never)).toThrow(InvalidOptionError);
  });
});
