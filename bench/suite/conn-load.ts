/**
 * Connection load generator (own process): opens N `ws` clients on `/echo` with at most C handshakes
 * in flight, rotating the local (source) address over `localAddresses` to get past the ~28k source
 * ports toward one proxy address. Then holds them idle; on request, echoes a small message on each.
 * argv[2]: JSON {@link ConnLoadConfig}.
 *
 * Messages in: `open` -> `opened` (counts, seconds); `echo` { perSecond, maxSeconds } -> `echoed`
 * (one message per connection, at most `perSecond` started per second, bounded by `maxSeconds`);
 * `close-all` -> `all-closed`. Every phase is bounded by count and time.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { exitOnStop, send, type Message } from '../lib/ipc';

export interface ConnLoadConfig {
  url: string;
  connections: number;
  concurrency: number;
  localAddresses: string[];
  /** Give up opening after this long (ms). */
  openTimeoutMs: number;
  /** Per-handshake timeout (ms). */
  handshakeTimeoutMs: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as ConnLoadConfig;
const clients: WebSocket[] = [];
const payload = Buffer.from('ping-0123456789');
let failures = 0;
let firstError = '';
let closedUnexpectedly = 0;
let closing = false;
let onEcho: ((ws: WebSocket) => void) | undefined;

function openOne(i: number): Promise<void> {
  return new Promise((resolve) => {
    const localAddress = cfg.localAddresses.length > 0 ? cfg.localAddresses[i % cfg.localAddresses.length] : undefined;
    const ws = new WebSocket(cfg.url, { perMessageDeflate: false, localAddress, handshakeTimeout: cfg.handshakeTimeoutMs });
    let settled = false;
    ws.once('open', () => {
      settled = true;
      clients.push(ws);
      resolve();
    });
    ws.on('error', (err) => {
      if (settled) return;
      settled = true;
      failures += 1;
      if (firstError === '') firstError = `${err.message} (connection ${i}, local ${localAddress ?? 'any'})`;
      resolve();
    });
    ws.on('close', () => {
      if (!settled) {
        settled = true;
        failures += 1;
        if (firstError === '') firstError = `closed before open (connection ${i})`;
        resolve();
      } else if (!closing) closedUnexpectedly += 1;
    });
    ws.on('message', () => onEcho?.(ws));
  });
}

async function openAll(): Promise<void> {
  const t0 = performance.now();
  const deadline = t0 + cfg.openTimeoutMs;
  let next = 0;
  let lastReport = t0;
  const worker = async (): Promise<void> => {
    while (next < cfg.connections && performance.now() < deadline && failures < 100) {
      const i = next++;
      await openOne(i);
      const now = performance.now();
      if (now - lastReport > 5000) {
        lastReport = now;
        send({ type: 'progress', opened: clients.length, failures, seconds: (now - t0) / 1000 });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, cfg.connections) }, worker));
  send({ type: 'opened', opened: clients.length, failures, firstError, seconds: (performance.now() - t0) / 1000, gaveUp: clients.length + failures < cfg.connections });
}

async function echoAll(perSecond: number, maxSeconds: number): Promise<void> {
  const t0 = performance.now();
  let echoed = 0;
  let sent = 0;
  const lat: number[] = [];
  const sentAt = new Map<WebSocket, number>();
  onEcho = (ws) => {
    const s = sentAt.get(ws);
    if (s === undefined) return;
    sentAt.delete(ws);
    echoed += 1;
    if (lat.length < 200_000) lat.push(performance.now() - s);
  };
  const deadline = t0 + maxSeconds * 1000;
  // Paced in 10 ms ticks: at most perSecond/100 sends per tick.
  while (sent < clients.length && performance.now() < deadline) {
    const target = Math.min(clients.length, Math.floor(((performance.now() - t0) / 1000) * perSecond) + 1);
    for (; sent < target; sent++) {
      const ws = clients[sent]!;
      if (ws.readyState !== WebSocket.OPEN) continue;
      sentAt.set(ws, performance.now());
      ws.send(payload, { binary: true });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  while (echoed < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  onEcho = undefined;
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => (lat.length === 0 ? Number.NaN : lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!);
  send({ type: 'echoed', sent, echoed, seconds: (performance.now() - t0) / 1000, p50ms: pct(50), p99ms: pct(99), maxms: pct(100), closedUnexpectedly });
}

function closeAll(): void {
  closing = true;
  for (const ws of clients) ws.terminate();
  clients.length = 0;
  send({ type: 'all-closed' });
}

process.on('message', (m: Message) => {
  if (m === null || typeof m !== 'object') return;
  if (m.type === 'open') void openAll();
  else if (m.type === 'echo') void echoAll(Number(m.perSecond), Number(m.maxSeconds));
  else if (m.type === 'close-all') closeAll();
});
exitOnStop(() => {
  closing = true;
  for (const ws of clients) ws.terminate();
});
send({ type: 'ready' });
