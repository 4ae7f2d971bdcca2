/**
 * issue 14, workers on one machine: createCluster() runs N proxy processes on one port (node:cluster).
 * The primary's connections()/backends()/metrics() cover every worker, each connection record says
 * which worker holds it, runtime changes reach every worker (and workers forked later), a dead worker
 * is replaced and its clients reconnect, hashing and sticky cookies agree across workers, and a hung
 * worker never hangs an admin call. The test process is the primary; workers run
 * test/fixtures/cluster-worker.js (the built dist/).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import nodeCluster from 'node:cluster';
import { createServer, type IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { WebSocket } from 'ws';
import { createCluster, InvalidOptionError, type Cluster } from '@switchboard/proxy';
import { startCluster, isAlive } from './helpers/cluster';
import { httpRequest } from './helpers/http';
import { listenLocal, openWs, Resources, roundTrip, startBackend, waitFor, type TestBackend } from './helpers/servers';

const ROOT = resolve(__dirname, '..');

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/proxy'], { cwd: ROOT, stdio: 'inherit' });
}, 60_000);

const res = new Resources();
afterEach(() => res.cleanup());

const spec = (b: TestBackend): { id: string; url: string } => ({ id: b.id, url: b.url });

/** Opens `n` WebSockets one after the other (node:cluster deals them round-robin to the workers). */
async function openMany(url: string, n: number, options?: ConstructorParameters<typeof WebSocket>[2]): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i++) {
    const ws = await openWs(res, url, options);
    expect(await roundTrip(ws, `hello ${i}`)).toBe(`hello ${i}`);
    out.push(ws);
  }
  return out;
}

function localPort(ws: WebSocket): number {
  return (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
}

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(async (ws) => {
      if (ws.readyState === ws.CLOSED) return;
      const closed = once(ws, 'close');
      ws.close();
      await closed;
    }),
  );
}

async function tableEmpty(cluster: Cluster): Promise<void> {
  for (let i = 0; i < 100 && (await cluster.connections()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await cluster.connections()).toEqual([]);
}

test('connections() covers every worker and each record names the worker that holds it: killing that worker closes exactly its clients, and it is replaced', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cluster = await startCluster(res, { backends: [spec(a), spec(b)] }, { workers: 2 });
  const url = `ws://127.0.0.1:${cluster.address.port}/`;
  const sockets = await openMany(url, 8);

  const records = await cluster.connections();
  expect(records).toHaveLength(8);
  const workerIds = cluster.workers().map((w) => w.id);
  expect(new Set(records.map((r) => r.worker))).toEqual(new Set(workerIds));
  const workerOf = new Map(records.map((r) => [r.client.port, r.worker]));
  expect(sockets.map((ws) => workerOf.has(localPort(ws)))).toEqual(sockets.map(() => true));
  const backends = await cluster.backends();
  expect(backends.map((x) => x.activeConnections).reduce((s, n) => s + n, 0)).toBe(8);
  expect(backends.every((x) => x.byWorker.length === 2)).toBe(true);

  // Kill one worker outright: the clients it held (and only those) lose their connection.
  const victim = cluster.workers()[0]!;
  const exits: [number, boolean][] = [];
  cluster.on('workerExit', (id, _code, _signal, replaced) => exits.push([id, replaced]));
  const replacement = once(cluster, 'workerListening');
  const held = sockets.filter((ws) => workerOf.get(localPort(ws)) === victim.id);
  const others = sockets.filter((ws) => workerOf.get(localPort(ws)) !== victim.id);
  expect(held.length).toBeGreaterThan(0);
  process.kill(victim.pid!, 'SIGKILL');
  await Promise.all(held.map((ws) => (ws.readyState === ws.CLOSED ? undefined : once(ws, 'close'))));
  for (const ws of others) expect(await roundTrip(ws, 'still here')).toBe('still here');
  const [newId] = (await replacement) as [number];
  expect(exits).toEqual([[victim.id, true]]);
  expect(cluster.workers().map((w) => w.state)).toEqual(['listening', 'listening']);
  expect(newId).not.toBe(victim.id);

  // Its clients reconnect, and land on the workers listening now.
  const again = await openMany(url, held.length * 2);
  const now = await cluster.connections();
  expect(now).toHaveLength(others.length + again.length);
  expect(now.some((r) => r.worker === victim.id)).toBe(false);
  expect(now.some((r) => r.worker === newId)).toBe(true);
  await closeAll([...others, ...again]);
  await tableEmpty(cluster);
});

