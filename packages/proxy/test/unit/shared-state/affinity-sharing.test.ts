/**
 * The hooks shared state uses on the strategies: an AffinityStrategy tells its observer about new and
 * renewed entries and adopts entries from the fleet without echoing them; a StickyCookieStrategy made
 * without a secret takes the fleet's secret, one made with a secret never does.
 */
import { withAffinity } from '../../../src/strategies/affinity';
import { RoundRobinStrategy } from '../../../src/strategies/round-robin';
import { StickyCookieStrategy } from '../../../src/strategies/sticky-cookie';
import { candidatesOf, fakeBackends, fakeContext } from '../strategies/fakes';

describe('AffinityStrategy as shared state sees it', () => {
  function setup() {
    const backends = fakeBackends(3);
    const strategy = withAffinity(new RoundRobinStrategy(), { ttl: 60_000, max: 100 });
    strategy.update(backends);
    const seen: string[] = [];
    strategy.observe({ remembered: (key, id, renewed) => seen.push(`${key}=${id}${renewed ? ' renewed' : ''}`) });
    const pick = (address: string): string | undefined => strategy.pick(fakeContext({ address }), candidatesOf(backends))?.id;
    return { backends, strategy, seen, pick };
  }

  it('reports a new entry once, then each return as a renewal', () => {
    const { seen, pick } = setup();
    const home = pick('10.0.0.1');
    pick('10.0.0.1');
    expect(seen).toEqual([`10.0.0.1=${home}`, `10.0.0.1=${home} renewed`]);
  });

  it('reports a changed entry when the remembered backend cannot take the client', () => {
    const { backends, seen, pick } = setup();
    const home = pick('10.0.0.1')!;
    backends.find((b) => b.id === home)!.state = 'draining';
    const moved = pick('10.0.0.1')!;
    expect(moved).not.toBe(home);
    expect(seen).toEqual([`10.0.0.1=${home}`, `10.0.0.1=${moved}`]);
  });

  it('adopts an entry from the fleet without reporting it, and places the client there', () => {
    const { strategy, seen, pick } = setup();
    strategy.adopt('10.0.0.7', 'backend-2');
    expect(strategy.peek('10.0.0.7')).toBe('backend-2');
    expect(seen).toEqual([]);
    expect(pick('10.0.0.7')).toBe('backend-2');
    expect(seen).toEqual(['10.0.0.7=backend-2 renewed']);
  });

  it('stops reporting once the observer is removed', () => {
    const { strategy, seen, pick } = setup();
    strategy.observe(undefined);
    pick('10.0.0.1');
    expect(seen).toEqual([]);
  });
});

describe('StickyCookieStrategy.adoptFleetSecret()', () => {
  const secret = Buffer.alloc(32, 7);

  it('replaces the random secret of a strategy made without one: two such strategies then agree', () => {
    const backends = fakeBackends(2);
    const a = new StickyCookieStrategy();
    const b = new StickyCookieStrategy();
    a.update(backends);
    b.update(backends);
    expect(a.tokenFor('backend-1')).not.toBe(b.tokenFor('backend-1'));
    expect(a.adoptFleetSecret(secret)).toBe(true);
    expect(b.adoptFleetSecret(secret)).toBe(true);
    expect(a.tokenFor('backend-1')).toBe(b.tokenFor('backend-1'));
    // The token map was rebuilt: a cookie signed with the fleet secret places the client.
    const cookie = `sb_affinity=${a.tokenFor('backend-1')}`;
    expect(b.pick(fakeContext({ headers: { cookie } }), candidatesOf(backends))?.id).toBe('backend-1');
  });

  it('leaves a configured secret alone', () => {
    const s = new StickyCookieStrategy({ secret: 'configured-secret-of-16+bytes' });
    const before = s.tokenFor('x');
    expect(s.adoptFleetSecret(secret)).toBe(false);
    expect(s.tokenFor('x')).toBe(before);
  });
});
