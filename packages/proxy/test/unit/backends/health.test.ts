import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { isSwitchboardError } from '../../../src/errors';
import { DEFAULT_HEALTH_CHECK, DEFAULT_OUTLIER_DETECTION, HealthChecker, type HealthCheckerOptions, type HealthCheckOptions, type HealthState } from '../../../src/backends/health';

// Everything here runs on real sockets with small intervals. A timer never fires early, so lower bounds are
// tight; upper bounds allow SLACK plus however late this process's own event loop ran meanwhile, so a test
// stays exact on an idle machine without flaking on a busy 2-core CI machine.
const SLACK = 60;

/** Upper-bound allowance: SLACK plus the worst event-loop delay seen since the test started. */
let lag: () => number = () => SLACK;
beforeEach(() => {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  lag = () => SLACK + histogram.max / 1e6;
  cleanups.push(async () => {
    histogram.disable();
  });
});

interface Hit {
  readonly at: number;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly remotePort: number;
  /** Status served, or 0 when the server never answered. */
  status: number;
  /** When the request's connection closed (a hung probe is ended by the prober). */
  closedAt: number;
}

/** A backend whose health endpoint the test flips between statuses, makes hang, or slows down. */
interface HealthServer {
  readonly url: string;
  readonly hits: Hit[];
  status: number;
  hang: boolean;
  delay: number;
  maxInFlight: number;
  close(): Promise<void>;
}

