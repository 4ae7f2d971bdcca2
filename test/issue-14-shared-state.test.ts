/**
 * Issue 14, "Shared state across machines through Redis": proxies given the same `sharedState` Redis
 * act as one. A client pinned through proxy A lands on the same backend through proxy B (withAffinity
 * and sticky cookies); a drain, an ejection or a membership change made on one proxy reaches the
 * others within a second; the fleet table lists every live proxy and forgets a dead one after its
 * TTL; and when Redis goes away the proxies keep serving, say so once, and converge when it returns.
 *
 * Every proxy here is a real `createProxy` on 127.0.0.1, talking to a real redis-server; the
 * "killed proxy" is a `switchboard` process of its own, ended by SIGKILL.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import {
  RoundRobinStrategy,
  StickyCookieStrategy,
  withAffinity,
  type Proxy,
  type ProxyLogger,
  type ProxyOptions,
  type SharedStateChange,
} from '@switchboard/proxy';
import { configDir, spawnCli } from './helpers/cli';
import { httpRequest } from './helpers/http';
import { describeWithRedis, redisCommand, startRedisServer, type RedisServer } from './helpers/redis';
import { listenLocal, openWs, proxySuite, roundTrip, startBackend, waitFor, type TestBackend } from './helpers/servers';

/** The bound the issue sets for a change on one proxy to reach the others, in ms. */
const PROPAGATION_BOUND = 1000;

let fleets = 0;
/** A fleet name of its own per test: the tests share one redis-server, never keys. */
function nextFleet(): string {
  return `t${process.pid}-${++fleets}`;
}

/** Resolves once `proxy` reports its shared state `up` (at once if it already is). */
async function sharedUp(proxy: Proxy): Promise<void> {
  if (proxy.sharedState?.state === 'up') return;
  await new Promise<void>((resolve) => {
    const onChange = (change: SharedStateChange): void => {
      if (change.state !== 'up') return;
      proxy.off('sharedStateChange', onChange);
      resolve();
    };
    proxy.on('sharedStateChange', onChange);
  });
}

/** The backend id the JSON echo backend answered with. */
async function backendOf(url: string, headers: Record<string, string> = {}): Promise<{ id: string; setCookie: string | undefined }> {
  const answer = await httpRequest(url, { headers });
  expect(answer.status).toBe(200);
  const cookie = answer.headers['set-cookie']?.[0];
  return { id: (JSON.parse(answer.body) as { id: string }).id, setCookie: cookie?.split(';')[0] };
}

function stateOf(proxy: Proxy, id: string): string | undefined {
  return proxy.backends().find((b) => b.id === id)?.state;
}

