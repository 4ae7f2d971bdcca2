/**
 * Streaming load generator (own process): N `ws` clients on `/stream`; the backend sends 64 KiB
 * messages as fast as each connection takes them; we count payload bytes received in the window.
 * argv[2]: JSON {@link StreamLoadConfig}. Protocol: `connected`, then on `start`: warm-up, `measuring`,
 * window, `result`. Bounded: connect timeout, warm-up, window, a byte cap.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { exitOnStop, send, type Message } from '../lib/ipc';

export interface StreamLoadConfig {
  url: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
  maxBytes: number;
}

export interface StreamLoadResult extends Message {
  type: 'result';
  bytes: number;
  messages: number;
  seconds: number;
  errors: number;
  closedEarly: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as StreamLoadConfig;
let measuring = false;
let done = false;
let bytes = 0;
let messages = 0;
let errors = 0;
let closedEarly = 0;
let t0 = 0;
const clients: WebSocket[] = [];

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cfg.url, { perMessageDeflate: false, maxPayload: 1 << 24 });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`connect timeout ${cfg.url}`));
    }, 10_000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('message', (data: Buffer) => {
      if (!measuring) return;
      bytes += data.length;
      messages += 1;
      if (bytes >= cfg.maxBytes) finish();
    });
    ws.on('close', () => {
      if (!done) closedEarly += 1;
    });
  });
}

function finish(): void {
  if (!measuring) return;
  measuring = false;
  done = true;
  const seconds = (performance.now() - t0) / 1000;
  const r: StreamLoadResult = { type: 'result', bytes, messages, seconds, errors, closedEarly };
  send(r);
  for (const ws of clients) ws.terminate();
  send({ type: 'closed' });
}

process.on('message', (m: Message) => {
  if (m === null || typeof m !== 'object' || m.type !== 'start') return;
  setTimeout(() => {
    bytes = 0;
    messages = 0;
    t0 = performance.now();
    measuring = true;
    send({ type: 'measuring' });
    setTimeout(finish, cfg.durationMs);
  }, cfg.warmupMs);
});
exitOnStop(() => {
  for (const ws of clients) ws.terminate();
});

async function main(): Promise<void> {
  const opened = await Promise.allSettled(Array.from({ length: cfg.connections }, () => open()));
  for (const r of opened) if (r.status === 'fulfilled') clients.push(r.value);
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  for (const ws of clients) ws.on('error', () => (errors += 1));
  send({ type: 'connected', connections: clients.length });
}

main().catch((err: Error) => {
  send({ type: 'fatal', message: `stream-load: ${err.message}` });
  process.exit(1);
});