interface Change {
  readonly id: string;
  readonly state: HealthState;
  readonly reason: string;
  readonly at: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function healthServer(status = 200): Promise<HealthServer> {
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const hit: Hit = { at: performance.now(), url: req.url ?? '', headers: req.headers, remotePort: req.socket.remotePort ?? 0, status: 0, closedAt: 0 };
    s.hits.push(hit);
    req.socket.on('close', () => (hit.closedAt = performance.now()));
    if (s.hang) return;
    inFlight += 1;
    s.maxInFlight = Math.max(s.maxInFlight, inFlight);
    const answer = (): void => {
      inFlight -= 1;
      hit.status = s.status;
      res.statusCode = s.status;
      res.end('health body');
    };
    if (s.delay > 0) setTimeout(answer, s.delay);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const s: HealthServer = { url: `http://127.0.0.1:${port}`, hits: [], status, hang: false, delay: 0, maxInFlight: 0, close };
  cleanups.push(close);
  return s;
}

function createChecker(options: HealthCheckerOptions): { checker: HealthChecker; changes: Change[] } {
  const checker = new HealthChecker(options);
  const changes: Change[] = [];
  checker.on('change', (id, state, reason) => changes.push({ id, state, reason, at: performance.now() }));
  cleanups.push(() => checker.close());
  return { checker, changes };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Probing options with no jitter, so timing assertions are exact up to scheduling noise. */
const fast = { interval: 50, timeout: 300, rise: 2, fall: 3, jitter: 0 } as const;

describe('HealthChecker', () => {
  describe('active probes', () => {
    it('takes a backend out after `fall` failed probes and back after `rise` good ones, each within (n + 1) × interval', async () => {
      const srv = await healthServer(200);
      const { checker, changes } = createChecker({ active: fast, outlier: false });
      checker.add({ id: 'a', url: srv.url });
      await waitFor('two good probes', () => srv.hits.filter((h) => h.status === 200).length >= 2);

      srv.status = 503;
      const flippedDown = performance.now();
      const before = srv.hits.length;
      await waitFor('down', () => changes.length === 1);
      const downAfter = changes[0]!.at - flippedDown;
      expect(changes[0]).toMatchObject({ id: 'a', state: 'down', reason: 'probe failed 3 times (status 503)' });
      expect(srv.hits.slice(before).filter((h) => h.status === 503)).toHaveLength(fast.fall);
      expect(downAfter).toBeGreaterThanOrEqual((fast.fall - 1) * fast.interval);
      expect(downAfter).toBeLessThanOrEqual((fast.fall + 1) * fast.interval + lag());
      expect(checker.state('a')).toBe('down');

      srv.status = 200;
      const flippedUp = performance.now();
      const beforeUp = srv.hits.length;
      await waitFor('up', () => changes.length === 2);
      const upAfter = changes[1]!.at - flippedUp;
      expect(changes[1]).toMatchObject({ id: 'a', state: 'up', reason: 'probe succeeded 2 times' });
      expect(srv.hits.slice(beforeUp).filter((h) => h.status === 200)).toHaveLength(fast.rise);
      expect(upAfter).toBeGreaterThanOrEqual((fast.rise - 1) * fast.interval);
      expect(upAfter).toBeLessThanOrEqual((fast.rise + 1) * fast.interval + lag());
      expect(checker.state('a')).toBe('up');
    });

    it('starts a new backend up, and takes it out at its first failed probe (HAProxy init-state up)', async () => {
      const srv = await healthServer(503);
      const { checker, changes } = createChecker({ active: fast, outlier: false });
      checker.add({ id: 'a', url: srv.url });
      expect(checker.state('a')).toBe('up');
      await waitFor('down', () => changes.length === 1);
      expect(changes[0]).toMatchObject({ state: 'down', reason: 'first probe failed (status 503)' });
      expect(srv.hits).toHaveLength(1);
    });

    it('names the connect error when the backend stops listening', async () => {
      const srv = await healthServer(200);
      const { checker, changes } = createChecker({ active: { ...fast, fall: 2 }, outlier: false });
      checker.add({ id: 'a', url: srv.url.replace('http:', 'ws:') });
      await waitFor('a good probe', () => srv.hits.length >= 2);
      await srv.close();
      await waitFor('down', () => changes.length === 1);
      expect(changes[0]).toMatchObject({ state: 'down', reason: 'probe failed 2 times (ECONNREFUSED)' });
    });

    it('requests `path` with `headers` and its own user-agent, on a new connection every time', async () => {
      const srv = await healthServer(200);
      const { checker } = createChecker({ active: { ...fast, interval: 20, path: '/ready?deep=1', headers: { 'X-Probe-Token': 's3cret', host: 'app.internal' } }, outlier: false });
      checker.add({ id: 'a', url: `${srv.url}/ignored/base/path` });
      await waitFor('three probes', () => srv.hits.length >= 3);
      for (const hit of srv.hits) {
        expect(hit.url).toBe('/ready?deep=1');
        expect(hit.headers).toMatchObject({ 'x-probe-token': 's3cret', host: 'app.internal', 'user-agent': 'switchboard-health-check', connection: 'close' });
      }
      // Every WebSocket upgrade needs a fresh connection, so every probe proves the backend still accepts one.
      expect(new Set(srv.hits.map((h) => h.remotePort)).size).toBe(srv.hits.length);
    });

    it('counts a probe that gets no answer within `timeout` as failed, and closes its connection at the deadline', async () => {
      const srv = await healthServer(200);
      srv.hang = true;
      const timeout = 80;
      const { checker, changes } = createChecker({ active: { ...fast, interval: 20, timeout, fall: 2 }, outlier: false });
      checker.add({ id: 'a', url: srv.url });
      await waitFor('down', () => changes.length === 1);
      expect(changes[0]).toMatchObject({ state: 'down', reason: 'first probe failed (timeout)' });
      await waitFor('second hung probe closed', () => srv.hits.length >= 2 && srv.hits[1]!.closedAt > 0);
      for (const hit of srv.hits.slice(0, 2)) {
        expect(hit.closedAt - hit.at).toBeGreaterThanOrEqual(timeout - 20);
        expect(hit.closedAt - hit.at).toBeLessThanOrEqual(timeout + lag());
      }
    });

    it('never overlaps probes: the next one starts `interval` after the previous one ended', async () => {
      const srv = await healthServer(200);
      srv.delay = 60;
      const { checker } = createChecker({ active: { ...fast, interval: 10, timeout: 500 }, outlier: false });
      checker.add({ id: 'a', url: srv.url });
      await waitFor('four probes', () => srv.hits.length >= 4);
      expect(srv.maxInFlight).toBe(1);
      const gaps = srv.hits.slice(1).map((h, i) => h.at - srv.hits[i]!.at);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(srv.delay + 10 - 2);
    });

    it('waits between `interval` and `interval × (1 + jitter)`, spread at random', async () => {
      const srv = await healthServer(200);
      const interval = 30;
      const jitter = 0.5;
      const { checker } = createChecker({ active: { ...fast, interval, jitter }, outlier: false });
      checker.add({ id: 'a', url: srv.url });
      // The first probe waits a random share of jitter × interval, at most 15 ms.
      await waitFor('fourteen probes', () => srv.hits.length >= 14);
      const gaps = srv.hits.slice(1, 14).map((h, i) => h.at - srv.hits[i]!.at);
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(interval - 1);
        expect(gap).toBeLessThanOrEqual(interval * (1 + jitter) + lag());
      }
      // 13 uniform draws over a 15 ms range all within 3 ms of each other: odds about 1e-7.
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(3);
    });

    const expectCases: { name: string; expectStatus?: HealthCheckOptions['expectStatus']; status: number; state: HealthState }[] = [
      { name: 'default accepts 399', status: 399, state: 'up' },
      { name: 'default rejects 400', status: 400, state: 'down' },
      { name: 'a number accepts itself', expectStatus: 204, status: 204, state: 'up' },
      { name: 'a number rejects 200', expectStatus: 204, status: 200, state: 'down' },
      { name: 'a list accepts a member', expectStatus: [200, 204], status: 204, state: 'up' },
      { name: 'a list rejects others', expectStatus: [200, 204], status: 302, state: 'down' },
      { name: 'a predicate decides', expectStatus: (s: number) => s === 418, status: 418, state: 'up' },
      { name: 'a predicate can reject 200', expectStatus: (s: number) => s === 418, status: 200, state: 'down' },
      {
        name: 'a throwing predicate means unhealthy',
        expectStatus: () => {
          throw new Error('boom');
        },
        status: 200,
        state: 'down',
      },
    ];
    it.each(expectCases)('expectStatus: $name ($status -> $state)', async ({ expectStatus, status, state }) => {
      const srv = await healthServer(status);
      const { checker } = createChecker({ active: { ...fast, interval: 10, fall: 1, rise: 1, ...(expectStatus === undefined ? {} : { expectStatus }) }, outlier: false });
      checker.add({ id: 'a', url: srv.url });
      // The second probe starts only after the first one's verdict was applied.
      await waitFor('two probes', () => srv.hits.length >= 2);
      expect(checker.state('a')).toBe(state);
    });
  });

  describe('outlier ejection', () => {
    const outlier = { consecutiveFailures: 3, baseEjectionTime: 5000, maxEjectionTime: 20_000 };
    // The last healthy target is never ejected: tests of one target's ejections give it a healthy peer.
    const spare = { id: 'spare', url: 'http://127.0.0.1:1' };

    it('ejects after `consecutiveFailures` in a row; reportSuccess() breaks the row', () => {
      const { checker, changes } = createChecker({ outlier: { ...outlier, countServerErrors: true } });
      checker.add({ id: 'a', url: 'http://127.0.0.1:1' });
      checker.add(spare);
      checker.reportFailure('a', 'connect');
      checker.reportFailure('a', 'timeout');
      checker.reportSuccess('a');
      checker.reportFailure('a', 'status-5xx');
      checker.reportFailure('a', 'reset');
      expect(checker.state('a')).toBe('up');
      checker.reportFailure('a', 'protocol');
      expect(checker.state('a')).toBe('down');
      expect(changes).toMatchObject([{ id: 'a', state: 'down', reason: 'ejected for 5000 ms after 3 consecutive failures (last: protocol)' }]);
    });

    it('does not count 5xx answers by default: they prove the backend answers and break a row of failures', () => {
      const { checker, changes } = createChecker({ outlier: { ...outlier, consecutiveFailures: 2 } });
      checker.add({ id: 'a', url: 'http://127.0.0.1:1' });
      checker.add(spare);
      for (let i = 0; i < 20; i++) checker.reportFailure('a', 'status-5xx');
      checker.reportFailure('a', 'connect');
      checker.reportFailure('a', 'status-5xx');
      checker.reportFailure('a', 'connect');
      expect(checker.state('a')).toBe('up');
      checker.reportFailure('a', 'connect');
      expect(changes).toMatchObject([{ id: 'a', state: 'down', reason: 'ejected for 5000 ms after 2 consecutive failures (last: connect)' }]);
    });

    it('ejects at most `maxEjectionPercent` of the targets, and never the last healthy one', () => {
      const { checker, changes } = createChecker({ outlier: { ...outlier, consecutiveFailures: 1 } });
      for (const id of ['a', 'b', 'c', 'd']) checker.add({ id, url: 'http://127.0.0.1:1' });
      for (const id of ['a', 'b', 'c', 'd']) checker.reportFailure(id, 'connect');
      expect(['a', 'b', 'c', 'd'].map((id) => checker.state(id))).toEqual(['down', 'down', 'up', 'up']);
      const all = createChecker({ outlier: { ...outlier, consecutiveFailures: 1, maxEjectionPercent: 100 } });
      for (const id of ['a', 'b']) all.checker.add({ id, url: 'http://127.0.0.1:1' });
      for (let i = 0; i < 5; i++) for (const id of ['a', 'b']) all.checker.reportFailure(id, 'reset');
      expect(['a', 'b'].map((id) => all.checker.state(id))).toEqual(['down', 'up']);
      expect(changes.map((c) => c.id)).toEqual(['a', 'b']);
    });

    it('ejects a target kept in by the cap at its next failure once another ejection has ended', async () => {
      const { checker, changes } = createChecker({ outlier: { consecutiveFailures: 2, baseEjectionTime: 40, maxEjectionTime: 1000 } });
      for (const id of ['a', 'b']) checker.add({ id, url: 'http://127.0.0.1:1' });
      checker.reportFailure('a', 'connect');
      checker.reportFailure('a', 'connect');
      checker.reportFailure('b', 'connect');
      checker.reportFailure('b', 'connect');
      expect([checker.state('a'), checker.state('b')]).toEqual(['down', 'up']);
      await waitFor('a back', () => checker.state('a') === 'up');
      checker.reportFailure('b', 'connect');
      expect(checker.state('b')).toBe('down');
      expect(changes.map((c) => `${c.id}:${c.state}`)).toEqual(['a:down', 'a:up', 'b:down']);
    });

    it('ignores reports for unknown ids and for a backend that is already down', () => {
      const { checker, changes } = createChecker({ outlier: { ...outlier, consecutiveFailures: 1 } });
      checker.add({ id: 'a', url: 'http://127.0.0.1:1' });
      checker.add(spare);
      expect(() => checker.reportFailure('gone', 'connect')).not.toThrow();
      expect(() => checker.reportSuccess('gone')).not.toThrow();
      checker.reportFailure('a', 'connect');
      checker.reportFailure('a', 'connect');
      expect(changes).toHaveLength(1);
    });

    it('doubles the ejection time on each ejection in a row up to maxEjectionTime, and resets it after a healthy maxEjectionTime', async () => {
      const base = 40;
      const max = 160;
      const { checker, changes } = createChecker({ outlier: { consecutiveFailures: 2, baseEjectionTime: base, maxEjectionTime: max, countServerErrors: true } });
      checker.add({ id: 'a', url: 'http://127.0.0.1:1' });
      checker.add(spare);
      const eject = async (): Promise<number> => {
        const n = changes.length;
        checker.reportFailure('a', 'status-5xx');
        checker.reportFailure('a', 'status-5xx');
        await waitFor('return', () => changes.length === n + 2);
        return changes[n + 1]!.at - changes[n]!.at;
      };
      const lengths: number[] = [];
      for (let i = 0; i < 4; i++) lengths.push(await eject());
      await sleep(max + 20);
      lengths.push(await eject());
      const expected = [base, 2 * base, 4 * base, max, base];
      lengths.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(expected[i]! - 2);
        expect(ms).toBeLessThanOrEqual(expected[i]! + lag());
      });
      expect(changes.filter((c) => c.state === 'down').map((c) => c.reason.split(' after')[0])).toEqual(expected.map((ms) => `ejected for ${ms} ms`));
      expect(changes.filter((c) => c.state === 'up').map((c) => c.reason)).toEqual(expected.map((ms) => `ejection of ${ms} ms ended`));
    });

    it('ends an ejection early when probes succeed `rise` times', async () => {
      const srv = await healthServer(200);
      const { checker, changes } = createChecker({ active: { ...fast, interval: 30 }, outlier: { ...outlier, consecutiveFailures: 1 } });
      checker.add({ id: 'a', url: srv.url });
      checker.add({ id: 'spare', url: (await healthServer(200)).url });
      checker.reportFailure('a', 'connect');
      const ejectedAt = performance.now();
      await waitFor('up', () => changes.length === 2);
      expect(changes[1]).toMatchObject({ state: 'up', reason: 'probe succeeded 2 times (ejection ended early)' });
      expect(changes[1]!.at - ejectedAt).toBeLessThanOrEqual(3 * 30 + fast.timeout + lag());
    });

    it('keeps a backend down after its ejection while its probes fail', async () => {
      const srv = await healthServer(200);
      const ejection = 400;
      const { checker, changes } = createChecker({ active: { ...fast, interval: 20, fall: 2 }, outlier: { consecutiveFailures: 1, baseEjectionTime: ejection, maxEjectionTime: 1000 } });
      checker.add({ id: 'a', url: srv.url });
      checker.add({ id: 'spare', url: (await healthServer(200)).url });
      await waitFor('a good probe', () => srv.hits.length >= 2);
      srv.status = 503;
      const from = srv.hits.length;
      checker.reportFailure('a', 'connect');
      const ejectedAt = performance.now();
      // `fall` failed verdicts applied during the ejection (the next probe starts only after the previous verdict).
      await waitFor('fall failed probes', () => srv.hits.slice(from).filter((h) => h.status === 503).length >= 2 && srv.hits.length > from + 2);
      expect(performance.now() - ejectedAt).toBeLessThan(ejection);
      await sleep(ejection - (performance.now() - ejectedAt) + 50);
      expect(checker.state('a')).toBe('down');
      expect(changes.map((c) => c.state)).toEqual(['down']);
      srv.status = 200;
      await waitFor('up', () => changes.length === 2);
      expect(changes[1]).toMatchObject({ state: 'up', reason: 'probe succeeded 2 times' });
    });
  });