/** A logger that keeps its lines (level and message) and, apart, each line's fields. */
function recordingLogger(): ProxyLogger & { lines: { level: string; msg: string }[]; fields: object[] } {
  const lines: { level: string; msg: string }[] = [];
  const fields: object[] = [];
  const keep = (level: string) => (obj: object, msg?: string): void => {
    lines.push({ level, msg: msg ?? '' });
    fields.push(obj);
  };
  return { lines, fields, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describeWithRedis('issue 14: shared state across proxies through Redis', () => {
  const { res, start } = proxySuite();
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function backends(n: number): Promise<TestBackend[]> {
    const out: TestBackend[] = [];
    for (let i = 0; i < n; i++) out.push(await startBackend(res, `b${i}`));
    return out;
  }

  /** Two proxies A and B of one fleet, each with its own copy of `options` (strategies are per proxy). */
  async function pair(options: () => ProxyOptions, shared: { summaryTtl?: number } = {}): Promise<{ a: Awaited<ReturnType<typeof start>>; b: Awaited<ReturnType<typeof start>>; fleet: string }> {
    const fleet = nextFleet();
    const a = await start({ ...options(), sharedState: { redis: redis.url, fleet, proxyId: 'A', ...shared } });
    const b = await start({ ...options(), sharedState: { redis: redis.url, fleet, proxyId: 'B', ...shared } });
    await Promise.all([sharedUp(a.proxy), sharedUp(b.proxy)]);
    return { a, b, fleet };
  }

  describe('affinity', () => {
    it('withAffinity: a client placed through A reaches the same backend through B, over HTTP and WebSocket', async () => {
      const bs = await backends(3);
      const { a, b } = await pair(() => ({
        backends: bs.map((x) => ({ url: x.url, id: x.id })),
        strategy: withAffinity(new RoundRobinStrategy(), { ttl: 60_000, max: 1000, key: (ctx) => ctx.req.headers['x-client'] as string | undefined }),
      }));
      // A's round robin moves one step first, so its picks differ from B's: only sharing can agree.
      expect((await backendOf(a.url, { 'x-client': 'warm-up' })).id).toBe('b0');
      const pinned = new Map<string, string>();
      for (const client of ['alice', 'bob', 'carol']) pinned.set(client, (await backendOf(a.url, { 'x-client': client })).id);
      expect([...pinned.values()]).toEqual(['b1', 'b2', 'b0']);

      for (const [client, id] of pinned) {
        const started = Date.now();
        // Published as it was placed: B knows within a message's latency; poll to state the bound, not a sleep.
        let seen = '';
        while (Date.now() - started < PROPAGATION_BOUND) {
          seen = (await backendOf(b.url, { 'x-client': client })).id;
          if (seen === id) break;
        }
        expect(seen).toBe(id);
        const ws = await openWs(res, b.wsUrl, { headers: { 'x-client': client } });
        expect(await roundTrip(ws, 'whoami')).toBe(id);
        ws.close();
        await once(ws, 'close');
      }
    });

    it('sticky-cookie without a secret: the fleet signs with one secret, so a cookie set by A is honoured by B', async () => {
      const bs = await backends(3);
      const { a, b } = await pair(() => ({
        backends: bs.map((x) => ({ url: x.url, id: x.id })),
        strategy: new StickyCookieStrategy({ base: new RoundRobinStrategy() }),
      }));
      await backendOf(a.url); // b0: A's base moves one step ahead of B's
      const first = await backendOf(a.url);
      expect(first.id).toBe('b1');
      expect(first.setCookie).toMatch(/^sb_affinity=/);
      // B's base would pick b0 now: the cookie alone takes the client to b1.
      expect((await backendOf(b.url, { cookie: first.setCookie! })).id).toBe('b1');
      const ws = await openWs(res, b.wsUrl, { headers: { cookie: first.setCookie! } });
      expect(await roundTrip(ws, 'whoami')).toBe('b1');
      ws.close();
      await once(ws, 'close');
    });
  });

  describe('backend changes', () => {
    it(`a drain on A is obeyed by B within ${PROPAGATION_BOUND} ms: B's WebSockets on it get 1012 and new ones go elsewhere`, async () => {
      const bs = await backends(2);
      const { a, b } = await pair(() => ({ backends: bs.map((x) => ({ url: x.url, id: x.id })), strategy: 'round-robin' }));
      const onB = await openWs(res, b.wsUrl);
      expect(await roundTrip(onB, 'whoami')).toBe('b0');
      const closed = once(onB, 'close') as Promise<[number, Buffer]>;
      const drainedOnB = new Promise<number>((resolve) => b.proxy.on('backendStateChange', (snap) => snap.state === 'draining' && resolve(Date.now())));

      const started = Date.now();
      await a.proxy.drain('b0', { timeout: 5000 });
      expect((await drainedOnB) - started).toBeLessThan(PROPAGATION_BOUND);
      const [code] = await closed;
      expect(code).toBe(1012);
      expect(stateOf(b.proxy, 'b0')).toBe('draining');
      for (let i = 0; i < 4; i++) expect((await backendOf(b.url)).id).toBe('b1');

      a.proxy.undrain('b0');
      await waitFor(() => stateOf(b.proxy, 'b0') === 'up', PROPAGATION_BOUND, 'undrain on B');
    });

    it('an outlier ejection on A takes the backend out on B until the ejection ends', async () => {
      const bs = await backends(2);
      const dead = `http://127.0.0.1:${await deadPort()}`;
      const { a, b } = await pair(() => ({
        backends: [...bs.map((x) => ({ url: x.url, id: x.id })), { url: dead, id: 'dead' }],
        strategy: 'round-robin',
        outlierDetection: { consecutiveFailures: 1, baseEjectionTime: 1500 },
      }));
      const connectErrorsOnB: string[] = [];
      b.proxy.on('error', (err) => connectErrorsOnB.push(err.code));
      const reasons: string[] = [];
      b.proxy.on('backendStateChange', (snap, _previous, reason) => {
        if (snap.id === 'dead') reasons.push(`${snap.state}: ${reason}`);
      });
      // Round robin reaches 'dead' on the third request; the proxy retries elsewhere and ejects it.
      for (let i = 0; i < 3; i++) await backendOf(a.url);
      expect(stateOf(a.proxy, 'dead')).toBe('down');
      const ejectedAt = Date.now();
      await waitFor(() => stateOf(b.proxy, 'dead') === 'down', PROPAGATION_BOUND, 'ejection on B');
      expect(reasons[0]).toMatch(/^down: ejected by A \(shared state\)/);
      // B never tries it while it is out: no connect failure, every answer from a live backend.
      for (let i = 0; i < 6; i++) expect(['b0', 'b1']).toContain((await backendOf(b.url)).id);
      expect(connectErrorsOnB).toEqual([]);
      // A's ejection ends after 1500 ms; so does B's.
      await waitFor(() => stateOf(b.proxy, 'dead') === 'up', 1500 + PROPAGATION_BOUND + 500, 'end of ejection on B');
      expect(Date.now() - ejectedAt).toBeGreaterThanOrEqual(1000);
    });

    it('an ejection heard from the fleet never takes out the last healthy backend; garbage on the channel is ignored', async () => {
      const bs = await backends(2);
      const fleet = nextFleet();
      const b = await start({ backends: bs.map((x) => ({ url: x.url, id: x.id })), sharedState: { redis: redis.url, fleet, proxyId: 'B' } });
      await sharedUp(b.proxy);
      const channel = `switchboard:${fleet}:events`;
      const eject = (id: string): string =>
        JSON.stringify({ t: 'b', from: 'X', route: 'default', id, rec: { present: true, url: bs[Number(id.slice(1))]!.url, weight: 1, drained: false, ejectedUntil: Date.now() + 60_000, by: 'X', at: Date.now() } });
      for (const junk of ['not json', '{"t":"b"}', '{"t":"b","from":"X","route":"default","id":"b0","rec":null}', '{"t":"zz","from":"X"}', '[]', 'null']) {
        await redisCommand(redis.port, 'PUBLISH', channel, junk);
      }
      expect(await redisCommand(redis.port, 'PUBLISH', channel, eject('b0'))).toBe(1);
      await waitFor(() => stateOf(b.proxy, 'b0') === 'down', PROPAGATION_BOUND, 'the first ejection');
      // b1 is the last healthy backend: the second ejection is remembered but not applied.
      await redisCommand(redis.port, 'PUBLISH', channel, eject('b1'));
      await new Promise((r) => setTimeout(r, 200));
      expect(b.proxy.backends().map((x) => `${x.id}:${x.state}`)).toEqual(['b0:down', 'b1:up']);
      expect((await backendOf(b.url)).id).toBe('b1');
    });

    it('add, weight and remove on A reach B within the bound, and a proxy that starts later loads them', async () => {
      const bs = await backends(3);
      const first = bs.slice(0, 2).map((x) => ({ url: x.url, id: x.id }));
      const { a, b, fleet } = await pair(() => ({ backends: first }));

      a.proxy.addBackend({ url: bs[2]!.url, id: 'b2', weight: 2 });
      await waitFor(() => b.proxy.backends().some((x) => x.id === 'b2' && x.weight === 2), PROPAGATION_BOUND, 'add on B');
      a.proxy.setWeight('b0', 5);
      await waitFor(() => b.proxy.backends().find((x) => x.id === 'b0')?.weight === 5, PROPAGATION_BOUND, 'weight on B');
      await a.proxy.removeBackend('b1');
      await waitFor(() => !b.proxy.backends().some((x) => x.id === 'b1'), PROPAGATION_BOUND, 'remove on B');
      expect(b.proxy.backends().map((x) => `${x.id}:${x.weight}`).sort()).toEqual(['b0:5', 'b2:2']);

      // C starts from the static list A and B started with, and takes the fleet's changes from Redis.
      const c = await start({ backends: first, sharedState: { redis: redis.url, fleet, proxyId: 'C' } });
      await sharedUp(c.proxy);
      expect(c.proxy.backends().map((x) => `${x.id}:${x.weight}`).sort()).toEqual(['b0:5', 'b2:2']);
      expect((await backendOf(c.url)).id).not.toBe('b1');
    });
  });

  describe('the redis option', () => {
    it("takes an ioredis client: the proxy opens copies of it and closes only those, the embedder's client stays open", async () => {
      const bs = await backends(1);
      const client = new Redis(redis.url);
      res.add(() => client.quit().then(() => undefined));
      await once(client, 'ready');
      const fleet = nextFleet();
      const a = await start({ backends: bs.map((x) => ({ url: x.url, id: x.id })), sharedState: { redis: client, fleet, proxyId: 'A' } });
      await sharedUp(a.proxy);
      expect((await a.proxy.fleet()).map((r) => r.id)).toEqual(['A']);
      await a.proxy.close();
      expect(a.proxy.sharedState?.state).toBe('closed');
      await expect(a.proxy.fleet()).rejects.toMatchObject({ code: 'ERR_SHARED_STATE' });
      expect(client.status).toBe('ready');
      // The closing proxy took its row out of the fleet table at once.
      expect(await client.zrange(`switchboard:${fleet}:proxies`, '0', '-1')).toEqual([]);
    });
  });

  describe('a Redis that answers with errors', () => {
    it('is reported once as down, the proxy serves on, and it joins once the key is fixed', async () => {
      const bs = await backends(1);
      const fleet = nextFleet();
      // A key of the wrong type where the backend hash belongs: every HGETALL answers WRONGTYPE.
      await redisCommand(redis.port, 'SET', `switchboard:${fleet}:backends`, 'not a hash');
      const logger = recordingLogger();
      const changes: SharedStateChange[] = [];
      const a = await start({ backends: bs.map((x) => ({ url: x.url, id: x.id })), logger, sharedState: { redis: redis.url, fleet, proxyId: 'A' } });
      a.proxy.on('sharedStateChange', (c) => changes.push(c));
      // The logger was attached by createProxy, before any report could happen.
      const downLines = (): string[] => logger.lines.filter((l) => l.msg.startsWith('shared state down')).map((l) => l.msg);
      await waitFor(() => downLines().length === 1, 5000, 'the down report');
      expect(a.proxy.sharedState?.state).toBe('down');
      const downAt = logger.lines.findIndex((l) => l.msg.startsWith('shared state down'));
      expect(logger.fields[downAt]).toMatchObject({ fleet, proxyId: 'A', reason: expect.stringMatching(/WRONGTYPE/) });
      expect((await backendOf(a.url)).id).toBe('b0');
      // Retried once a second, not in a loop; still one report.
      await new Promise((r) => setTimeout(r, 1200));
      expect(downLines()).toHaveLength(1);
      // (The event may have come before this test listened; the log line could not.)
      expect(changes.filter((c) => c.state === 'down').length).toBeLessThanOrEqual(1);
      await redisCommand(redis.port, 'DEL', `switchboard:${fleet}:backends`);
      await sharedUp(a.proxy);
      expect(changes.filter((c) => c.state === 'up').map((c) => c.reason)).toEqual(['connected']);
      expect(logger.lines.filter((l) => l.msg.startsWith('shared state')).map((l) => l.msg)).toEqual(['shared state down: serving with local state', 'shared state connected']);
    });
  });

  describe('fleet table', () => {
    it('lists every live proxy with its connections; a closed proxy leaves at once, a killed one after its TTL', async () => {
      const bs = await backends(1);
      const summaryTtl = 600;
      const { a, b, fleet } = await pair(() => ({ backends: bs.map((x) => ({ url: x.url, id: x.id })) }), { summaryTtl });
      const ws = await openWs(res, b.wsUrl);
      await waitFor(() => b.proxy.connections().length === 1);

      // The row of B is refreshed every third of its TTL: its WebSocket shows up.
      let rows = await a.proxy.fleet();
      const deadline = Date.now() + summaryTtl;
      while (rows.find((r) => r.id === 'B')?.connections !== 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        rows = await a.proxy.fleet();
      }
      expect(rows.map((r) => r.id)).toEqual(['A', 'B']);
      const rowB = rows.find((r) => r.id === 'B')!;
      expect(rowB.connections).toBe(1);
      expect(rowB.addresses).toEqual([`127.0.0.1:${b.port}`]);
      expect(rowB.backends).toEqual([{ route: 'default', id: 'b0', state: 'up', connections: 1 }]);

      // The admin API shows the same table (addresses only with the token).
      const handler = a.proxy.admin({ token: 'fleet-token' });
      const adminServer = createServer(handler);
      const adminPort = await listenLocal(res, adminServer);
      res.add(() => handler.close());
      const answer = await httpRequest(`http://127.0.0.1:${adminPort}/api/fleet`, { headers: { authorization: 'Bearer fleet-token' } });
      expect(answer.status).toBe(200);
      const body = JSON.parse(answer.body) as { fleet: string; self: string; proxies: { id: string; addresses: string[] }[] };
      expect(body.fleet).toBe(fleet);
      expect(body.self).toBe('A');
      expect(body.proxies.map((p) => `${p.id} ${p.addresses.join(',')}`)).toEqual([`A 127.0.0.1:${a.port}`, `B 127.0.0.1:${b.port}`]);

      ws.close();
      await once(ws, 'close');
      await waitFor(() => b.proxy.connections().length === 0);
      await b.proxy.close();
      expect((await a.proxy.fleet()).map((r) => r.id)).toEqual(['A']);

      // A proxy process killed with SIGKILL cannot say goodbye: its row goes when its TTL has passed.
      const config = configDir(res);
      config.write({ listen: '127.0.0.1:0', backends: [bs[0]!.url], sharedState: { redis: redis.url, fleet, proxyId: 'K', summaryTtl } });
      const killed = spawnCli(res, ['--config', config.file]);
      await killed.listeningPort();
      const seen = new Set<string>();
      const joinDeadline = Date.now() + 10_000;
      while (!seen.has('K') && Date.now() < joinDeadline) {
        for (const r of await a.proxy.fleet()) seen.add(r.id);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(seen.has('K')).toBe(true);
      killed.child.kill('SIGKILL');
      await killed.exited;
      const killedAt = Date.now();
      let gone = false;
      while (!gone && Date.now() - killedAt < summaryTtl + 2000) {
        gone = !(await a.proxy.fleet()).some((r) => r.id === 'K');
        if (!gone) await new Promise((r) => setTimeout(r, 50));
      }
      expect(gone).toBe(true);
      expect(Date.now() - killedAt).toBeLessThanOrEqual(summaryTtl + 2000);
    });
  });

  describe('when Redis is unreachable', () => {
    it('keeps the fleet sticky-cookie secret across a Redis that restarts empty: cookies set before stay valid', async () => {
      const own = await startRedisServer();
      res.add(() => own.stop());
      const bs = await backends(3);
      const fleet = nextFleet();
      const make = (id: string): ReturnType<typeof start> =>
        start({ backends: bs.map((x) => ({ url: x.url, id: x.id })), strategy: new StickyCookieStrategy({ base: new RoundRobinStrategy() }), sharedState: { redis: own.url, fleet, proxyId: id } });
      const a = await make('A');
      const b = await make('B');
      await Promise.all([sharedUp(a.proxy), sharedUp(b.proxy)]);
      await backendOf(a.url);
      const pinned = await backendOf(a.url);
      expect(pinned.id).toBe('b1');

      await own.stop();
      await waitFor(() => a.proxy.sharedState?.state === 'down' && b.proxy.sharedState?.state === 'down', 5000, 'Redis gone');
      const back = await startRedisServer({ port: own.port });
      res.add(() => back.stop());
      await Promise.all([sharedUp(a.proxy), sharedUp(b.proxy)]);
      // The empty Redis got the fleet's secret back from whichever proxy resynchronised first.
      for (const proxy of [a, b]) expect((await backendOf(proxy.url, { cookie: pinned.setCookie! })).id).toBe('b1');
      expect((await backendOf(b.url, { cookie: pinned.setCookie! })).setCookie).toBeUndefined();
    });

    it('both proxies keep serving HTTP and WebSockets, say so once each, and converge when Redis returns', async () => {
      const own = await startRedisServer();
      res.add(() => own.stop());
      const bs = await backends(3);
      const fleet = nextFleet();
      const logs = { A: recordingLogger(), B: recordingLogger() };
      const changes: Record<'A' | 'B', SharedStateChange[]> = { A: [], B: [] };
      const make = async (id: 'A' | 'B'): Promise<Awaited<ReturnType<typeof start>>> => {
        const started = await start({
          backends: bs.map((x) => ({ url: x.url, id: x.id })),
          strategy: withAffinity(new RoundRobinStrategy(), { ttl: 60_000, max: 1000, key: (ctx) => ctx.req.headers['x-client'] as string | undefined }),
          logger: logs[id],
          sharedState: { redis: own.url, fleet, proxyId: id },
        });
        started.proxy.on('sharedStateChange', (c) => changes[id].push(c));
        return started;
      };
      const a = await make('A');
      const b = await make('B');
      await Promise.all([sharedUp(a.proxy), sharedUp(b.proxy)]);
      const wsA = await openWs(res, a.wsUrl, { headers: { 'x-client': 'ws-a' } });
      const wsB = await openWs(res, b.wsUrl, { headers: { 'x-client': 'ws-b' } });
      // State made before the outage, which a Redis without persistence will lose.
      const erin = (await backendOf(a.url, { 'x-client': 'erin' })).id;
      a.proxy.setWeight('b2', 4);
      await waitFor(() => b.proxy.backends().find((x) => x.id === 'b2')?.weight === 4, PROPAGATION_BOUND, 'the weight on B');

      await own.stop();
      await waitFor(() => changes.A.length === 2 && changes.B.length === 2, 5000, 'both proxies to see Redis go');
      expect(changes.A[1]!.state).toBe('down');
      expect(changes.B[1]!.state).toBe('down');

      // Serving on: live WebSockets, new WebSockets, HTTP, on both proxies.
      for (const [proxy, ws] of [[a, wsA], [b, wsB]] as const) {
        expect(await roundTrip(ws, 'still here')).toBe('still here');
        const fresh = await openWs(res, proxy.wsUrl);
        expect(['b0', 'b1', 'b2']).toContain(await roundTrip(fresh, 'whoami'));
        fresh.close();
        await once(fresh, 'close');
        expect(['b0', 'b1', 'b2']).toContain((await backendOf(proxy.url)).id);
      }
      // Changes made during the outage stay local for now.
      a.proxy.setWeight('b1', 3);
      const dave = (await backendOf(a.url, { 'x-client': 'dave' })).id;
      await new Promise((r) => setTimeout(r, 300));
      expect(b.proxy.backends().find((x) => x.id === 'b1')?.weight).toBe(1);

      // Redis returns empty (no persistence): what A changed meanwhile is written again, and B loads it.
      const back = await startRedisServer({ port: own.port });
      res.add(() => back.stop());
      await waitFor(() => changes.A.length === 3 && changes.B.length === 3, 10_000, 'both proxies to resynchronise');
      for (const id of ['A', 'B'] as const) {
        expect(changes[id].map((c) => `${c.state} ${c.reason.split(':')[0]}`)).toEqual(['up connected', expect.stringMatching(/^down /), 'up resynchronised']);
        expect(changes[id][2]!.downForMs).toBeGreaterThan(0);
        const down = logs[id].lines.filter((l) => l.msg.startsWith('shared state down'));
        expect(down).toEqual([{ level: 'warn', msg: 'shared state down: serving with local state' }]);
        expect(logs[id].lines.filter((l) => l.msg === 'shared state resynchronised')).toHaveLength(1);
      }
      await waitFor(() => b.proxy.backends().find((x) => x.id === 'b1')?.weight === 3, PROPAGATION_BOUND, 'the weight set during the outage on B');
      expect((await backendOf(b.url, { 'x-client': 'dave' })).id).toBe(dave);
      expect((await a.proxy.fleet()).map((r) => r.id)).toEqual(['A', 'B']);
      // The proxies refilled the empty Redis with what they knew from before the outage: a proxy
      // started now, from the static configuration, gets all of it.
      const c = await start({
        backends: bs.map((x) => ({ url: x.url, id: x.id })),
        strategy: withAffinity(new RoundRobinStrategy(), { ttl: 60_000, max: 1000, key: (ctx) => ctx.req.headers['x-client'] as string | undefined }),
        sharedState: { redis: back.url, fleet, proxyId: 'C' },
      });
      await sharedUp(c.proxy);
      expect(c.proxy.backends().map((x) => `${x.id}:${x.weight}`)).toEqual(['b0:1', 'b1:3', 'b2:4']);
      expect((await backendOf(c.url, { 'x-client': 'erin' })).id).toBe(erin);
      expect((await backendOf(c.url, { 'x-client': 'dave' })).id).toBe(dave);
      expect(await roundTrip(wsA, 'after')).toBe('after');
      wsA.close();
      wsB.close();
      await Promise.all([once(wsA, 'close'), once(wsB, 'close')]);
    });
  });
});

describe('issue 14: sharedState without the ioredis package', () => {
  it('createProxy throws SharedStateError (ERR_SHARED_STATE) naming the package to install', async () => {
    // A process of its own where resolving 'ioredis' fails as it does when the package is not
    // installed; the proxy is the built package, as an application would load it.
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'ioredis') throw Object.assign(new Error("Cannot find module 'ioredis'"), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      const { createProxy, isSwitchboardError } = require(${JSON.stringify(join(__dirname, '..', 'packages', 'proxy', 'dist', 'index.js'))});
      try {
        createProxy({ backends: ['http://127.0.0.1:9001'], sharedState: { redis: 'redis://127.0.0.1:6379' } });
        console.log('no error');
      } catch (err) {
        console.log(JSON.stringify({ name: err.name, code: err.code, branded: isSwitchboardError(err), message: err.message, cause: err.cause && err.cause.code }));
      }
      // Without sharedState nothing asks for ioredis.
      createProxy({ backends: ['http://127.0.0.1:9001'] });
      console.log('plain proxy ok');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script]);
    const [line, plain] = stdout.trim().split('\n');
    expect(JSON.parse(line!)).toEqual({
      name: 'SharedStateError',
      code: 'ERR_SHARED_STATE',
      branded: true,
      message: 'options.sharedState needs the optional peer dependency ioredis: npm install ioredis',
      cause: 'MODULE_NOT_FOUND',
    });
    expect(plain).toBe('plain proxy ok');
  });
});
