/**
 * issue 14, workers on one machine: a rolling restart replaces the workers one at a time. Each new
 * worker listens before the old one retires; the old one stops accepting, then closes its WebSockets
 * with 1012 (Service Restart). Clients that reconnect at once all succeed (zero failed reconnects),
 * new clients keep connecting throughout, and the port never has fewer than N listening workers.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { WebSocket } from 'ws';
import { startCluster } from './helpers/cluster';
import { Resources, roundTrip, startBackend, waitFor } from './helpers/servers';

const ROOT = resolve(__dirname, '..');

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/proxy'], { cwd: ROOT, stdio: 'inherit' });
}, 60_000);

const res = new Resources();
afterEach(() => res.cleanup());

/** A client that reconnects at once whenever the proxy closes it with 1012, as browsers' reconnect loops do. */
class ReconnectingClient {
  ws: WebSocket | undefined;
  reconnects = 0;
  /** True once the current connection has answered its echo check (an open socket may still be waiting for it). */
  checked = false;
  failures: string[] = [];
  #stopped = false;

  constructor(readonly url: string) {}

  /** Opens (or reopens) and checks the connection with one echo; a failure is recorded, not thrown. */
  async connect(): Promise<void> {
    // A handshake that never completes fails after 5 s instead of hanging the test.
    const ws = new WebSocket(this.url, { handshakeTimeout: 5000 });
    this.ws = ws;
    this.checked = false;
    ws.on('error', () => undefined);
    try {
      await once(ws, 'open');
      const echoed = await roundTrip(ws, 'are you there');
      if (echoed !== 'are you there') this.failures.push(`echo: ${echoed}`);
      this.checked = true;
    } catch (err) {
      this.failures.push((err as Error).message);
      return;
    }
    ws.once('close', (code: number) => {
      if (this.#stopped) return;
      if (code !== 1012) return void this.failures.push(`closed with ${code}`);
      this.reconnects++;
      void this.connect();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const ws = this.ws;
    if (ws === undefined || ws.readyState === ws.CLOSED) return;
    // Not events.once: it would reject on the 'error' a terminated handshake emits before 'close'.
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    if (ws.readyState === ws.CONNECTING) ws.terminate();
    else ws.close();
    // A close handshake nobody answers would take ws's 30 s: cut it short.
    const cut = setTimeout(() => ws.terminate(), 2000);
    await closed;
    clearTimeout(cut);
  }
}

test('rolling restart of 2 workers with 20 live clients: every 1012 reconnect succeeds, new clients keep connecting, never fewer than 2 listening workers', async () => {
  const backends = await Promise.all(['a', 'b'].map((id) => startBackend(res, id)));
  const cluster = await startCluster(res, { backends: backends.map((b) => ({ id: b.id, url: b.url })) }, { workers: 2, retireTimeout: 5000 });
  const url = `ws://127.0.0.1:${cluster.address.port}/`;
  const before = cluster.workers().map((w) => w.id);

  const clients = Array.from({ length: 20 }, () => new ReconnectingClient(url));
  res.add(() => Promise.all(clients.map((c) => c.stop())).then(() => undefined));
  for (const c of clients) await c.connect();
  expect(clients.flatMap((c) => c.failures)).toEqual([]);

  // The fewest workers listening at any moment, sampled on every worker event and every 2 ms.
  const listening = (): number => cluster.workers().filter((w) => w.state === 'listening').length;
  let fewest = listening();
  const sample = (): void => void (fewest = Math.min(fewest, listening()));
  for (const event of ['workerListening', 'workerRetiring', 'workerExit'] as const) cluster.on(event, sample);
  const sampler = setInterval(sample, 2);

  // Fresh clients during the restart: one every 20 ms, each must open and echo.
  const fresh: ReconnectingClient[] = [];
  let opening = true;
  const opener = (async () => {
    while (opening) {
      const c = new ReconnectingClient(url);
      fresh.push(c);
      await c.connect();
      await c.stop();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const started = Date.now();
  await cluster.rollingRestart();
  const took = Date.now() - started;
  opening = false;
  await opener;
  clearInterval(sampler);

  const after = cluster.workers();
  expect(after.map((w) => w.state)).toEqual(['listening', 'listening']);
  expect(after.some((w) => before.includes(w.id))).toBe(false);
  expect(fewest).toBe(2);
  // Every client saw at least one 1012 and came back; none failed.
  // Open and echo-checked: an open socket whose check is still in flight would take the next echo for its own.
  await waitFor(() => clients.every((c) => c.checked && c.ws?.readyState === WebSocket.OPEN), 10_000, 'every client reconnected');
  expect(clients.flatMap((c) => c.failures)).toEqual([]);
  expect(fresh.flatMap((c) => c.failures)).toEqual([]);
  expect(fresh.length).toBeGreaterThan(5);
  expect(clients.every((c) => c.reconnects >= 1)).toBe(true);
  for (const c of clients) expect(await roundTrip(c.ws!, 'still')).toBe('still');
  const records = await cluster.connections();
  expect(records).toHaveLength(20);
  expect(records.every((r) => after.some((w) => w.id === r.worker))).toBe(true);
  expect(took).toBeLessThan(15_000);

  await Promise.all(clients.map((c) => c.stop()));
  for (let i = 0; i < 100 && (await cluster.connections()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await cluster.connections()).toEqual([]);
});

test('a rolling restart called twice runs once; after close() no worker is replaced and no restart starts', async () => {
  const a = await startBackend(res, 'a');
  const cluster = await startCluster(res, { backends: [{ id: 'a', url: a.url }] }, { workers: 2 });
  const first = cluster.rollingRestart();
  expect(cluster.rollingRestart()).toBe(first);
  await first;
  const exits: boolean[] = [];
  cluster.on('workerExit', (_id, _code, _signal, replaced) => exits.push(replaced));
  await cluster.close({ timeout: 1000 });
  expect(exits).toEqual([false, false]);
  expect(cluster.workers()).toEqual([]);
  await expect(cluster.rollingRestart()).rejects.toThrow(/closing/);
});