  describe('remove()', () => {
    it('stops probing the backend and forgets it', async () => {
      const srv = await healthServer(200);
      const { checker } = createChecker({ active: { ...fast, interval: 10 } });
      checker.add({ id: 'a', url: srv.url });
      await waitFor('two probes', () => srv.hits.length >= 2);
      checker.remove('a');
      const seen = srv.hits.length;
      await sleep(60);
      expect(srv.hits.length).toBeLessThanOrEqual(seen);
      expect(() => checker.state('a')).toThrow('unknown health target "a"');
      expect(() => checker.remove('a')).not.toThrow();
      checker.add({ id: 'a', url: srv.url });
      expect(checker.state('a')).toBe('up');
    });
  });

  describe('close()', () => {
    function resources(): Record<string, number> {
      const counts: Record<string, number> = {};
      for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
      return counts;
    }

    it('leaves no timer or socket behind, even with a probe in flight and an ejection pending', async () => {
      // Handles closed by earlier tests leave the list one loop turn after their 'close' event.
      await sleep(10);
      const baseline = resources();
      const srv = await healthServer(200);
      srv.hang = true;
      const checker = new HealthChecker({ active: { ...fast, timeout: 5000 }, outlier: { consecutiveFailures: 1, baseEjectionTime: 60_000 } });
      cleanups.push(() => checker.close());
      checker.add({ id: 'hung', url: srv.url });
      checker.add({ id: 'ejected', url: 'http://127.0.0.1:1' });
      checker.reportFailure('ejected', 'connect');
      await waitFor('a probe in flight', () => srv.hits.length === 1);
      expect(resources()['Timeout'] ?? 0).toBeGreaterThan(baseline['Timeout'] ?? 0);

      const started = performance.now();
      await checker.close();
      expect(performance.now() - started).toBeLessThan(1000);
      await tick();
      // The checker's side is gone at once. Counts are compared with <=: a leak adds to them, while a
      // timer left by the test runner or an earlier test may expire meanwhile.
      expect(resources()['Timeout'] ?? 0).toBeLessThanOrEqual(baseline['Timeout'] ?? 0);
      await waitFor('the server to see the probe close', () => srv.hits[0]!.closedAt > 0);
      await srv.close();
      await sleep(10);
      const after = resources();
      for (const [name, count] of Object.entries(after)) expect([name, count]).toEqual([name, Math.min(count, baseline[name] ?? 0)]);
    });

    it('is idempotent, freezes states and turns later calls into no-ops', async () => {
      const { checker, changes } = createChecker({ active: fast, outlier: { consecutiveFailures: 1 } });
      checker.add({ id: 'a', url: 'http://127.0.0.1:1' });
      const first = checker.close();
      expect(checker.close()).toBe(first);
      await first;
      checker.reportFailure('a', 'connect');
      checker.add({ id: 'b', url: 'http://127.0.0.1:1' });
      await sleep(fast.interval);
      expect([checker.state('a'), checker.state('b')]).toEqual(['up', 'up']);
      expect(changes).toEqual([]);
    });
  });

