/**
 * The load generator (own process): N `ws` clients, each with exactly one message in flight
 * (send, wait for the echo, send again). argv[2]: JSON {@link LoadConfig}.
 *
 * Protocol: `connected` once every client is open; on `start` it runs the warm-up, resets its
 * counters, reports `measuring`, runs the measured window, then reports `result`. Everything is
 * bounded: connect timeout, warm-up and window durations, a cap on messages, a drain timeout.
 */
import { createHistogram, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { exitOnStop, send, type Message } from '../lib/ipc';

export interface LoadConfig {
  url: string;
  connections: number;
  messageBytes: number;
  warmupMs: number;
  durationMs: number;
  /** Hard cap on round trips in the measured window (a bound, not expected to be reached). */
  maxMessages: number;
}

export interface LoadResult extends Message {
  type: 'result';
  roundTrips: number;
  seconds: number;
  p50us: number;
  p90us: number;
  p99us: number;
  p999us: number;
  maxus: number;
  meanus: number;
  errors: number;
  closedEarly: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
const payload = Buffer.alloc(cfg.messageBytes, 0x61);
const hist = createHistogram({ lowest: 1, highest: 60_000_000_000, figures: 3 });

const WARMUP = 1;
const MEASURE = 2;
const DONE = 3;
let phase = 0;
let roundTrips = 0;
let errors = 0;
let closedEarly = 0;
let inFlight = 0;
let onDrained: (() => void) | undefined;

interface Conn {
  ws: WebSocket;
  sentAt: number;
}
const conns: Conn[] = [];

function sendOne(c: Conn): void {
  c.sentAt = performance.now();
  inFlight += 1;
  c.ws.send(payload, { binary: true });
}

function onEcho(c: Conn): void {
  const now = performance.now();
  inFlight -= 1;
  if (phase === MEASURE) {
    hist.record(Math.max(1, Math.round((now - c.sentAt) * 1e6)));
    roundTrips += 1;
    if (roundTrips >= cfg.maxMessages) finish();
  }
  if (phase === WARMUP || phase === MEASURE) sendOne(c);
  else if (inFlight === 0 && onDrained !== undefined) onDrained();
}

function open(url: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c: Conn = { ws, sentAt: 0 };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`connect timeout ${url}`));
    }, 10_000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(c);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('message', () => onEcho(c));
    ws.on('close', () => {
      if (phase === WARMUP || phase === MEASURE) closedEarly += 1;
    });
  });
}

let t0 = 0;
function finish(): void {
  if (phase !== MEASURE) return;
  const seconds = (performance.now() - t0) / 1000;
  phase = DONE;
  const us = (ns: number): number => ns / 1000;
  const result: LoadResult = {
    type: 'result',
    roundTrips,
    seconds,
    p50us: us(hist.percentile(50)),
    p90us: us(hist.percentile(90)),
    p99us: us(hist.percentile(99)),
    p999us: us(hist.percentile(99.9)),
    maxus: us(hist.max),
    meanus: us(hist.mean),
    errors,
    closedEarly,
  };
  send(result);
  // Let the last echoes arrive (bounded), then close every client with a normal closing handshake
  // (bounded too), so a proxy's error count reflects real errors, not our teardown.
  const closeAll = (): void => {
    onDrained = undefined;
    let open = 0;
    const done = (): void => {
      for (const c of conns) c.ws.terminate();
      send({ type: 'closed' });
    };
    const timer = setTimeout(done, 2000);
    for (const c of conns) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      open += 1;
      c.ws.once('close', () => {
        open -= 1;
        if (open === 0) {
          clearTimeout(timer);
          done();
        }
      });
      c.ws.close(1000, 'bench done');
    }
    if (open === 0) {
      clearTimeout(timer);
      done();
    }
  };
  if (inFlight === 0) closeAll();
  else {
    const timer = setTimeout(closeAll, 2000);
    onDrained = () => {
      clearTimeout(timer);
      closeAll();
    };
  }
}

function start(): void {
  phase = WARMUP;
  for (const c of conns) sendOne(c);
  setTimeout(() => {
    hist.reset();
    roundTrips = 0;
    t0 = performance.now();
    phase = MEASURE;
    send({ type: 'measuring' });
    setTimeout(finish, cfg.durationMs);
  }, cfg.warmupMs);
}

process.on('message', (m: Message) => {
  if (m !== null && typeof m === 'object' && m.type === 'start' && phase === 0) start();
});
exitOnStop(() => {
  for (const c of conns) c.ws.terminate();
});

async function main(): Promise<void> {
  const opened = await Promise.allSettled(Array.from({ length: cfg.connections }, () => open(cfg.url)));
  for (const r of opened) if (r.status === 'fulfilled') conns.push(r.value);
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    for (const c of conns) c.ws.terminate();
    throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  }
  for (const c of conns) {
    c.ws.on('error', () => {
      errors += 1;
    });
  }
  send({ type: 'connected', connections: conns.length });
}

main().catch((err: Error) => {
  send({ type: 'fatal', message: `loadgen: ${err.message}` });
  process.exit(1);
});
