import { execFileSync } from 'node:child_process';
import { ClientLimits, CONCURRENCY_RETRY_AFTER, DEFAULT_MAX_TRACKED_CLIENTS, type ClientLimitsOptions } from '../../../src/edge/client-limits';
import { InvalidOptionError } from '../../../src/errors';

/** A clock the test moves by hand, in ms. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

/** The n-th address of a spray: distinct IPv4 addresses, as a spoofing client would use. */
const sprayed = (n: number): string => `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;

describe('ClientLimits', () => {
  describe('constructor', () => {
    it.each([
      [{ maxConnectionsPerClient: 0 }, 'ClientLimits: maxConnectionsPerClient must be a positive integer, got 0'],
      [{ maxConnectionsPerClient: 1.5 }, 'ClientLimits: maxConnectionsPerClient must be a positive integer, got 1.5'],
      [{ upgradeRate: null }, 'ClientLimits: upgradeRate must be an object { perSecond, burst }, got null'],
      [{ upgradeRate: { perSecond: 0, burst: 1 } }, 'ClientLimits: upgradeRate.perSecond must be a positive finite number, got 0'],
      [{ upgradeRate: { perSecond: Infinity, burst: 1 } }, 'ClientLimits: upgradeRate.perSecond must be a positive finite number, got Infinity'],
      [{ upgradeRate: { perSecond: 1, burst: 0 } }, 'ClientLimits: upgradeRate.burst must be a positive integer, got 0'],
      [{ upgradeRate: { perSecond: 1, burst: 2.5 } }, 'ClientLimits: upgradeRate.burst must be a positive integer, got 2.5'],
      [{ maxTrackedClients: 0 }, 'ClientLimits: maxTrackedClients must be a positive integer, got 0'],
      [{ maxTrackedClients: Infinity }, 'ClientLimits: maxTrackedClients must be a positive integer, got Infinity'],
      [{ ipv6PrefixLength: 0 }, 'ClientLimits: ipv6PrefixLength must be an integer from 1 to 128, got 0'],
      [{ ipv6PrefixLength: 129 }, 'ClientLimits: ipv6PrefixLength must be an integer from 1 to 128, got 129'],
    ])('refuses %j', (options, message) => {
      const create = (): ClientLimits => new ClientLimits(options as unknown as ClientLimitsOptions);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });

    it('defaults maxTrackedClients to 100,000', () => {
      expect(DEFAULT_MAX_TRACKED_CLIENTS).toBe(100_000);
    });

    it('lets everything through when no limit is set', () => {
      const limits = new ClientLimits();
      for (let i = 0; i < 100; i++) expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.snapshot()).toEqual({ trackedClients: 0, clientsWithConnections: 0, openConnections: 0 });
    });
  });

  describe('acquire() with maxConnectionsPerClient', () => {
    it('refuses the connection over the limit with 1 second to wait', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 2 });
      expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('192.0.2.1')).toEqual({ ok: false, reason: 'concurrency', retryAfter: CONCURRENCY_RETRY_AFTER });
      expect(limits.acquire('192.0.2.2').ok).toBe(true);
    });

    it('frees a slot on release(), and only once however often release() is called', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 2 });
      const a = limits.acquire('192.0.2.1');
      const b = limits.acquire('192.0.2.1');
      if (!a.ok || !b.ok) throw new Error('expected slots');
      a.release();
      a.release();
      a.release();
      expect(limits.snapshot()).toEqual({ trackedClients: 0, clientsWithConnections: 1, openConnections: 1 });
      expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('192.0.2.1').ok).toBe(false);
    });

    it('forgets a client once its last connection is released', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 5 });
      const slots = [1, 2, 3].map(() => limits.acquire('192.0.2.1'));
      for (const s of slots) if (s.ok) s.release();
      expect(limits.snapshot()).toEqual({ trackedClients: 0, clientsWithConnections: 0, openConnections: 0 });
    });

    it('counts a dual-stack client as one, whichever spelling it arrives with', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 1 });
      expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('::ffff:192.0.2.1')).toMatchObject({ ok: false, reason: 'concurrency' });
    });

    it('counts an IPv6 /64 as one client by default', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 1 });
      expect(limits.acquire('2001:db8:1:2::1').ok).toBe(true);
      expect(limits.acquire('2001:db8:1:2:ffff:ffff:ffff:ffff')).toMatchObject({ ok: false });
      expect(limits.acquire('2001:db8:1:3::1').ok).toBe(true);
      expect(limits.keyOf('2001:DB8:1:2::9')).toBe('2001:db8:1:2::/64');
    });

    it('keys IPv6 by the configured prefix length', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 1, ipv6PrefixLength: 128 });
      expect(limits.acquire('2001:db8::1').ok).toBe(true);
      expect(limits.acquire('2001:db8::2').ok).toBe(true);
      expect(limits.keyOf('2001:db8::2')).toBe('2001:db8::2/128');
    });

    it('limits text that is not an address under its own key', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 1 });
      expect(limits.acquire('unknown').ok).toBe(true);
      expect(limits.acquire('unknown').ok).toBe(false);
    });

    it('never lets a client exceed its limit while other addresses flood the tables', () => {
      const limits = new ClientLimits({ maxConnectionsPerClient: 3, upgradeRate: { perSecond: 1, burst: 100 }, maxTrackedClients: 10 });
      for (let i = 0; i < 3; i++) expect(limits.acquire('192.0.2.1').ok).toBe(true);
      for (let i = 0; i < 1000; i++) {
        const s = limits.acquire(sprayed(i));
        if (s.ok) s.release();
      }
      // Its rate bucket has long been evicted, its connection count has not.
      expect(limits.acquire('192.0.2.1')).toMatchObject({ ok: false, reason: 'concurrency' });
    });
  });

  describe('acquire() with upgradeRate', () => {
    it('allows a burst, then one per 1/perSecond seconds, saying how long to wait', () => {
      const clock = manualClock();
      const limits = new ClientLimits({ upgradeRate: { perSecond: 2, burst: 3 }, clock: clock.now });
      for (let i = 0; i < 3; i++) expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('192.0.2.1')).toEqual({ ok: false, reason: 'rate', retryAfter: 1 });
      clock.advance(499);
      expect(limits.acquire('192.0.2.1').ok).toBe(false);
      clock.advance(1);
      expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('192.0.2.1').ok).toBe(false);
      clock.advance(60_000);
      // Refilled to the burst, not beyond.
      for (let i = 0; i < 3; i++) expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('192.0.2.1').ok).toBe(false);
    });

    it('rounds Retry-After up to whole seconds', () => {
      const clock = manualClock();
      const limits = new ClientLimits({ upgradeRate: { perSecond: 0.25, burst: 1 }, clock: clock.now });
      limits.acquire('192.0.2.1');
      expect(limits.acquire('192.0.2.1')).toEqual({ ok: false, reason: 'rate', retryAfter: 4 });
      clock.advance(2500);
      expect(limits.acquire('192.0.2.1')).toEqual({ ok: false, reason: 'rate', retryAfter: 2 });
    });

    it('spends no token for plain connections', () => {
      const limits = new ClientLimits({ upgradeRate: { perSecond: 1, burst: 1 } });
      for (let i = 0; i < 10; i++) expect(limits.acquire('192.0.2.1', 'connection').ok).toBe(true);
      expect(limits.acquire('192.0.2.1').ok).toBe(true);
      expect(limits.acquire('192.0.2.1').ok).toBe(false);
    });

    it('spends no token on a concurrency refusal and takes no slot on a rate refusal', () => {
      const clock = manualClock();
      const limits = new ClientLimits({ maxConnectionsPerClient: 1, upgradeRate: { perSecond: 1, burst: 2 }, clock: clock.now });
      const first = limits.acquire('192.0.2.1');
      for (let i = 0; i < 5; i++) expect(limits.acquire('192.0.2.1')).toMatchObject({ reason: 'concurrency' });
      if (first.ok) first.release();
      expect(limits.acquire('192.0.2.1').ok).toBe(true); // the second token is still there
      const limits2 = new ClientLimits({ maxConnectionsPerClient: 2, upgradeRate: { perSecond: 1, burst: 1 }, clock: clock.now });
      expect(limits2.acquire('192.0.2.9').ok).toBe(true);
      expect(limits2.acquire('192.0.2.9')).toMatchObject({ reason: 'rate' });
      expect(limits2.snapshot().openConnections).toBe(1);
    });

    it('survives a clock that steps backwards', () => {
      const clock = manualClock();
      const limits = new ClientLimits({ upgradeRate: { perSecond: 1, burst: 1 }, clock: clock.now });
      limits.acquire('192.0.2.1');
      clock.advance(-10_000);
      expect(limits.acquire('192.0.2.1')).toEqual({ ok: false, reason: 'rate', retryAfter: 1 });
    });

    it('forgives a client whose bucket was evicted (the price of the memory bound)', () => {
      const limits = new ClientLimits({ upgradeRate: { perSecond: 1, burst: 1 }, maxTrackedClients: 100 });
      limits.acquire('192.0.2.1');
      expect(limits.acquire('192.0.2.1').ok).toBe(false);
      for (let i = 0; i < 100; i++) limits.acquire(sprayed(i));
      expect(limits.acquire('192.0.2.1').ok).toBe(true);
    });

    it('keeps a busy client\'s bucket while idle ones are evicted', () => {
      const limits = new ClientLimits({ upgradeRate: { perSecond: 0.001, burst: 1 }, maxTrackedClients: 100 });
      limits.acquire('192.0.2.1');
      for (let i = 0; i < 1000; i++) {
        limits.acquire(sprayed(i));
        if (i % 50 === 0) expect(limits.acquire('192.0.2.1').ok).toBe(false);
      }
    });

    it('sets no timers', () => {
      const spies = [jest.spyOn(global, 'setTimeout'), jest.spyOn(global, 'setInterval'), jest.spyOn(global, 'setImmediate')];
      const limits = new ClientLimits({ maxConnectionsPerClient: 1, upgradeRate: { perSecond: 1, burst: 1 }, maxTrackedClients: 10 });
      for (let i = 0; i < 100; i++) {
        const s = limits.acquire(sprayed(i));
        if (s.ok) s.release();
        limits.acquire(sprayed(i));
      }
      for (const spy of spies) {
        expect(spy).not.toHaveBeenCalled();
        spy.mockRestore();
      }
    });
  });

  describe('memory under 200,000 spoofed client addresses', () => {
    // Measured in a fresh node process with --expose-gc: a jest worker's heap moves with whatever
    // ran before in it (it shrank by 40 MB between two forced GCs once), which says nothing of the table.
    const script = `
      const { ClientLimits } = require(${JSON.stringify(require.resolve('../../../dist/edge/client-limits.js'))});
      const sprayed = ${sprayed.toString()};
      const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
      const max = 10000;
      const limits = new ClientLimits({ maxConnectionsPerClient: 4, upgradeRate: { perSecond: 1, burst: 5 }, maxTrackedClients: max });
      let peakTracked = 0;
      const spray = (from, to) => {
        for (let i = from; i < to; i++) {
          const s = limits.acquire(sprayed(i));
          // Connections come and go, as in a real flood; one in a thousand stays open a while.
          if (s.ok && i % 1000 !== 0) s.release();
          if (i % 1000 === 0) peakTracked = Math.max(peakTracked, limits.snapshot().trackedClients);
        }
      };
      const empty = heap();
      spray(0, max);
      const full = heap();
      spray(max, 100000);
      const after100k = heap();
      spray(100000, 200000);
      const after200k = heap();
      process.stdout.write(JSON.stringify({ max, peakTracked, snapshot: limits.snapshot(), empty, full, after100k, after200k }));
    `;

    it('keeps the tables and the heap bounded by maxTrackedClients', () => {
      const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
      const r = JSON.parse(out) as {
        max: number;
        peakTracked: number;
        snapshot: { trackedClients: number; clientsWithConnections: number };
        empty: number;
        full: number;
        after100k: number;
        after200k: number;
      };
      expect(r.peakTracked).toBeLessThanOrEqual(r.max);
      expect(r.snapshot.trackedClients).toBe(r.max);
      expect(r.snapshot.clientsWithConnections).toBe(200);
      const table = r.full - r.empty;
      // About 130 bytes per tracked client; past the first fill the heap settles and then stays flat.
      expect(table / r.max).toBeLessThan(400);
      expect(r.after100k - r.full).toBeLessThan(table);
      expect(r.after200k - r.after100k).toBeLessThan(Math.max(table / 2, 512 * 1024));
    });
  });
});
