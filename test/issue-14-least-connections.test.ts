/**
 * issue 14, workers on one machine: least-connections reads machine-wide counts. Each worker sees
 * its own connections exactly and the other workers' as reported through the primary, at most
 * `countsInterval` (25 ms) plus two IPC hops old. Connections opened further apart than that are
 * placed as one proxy would place them: no backend ever holds more than one connection above another,
 * although consecutive connections go to different workers (node:cluster round-robin).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { WebSocket } from 'ws';
import { startCluster } from './helpers/cluster';
import { openWs, Resources, roundTrip, startBackend, type TestBackend } from './helpers/servers';

const ROOT = resolve(__dirname, '..');

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/proxy'], { cwd: ROOT, stdio: 'inherit' });
}, 60_000);

const res = new Resources();
afterEach(() => res.cleanup());

/** Comfortably past the staleness bound (25 ms + IPC) on a loaded 2-core machine. */
const PAUSE = 150;

function spread(backends: readonly TestBackend[]): number {
  const counts = backends.map((b) => b.wss.clients.size);
  return Math.max(...counts) - Math.min(...counts);
}

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(sockets.map(async (ws) => (ws.readyState === ws.CLOSED ? undefined : (ws.close(), once(ws, 'close')))));
}

test('2 workers, 3 backends: WebSockets opened 150 ms apart never leave one backend more than one connection ahead', async () => {
  const backends = await Promise.all(['a', 'b', 'c'].map((id) => startBackend(res, id)));
  const cluster = await startCluster(res, { backends: backends.map((b) => ({ id: b.id, url: b.url })), strategy: 'least-connections' }, { workers: 2 });
  const url = `ws://127.0.0.1:${cluster.address.port}/`;
  const sockets: WebSocket[] = [];
  const spreads: number[] = [];
  for (let i = 0; i < 12; i++) {
    const ws = await openWs(res, url);
    expect(await roundTrip(ws, 'x')).toBe('x');
    sockets.push(ws);
    spreads.push(spread(backends));
    await new Promise((r) => setTimeout(r, PAUSE));
  }
  // Both workers placed connections: without shared counts each would start on the same backend.
  const records = await cluster.connections();
  expect(new Set(records.map((r) => r.worker)).size).toBe(2);
  expect(spreads.every((s) => s <= 1)).toBe(true);
  expect(backends.map((b) => b.wss.clients.size)).toEqual([4, 4, 4]);

  // Closing some on one backend: the next ones fill it first, whichever worker takes them.
  const onA: WebSocket[] = [];
  for (const ws of sockets) if ((await roundTrip(ws, 'whoami')) === 'a') onA.push(ws);
  await closeAll(onA.slice(0, 2));
  await new Promise((r) => setTimeout(r, PAUSE));
  const refill: WebSocket[] = [];
  for (let i = 0; i < 2; i++) {
    const ws = await openWs(res, url);
    expect(await roundTrip(ws, 'whoami')).toBe('a');
    refill.push(ws);
    await new Promise((r) => setTimeout(r, PAUSE));
  }
  expect(backends.map((b) => b.wss.clients.size)).toEqual([4, 4, 4]);
  await closeAll([...sockets, ...refill]);
  for (let i = 0; i < 100 && (await cluster.connections()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await cluster.connections()).toEqual([]);
});
