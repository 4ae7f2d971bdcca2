import { InvalidOptionError } from '../../../src/errors';
import { IpHashStrategy } from '../../../src/strategies/ip-hash';
import type { BackendView, PickContext, Strategy } from '../../../src/strategies/strategy';
import { candidatesFor, candidatesOf, fakeBackend, fakeBackends, fakeContext, ipv4, type FakeBackend } from './fakes';

const HASHES = ['maglev', 'ring'] as const;

function pickFor(strategy: Strategy, backends: FakeBackend[], address: string): string | undefined {
  return strategy.pick(fakeContext({ address }), candidatesOf(backends))?.id;
}

/** A strategy that records what it is told, to check delegation. */
class RecordingStrategy implements Strategy {
  readonly name = 'recording';
  readonly calls: string[] = [];
  pick(_context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    this.calls.push('pick');
    return candidates[candidates.length - 1];
  }
  update(): void {
    this.calls.push('update');
  }
  onConnectionOpen(): void {
    this.calls.push('open');
  }
  onConnectionClose(): void {
    this.calls.push('close');
  }
}

describe.each(HASHES)('IpHashStrategy (hash: %s)', (hash) => {
  it('sends the same client IP to the same backend every time', () => {
    const backends = fakeBackends(8);
    const strategy = new IpHashStrategy({ hash });
    strategy.update(backends);
    for (let i = 0; i < 100; i++) {
      const first = pickFor(strategy, backends, ipv4(i));
      for (let again = 0; again < 3; again++) expect(pickFor(strategy, backends, ipv4(i))).toBe(first);
    }
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    const backends = fakeBackends(8);
    const strategy = new IpHashStrategy({ hash });
    strategy.update(backends);
    for (let i = 0; i < 100; i++) expect(pickFor(strategy, backends, `::ffff:${ipv4(i)}`)).toBe(pickFor(strategy, backends, ipv4(i)));
  });

  it('agrees with an independent instance on every one of 10,000 client IPs, whatever the backend order and URLs', () => {
    const a = fakeBackends(12);
    const b = [...a].reverse().map((x) => fakeBackend(x.id, { url: `http://192.0.2.7:${8000 + Number(x.id.split('-')[1])}` }));
    const proxyA = new IpHashStrategy({ hash });
    const proxyB = new IpHashStrategy({ hash });
    proxyA.update(a);
    proxyB.update(b);
    let disagreements = 0;
    for (let i = 0; i < 10_000; i++) if (pickFor(proxyA, a, ipv4(i * 7919)) !== pickFor(proxyB, b, ipv4(i * 7919))) disagreements++;
    expect(disagreements).toBe(0);
  });

  describe.each([
    { change: 'goes down', apply: (b: FakeBackend) => (b.state = 'down') },
    { change: 'drains', apply: (b: FakeBackend) => (b.state = 'draining') },
    { change: 'reaches its connection limit', apply: (b: FakeBackend) => (b.maxConnections = b.activeConnections) },
  ])('when a backend $change', ({ apply }) => {
    it("moves only that backend's clients, and they return when it is back", () => {
      const backends = fakeBackends(6);
      const strategy = new IpHashStrategy({ hash });
      strategy.update(backends);
      const ips = Array.from({ length: 3000 }, (_, i) => ipv4(i));
      const before = ips.map((ip) => pickFor(strategy, backends, ip));
      const victim = backends[2];
      apply(victim);
      strategy.update(backends); // the proxy announces state changes; the table must not reshuffle
      const during = ips.map((ip) => pickFor(strategy, backends, ip));
      let movedOthers = 0;
      for (let k = 0; k < ips.length; k++) {
        expect(during[k]).not.toBe(victim.id);
        if (before[k] !== victim.id && during[k] !== before[k]) movedOthers++;
      }
      expect(movedOthers).toBe(0);
      // The victim's clients spread over the others instead of piling on one neighbour.
      const receivers = new Set(during.filter((_, k) => before[k] === victim.id));
      expect(receivers.size).toBeGreaterThan(2);
      Object.assign(victim, fakeBackend(victim.id));
      strategy.update(backends);
      expect(ips.map((ip) => pickFor(strategy, backends, ip))).toEqual(before);
    });
  });

  it("skips the key's backend when the connection must avoid it (a retry), moving on deterministically", () => {
    const backends = fakeBackends(6);
    const a = new IpHashStrategy({ hash });
    const b = new IpHashStrategy({ hash });
    a.update(backends);
    b.update(backends);
    for (let i = 0; i < 200; i++) {
      const home = pickFor(a, backends, ipv4(i))!;
      const retry = fakeContext({ address: ipv4(i), avoid: [home] });
      const second = a.pick(retry, candidatesFor(backends, retry))?.id;
      expect(second).toBeDefined();
      expect(second).not.toBe(home);
      expect(b.pick(retry, candidatesFor(backends, retry))?.id).toBe(second);
    }
  });

  it('returns undefined when no backend can take a connection', () => {
    const backends = fakeBackends(3);
    const strategy = new IpHashStrategy({ hash });
    strategy.update(backends);
    for (const b of backends) b.state = 'down';
    expect(strategy.pick(fakeContext(), [])).toBeUndefined();
  });

  it('reads the key from the `key` option, e.g. a header set by a trusted balancer', () => {
    const backends = fakeBackends(8);
    const strategy = new IpHashStrategy({ hash, key: (ctx) => ctx.req.headers['x-real-ip'] as string | undefined });
    strategy.update(backends);
    const viaHeader = strategy.pick(fakeContext({ address: '192.0.2.1', headers: { 'x-real-ip': '10.9.9.9' } }), candidatesOf(backends));
    const direct = new IpHashStrategy({ hash });
    direct.update(backends);
    expect(viaHeader?.id).toBe(pickFor(direct, backends, '10.9.9.9'));
  });

  it('uses the fallback strategy when the key is undefined, and tells it about every connection', () => {
    const backends = fakeBackends(3);
    const fallback = new RecordingStrategy();
    const strategy = new IpHashStrategy({ hash, key: () => undefined, fallback });
    strategy.update(backends);
    const ctx = fakeContext();
    const chosen = strategy.pick(ctx, candidatesOf(backends))!;
    expect(chosen.id).toBe('backend-2');
    strategy.onConnectionOpen(chosen, ctx);
    strategy.onConnectionClose(chosen);
    expect(fallback.calls).toEqual(['update', 'pick', 'open', 'close']);
  });

  it('builds its table from the first candidates when update() was never called', () => {
    const backends = fakeBackends(4);
    const handDriven = new IpHashStrategy({ hash });
    const updated = new IpHashStrategy({ hash });
    updated.update(backends);
    for (let i = 0; i < 200; i++) expect(pickFor(handDriven, backends, ipv4(i))).toBe(pickFor(updated, backends, ipv4(i)));
  });
});

describe('IpHashStrategy options', () => {
  it('defaults to Maglev', () => {
    expect(new IpHashStrategy().algorithm).toBe('maglev');
  });

  it.each([
    { options: { hash: 'rendezvous' }, what: 'an unknown hash' },
    { options: { key: 'x-real-ip' }, what: 'a key that is not a function' },
    { options: { boundedLoad: { factor: 0.9 } }, what: 'a bounded-load factor below 1' },
    { options: { fallback: {} }, what: 'a fallback without pick()' },
  ])('throws ERR_INVALID_OPTION for $what', ({ options }) => {
    expect(() => new IpHashStrategy(options as never)).toThrow(InvalidOptionError);
  });
});