  describe('options', () => {
    it('turns active probes off and outlier ejection on by default', () => {
      const { checker } = createChecker({});
      expect(checker.activeOptions).toBeUndefined();
      expect(checker.outlierOptions).toEqual(DEFAULT_OUTLIER_DETECTION);
      expect(createChecker({ active: {}, outlier: false }).checker.activeOptions).toMatchObject(DEFAULT_HEALTH_CHECK);
    });

    // The full table of sentences lives in health-options.test.ts; these show the constructor throws them.
    it.each<[string, unknown, string]>([
      ['active', { active: { interval: -1 } }, 'health.interval must be a positive number of milliseconds, got -1'],
      ['active type', { active: true }, 'health must be an object, got boolean'],
      ['outlier', { outlier: { baseEjectionTime: 1000, maxEjectionTime: 500 } }, 'outlier.maxEjectionTime must be at least outlier.baseEjectionTime (1000), got 500'],
      ['options type', null, 'health checker options must be an object, got null'],
    ])('throws ERR_INVALID_OPTION synchronously for bad %s options', (_name, options, message) => {
      let caught: unknown;
      try {
        new HealthChecker(options as HealthCheckerOptions);
      } catch (err) {
        caught = err;
      }
      expect(isSwitchboardError(caught) && caught.code).toBe('ERR_INVALID_OPTION');
      expect((caught as Error).message).toBe(message);
    });

    it.each<[string, unknown, string]>([
      ['empty id', { id: '', url: 'http://127.0.0.1:1' }, 'health target id must be a non-empty string, got ""'],
      ['bad url', { id: 'a', url: 'nope' }, 'health target "a" url is not a valid URL'],
      ['bad protocol', { id: 'a', url: 'ftp://127.0.0.1' }, 'health target "a" url must use http:, https:, ws: or wss:, got ftp:'],
    ])('add() rejects a target with %s', (_name, target, message) => {
      const { checker } = createChecker({});
      expect(() => checker.add(target as { id: string; url: string })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message }));
    });

    it('add() rejects a duplicate id', () => {
      const { checker } = createChecker({});
      checker.add({ id: 'a', url: 'http://127.0.0.1:1' });
      expect(() => checker.add({ id: 'a', url: 'http://127.0.0.1:2' })).toThrow('health target "a" is already added');
    });
  });
});
