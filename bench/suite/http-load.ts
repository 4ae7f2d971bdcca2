/**
 * HTTP keep-alive load generator (own process): an undici `Pool` with N connections (no pipelining)
 * and N request loops, each with one GET in flight. argv[2]: JSON {@link HttpLoadConfig}.
 * Protocol: `connected` (after one request per connection), then on `start`: warm-up, `measuring`,
 * window, `result`. Bounded: window, warm-up, a request cap, per-request timeouts.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { exitOnStop, send, type Message } from '../lib/ipc';

export interface HttpLoadConfig {
  origin: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
  maxRequests: number;
}

export interface HttpLoadResult extends Message {
  type: 'result';
  requests: number;
  seconds: number;
  errors: number;
  firstError: string;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as HttpLoadConfig;
const pool = new Pool(cfg.origin, { connections: cfg.connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000, keepAliveTimeout: 60_000 });
const WARMUP = 1;
const MEASURE = 2;
const DONE = 3;
let phase = 0;
let requests = 0;
let errors = 0;
let firstError = '';
let t0 = 0;

async function one(): Promise<void> {
  const { statusCode, body } = await pool.request({ path: '/', method: 'GET' });
  await body.dump();
  if (statusCode !== 200) throw new Error(`status ${statusCode}`);
}

async function loop(): Promise<void> {
  // Bounded: stops at DONE (set by the window timer) or at the request cap.
  while (phase === WARMUP || phase === MEASURE) {
    try {
      await one();
      if (phase === MEASURE) {
        requests += 1;
        if (requests >= cfg.maxRequests) finish();
      }
    } catch (err) {
      errors += 1;
      if (firstError === '') firstError = (err as Error).message;
      if (errors > 1000) finish();
    }
  }
}

function finish(): void {
  if (phase !== MEASURE) return;
  phase = DONE;
  const r: HttpLoadResult = { type: 'result', requests, seconds: (performance.now() - t0) / 1000, errors, firstError };
  send(r);
  pool.close().then(
    () => send({ type: 'closed' }),
    () => send({ type: 'closed' }),
  );
}

process.on('message', (m: Message) => {
  if (m === null || typeof m !== 'object' || m.type !== 'start' || phase !== 0) return;
  phase = WARMUP;
  for (let i = 0; i < cfg.connections; i++) void loop();
  setTimeout(() => {
    requests = 0;
    errors = 0;
    t0 = performance.now();
    phase = MEASURE;
    send({ type: 'measuring' });
    setTimeout(finish, cfg.durationMs);
  }, cfg.warmupMs);
});
exitOnStop(() => pool.destroy());

async function main(): Promise<void> {
  // Open every connection up front: N concurrent requests on an N-connection pool.
  await Promise.all(Array.from({ length: cfg.connections }, () => one()));
  send({ type: 'connected', connections: cfg.connections });
}

main().catch((err: Error) => {
  send({ type: 'fatal', message: `http-load: ${err.message}` });
  process.exit(1);
});