test('metrics() adds the workers up: counters are machine totals under the single-proxy names, plus per-worker series', async () => {
  const a = await startBackend(res, 'a');
  const cluster = await startCluster(res, { backends: [spec(a)] }, { workers: 2 });
  for (let i = 0; i < 10; i++) {
    const r = await httpRequest(`http://127.0.0.1:${cluster.address.port}/x`, { headers: { connection: 'close' } });
    expect(r.status).toBe(200);
  }
  const sockets = await openMany(`ws://127.0.0.1:${cluster.address.port}/`, 4);
  const text = await cluster.metrics();
  expect(text).toMatch(/^switchboard_http_requests_total\{route="default",backend="a",status_class="2xx"\} 10$/m);
  expect(text).toMatch(/^switchboard_connections\{route="default",backend="a",protocol="websocket"\} 4$/m);
  expect(text).toMatch(/^switchboard_backend_up\{route="default",backend="a"\} 1$/m);
  expect(text).toMatch(/^switchboard_cluster_workers\{state="listening"\} 2$/m);
  const perWorker = [...text.matchAll(/^switchboard_cluster_worker_connections\{worker="(\d+)"\} (\d+)$/gm)].map((m) => Number(m[2]));
  expect(perWorker).toHaveLength(2);
  expect(perWorker.reduce((s, n) => s + n, 0)).toBe(4);
  // Each family is declared once, as a single proxy declares it.
  expect(text.match(/^# TYPE switchboard_http_requests_total counter$/gm)).toHaveLength(1);
  await closeAll(sockets);
  await tableEmpty(cluster);
});

test('runtime changes reach every worker, and a worker forked later replays them', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cluster = await startCluster(res, { backends: [spec(a)] }, { workers: 2 });
  const url = `ws://127.0.0.1:${cluster.address.port}/`;

  await cluster.addBackend(spec(b));
  await cluster.setWeight('b', 3);
  let view = await cluster.backends();
  expect(view.map((x) => [x.id, x.weight, x.byWorker.length])).toEqual([['a', 1, 2], ['b', 3, 2]]);
  await expect(cluster.setWeight('nope', 2)).rejects.toBeInstanceOf(InvalidOptionError);

  // A drain closes b's WebSockets in every worker with 1012.
  const sockets = await openMany(url, 8);
  const onB: WebSocket[] = [];
  for (const ws of sockets) if ((await roundTrip(ws, 'whoami')) === 'b') onB.push(ws);
  const records = await cluster.connections();
  expect(new Set(records.filter((r) => r.backend.id === 'b').map((r) => r.worker)).size).toBe(2);
  const codes = onB.map((ws) => once(ws, 'close').then(([code]) => code as number));
  await cluster.drain('b', { timeout: 2000 });
  expect(await Promise.all(codes)).toEqual(onB.map(() => 1012));
  view = await cluster.backends();
  expect(view.find((x) => x.id === 'b')!.byWorker.map((w) => w.state)).toEqual(['draining', 'draining']);

  // A replacement worker gets b, weight 3 and the drain.
  const victim = cluster.workers()[0]!;
  const replaced = once(cluster, 'workerListening');
  process.kill(victim.pid!, 'SIGKILL');
  await replaced;
  view = await cluster.backends();
  expect(view.find((x) => x.id === 'b')!.byWorker.map((w) => w.state)).toEqual(['draining', 'draining']);
  expect(view.find((x) => x.id === 'b')!.weight).toBe(3);

  await cluster.undrain('b');
  await cluster.removeBackend('a', { drain: true, timeout: 2000 });
  view = await cluster.backends();
  expect(view.map((x) => [x.id, x.state, x.byWorker.length])).toEqual([['b', 'up', 2]]);
  const fresh = await openMany(url, 2);
  for (const ws of fresh) expect(await roundTrip(ws, 'whoami')).toBe('b');
  await closeAll([...sockets, ...fresh]);
  await tableEmpty(cluster);
});

test('ip-hash and sticky cookies agree across workers: the same key reaches the same backend whichever worker takes it', async () => {
  const backends = await Promise.all(['a', 'b', 'c'].map((id) => startBackend(res, id)));
  const hashed = await startCluster(res, { backends: backends.map(spec), strategy: 'ip-hash', trustProxy: ['127.0.0.1'] }, { workers: 2 });
  const hashUrl = `ws://127.0.0.1:${hashed.address.port}/`;
  const placed = new Map<string, Set<string>>();
  const opened: WebSocket[] = [];
  for (let i = 0; i < 6; i++) {
    const ip = `10.0.0.${i + 1}`;
    // Consecutive connections go to alternating workers (node:cluster round-robin).
    for (let k = 0; k < 2; k++) {
      const ws = await openWs(res, hashUrl, { headers: { 'x-forwarded-for': ip } });
      placed.set(ip, (placed.get(ip) ?? new Set()).add(await roundTrip(ws, 'whoami')));
      opened.push(ws);
    }
  }
  const records = await hashed.connections();
  expect(new Set(records.map((r) => r.worker)).size).toBe(2);
  for (const ip of placed.keys()) expect(new Set(records.filter((r) => r.client.address === ip).map((r) => r.worker)).size).toBe(2);
  expect(placed.size).toBe(6);
  expect([...placed.values()].map((s) => s.size)).toEqual([1, 1, 1, 1, 1, 1]);
  await closeAll(opened);
  await tableEmpty(hashed);

  // No secret given: the workers share the primary's random one, so a cookie set by one worker is honoured by the other.
  const sticky = await startCluster(res, { backends: backends.map(spec), strategy: 'sticky-cookie' }, { workers: 2 });
  const stickyUrl = `ws://127.0.0.1:${sticky.address.port}/`;
  const first = new WebSocket(stickyUrl);
  res.add(() => first.terminate());
  const upgraded = once(first, 'upgrade');
  await once(first, 'open');
  const [upgrade] = (await upgraded) as [IncomingMessage];
  const cookie = String(upgrade.headers['set-cookie']).split(';')[0]!;
  const home = await roundTrip(first, 'whoami');
  const later = await openMany(stickyUrl, 5, { headers: { cookie } });
  for (const ws of later) expect(await roundTrip(ws, 'whoami')).toBe(home);
  const stickyRecords = await sticky.connections();
  expect(new Set(stickyRecords.map((r) => r.worker)).size).toBe(2);
  await closeAll([first, ...later]);
  await tableEmpty(sticky);
});

test('a worker that does not answer (stopped) is left out after requestTimeout instead of hanging the admin call', async () => {
  const a = await startBackend(res, 'a');
  const cluster = await startCluster(res, { backends: [spec(a)] }, { workers: 2, requestTimeout: 300 });
  const sockets = await openMany(`ws://127.0.0.1:${cluster.address.port}/`, 4);
  const [stuck] = cluster.workers();
  const timeouts: number[] = [];
  cluster.on('requestTimeout', (id) => timeouts.push(id));
  process.kill(stuck!.pid!, 'SIGSTOP');
  try {
    const started = Date.now();
    const records = await cluster.connections();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(records).toHaveLength(2);
    expect(records.every((r) => r.worker !== stuck!.id)).toBe(true);
    expect(timeouts).toEqual([stuck!.id]);
    expect(await cluster.metrics()).toMatch(/^switchboard_cluster_scrape_missing_workers 1$/m);
  } finally {
    process.kill(stuck!.pid!, 'SIGCONT');
  }
  expect(await cluster.connections()).toHaveLength(4);
  await closeAll(sockets);
  await tableEmpty(cluster);
});

test('bad cluster options throw ERR_INVALID_OPTION in the primary before anything is forked', () => {
  const options = { backends: ['http://127.0.0.1:9'] };
  for (const workers of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
    expect(() => createCluster(options, { workers })).toThrow(InvalidOptionError);
    expect(() => createCluster(options, { workers })).toThrow(/cluster workers must be a positive integer/);
  }
  expect(() => createCluster(options, { workers: 2, listen: { port: 70000 } })).toThrow(/cluster listen.port must be an integer from 0 to 65535/);
  expect(() => createCluster(options, { workers: 2, countsInterval: 0 })).toThrow(/cluster countsInterval must be a number of milliseconds/);
  expect(() => createCluster({ backends: [] }, { workers: 2 })).toThrow(InvalidOptionError);
  try {
    createCluster(options, { workers: 0 });
  } catch (err) {
    expect((err as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
  }
});

test('a worker that cannot listen fails createCluster() with the reason, and no worker is left running', async () => {
  const a = await startBackend(res, 'a');
  const taken = createServer();
  const port = await listenLocal(res, taken);
  const forked: number[] = [];
  const onFork = (worker: { process: { pid?: number } }): void => void forked.push(worker.process.pid!);
  nodeCluster.on('fork', onFork);
  try {
    await expect(startCluster(res, { backends: [spec(a)] }, { workers: 2, listen: { port, host: '127.0.0.1' } })).rejects.toThrow(/failed to start: .*EADDRINUSE/);
  } finally {
    nodeCluster.removeListener('fork', onFork);
  }
  expect(forked).toHaveLength(2);
  await waitFor(() => forked.every((pid) => !isAlive(pid)), 5000, 'workers gone');
});

test('the primary admin API: token required, writes fanned out to every worker, /api/workers and a rolling restart by POST', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cluster = await startCluster(res, { backends: [spec(a), spec(b)] }, { workers: 2 });
  const server = createServer(cluster.admin({ token: 'cluster-secret' }));
  const adminPort = await listenLocal(res, server);
  const admin = (path: string, init: { method?: string; body?: string; token?: boolean } = {}): ReturnType<typeof httpRequest> =>
    httpRequest(`http://127.0.0.1:${adminPort}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.token !== false && { authorization: 'Bearer cluster-secret' }), ...(init.body !== undefined && { 'content-type': 'application/json' }) },
      ...(init.body !== undefined && { body: init.body }),
    });

  expect((await admin('/api/backends', { token: false })).status).toBe(401);
  const sockets = await openMany(`ws://127.0.0.1:${cluster.address.port}/`, 4);
  const listed = JSON.parse((await admin('/api/connections?limit=2')).body) as { total: number; connections: { worker: number }[]; missingWorkers: number[] };
  expect(listed.total).toBe(4);
  expect(listed.connections).toHaveLength(2);
  expect(listed.missingWorkers).toEqual([]);
  const one = cluster.workers()[0]!.id;
  const ofOne = JSON.parse((await admin(`/api/connections?worker=${one}`)).body) as { connections: { worker: number }[] };
  expect(ofOne.connections.length).toBeGreaterThan(0);
  expect(ofOne.connections.every((c) => c.worker === one)).toBe(true);

  expect((await admin('/api/backends/b/weight', { method: 'POST', body: '{"weight":4}' })).status).toBe(200);
  expect((await admin('/api/backends/nope/weight', { method: 'POST', body: '{"weight":4}' })).status).toBe(404);
  const view = JSON.parse((await admin('/api/backends')).body) as { backends: { id: string; weight: number; url?: string; byWorker: unknown[] }[] };
  expect(view.backends.find((x) => x.id === 'b')).toMatchObject({ weight: 4, url: `${b.url}/` });
  expect(view.backends.every((x) => x.byWorker.length === 2)).toBe(true);
  expect((await admin('/metrics')).body).toMatch(/^switchboard_backend_weight\{route="default",backend="b"\} 4$/m);

  const before = (JSON.parse((await admin('/api/workers')).body) as { workers: { id: number; state: string }[] }).workers;
  expect(before.map((w) => w.state)).toEqual(['listening', 'listening']);
  const codes = sockets.map((ws) => once(ws, 'close').then(([code]) => code as number));
  expect((await admin('/api/workers/rolling-restart', { method: 'POST', body: '{}' })).status).toBe(202);
  expect(await Promise.all(codes)).toEqual([1012, 1012, 1012, 1012]);
  await waitFor(() => cluster.workers().length === 2 && cluster.workers().every((w) => w.state === 'listening' && !before.some((o) => o.id === w.id)), 15_000, 'two new workers');
  const weights = (await cluster.backends()).map((x) => [x.id, x.weight]);
  expect(weights).toEqual([['a', 1], ['b', 4]]);
  await tableEmpty(cluster);
});
