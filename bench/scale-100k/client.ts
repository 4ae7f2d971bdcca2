/**
 * scale-100k load generator (own process): holds `connections` WebSocket slots to `/echo`, at most
 * `concurrency` handshakes in flight, the local (source) address rotated over `localAddresses`. A slot
 * counts as live only once its echo came back unchanged (a payload naming the process, slot and attempt).
 * A live slot closed with 1012 (drain, rolling restart) is reopened and echo-checked again; any other loss
 * is a failure of its kind and is reopened too, so one fault does not hide the rest of the run.
 *
 * argv[2]: JSON {@link ScaleClientConfig}. Messages in: `open` -> `opened`; `verify` { perSecond, maxSeconds }
 * -> `verified` (one more echo on every live slot); `status` -> `status`. A `progress` message every 2 s.
 * Every phase is bounded by count and time.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { exitOnStop, send, type Message } from '../lib/ipc';

export interface ScaleClientConfig {
  /** Process number, part of every echo payload. */
  id: number;
  url: string;
  connections: number;
  concurrency: number;
  localAddresses: string[];
  /** Per handshake (ms). */
  handshakeTimeoutMs: number;
  /** Per echo check (ms). */
  echoTimeoutMs: number;
  /** Reopen attempts per slot after a loss before the slot is given up. */
  maxAttempts: number;
}

/** What a load generator reports (`progress`, `opened`, `status`). Times are `Date.now()` ms (one clock for all processes). */
export interface ClientStatus {
  live: number;
  /** Slots not live and not waiting to reopen (failed past maxAttempts, or never opened). */
  dead: number;
  /** Reopens queued or in flight. */
  pending: number;
  /** Live slots closed by the proxy with 1012. */
  drained: number;
  /** Opens closed with 1012 before their echo (they reached a worker being retired), then retried. */
  drainedBeforeLive: number;
  /** Slots live again after a loss (1012 or other). */
  reopened: number;
  firstDrainAt: number;
  lastReopenAt: number;
  failures: Record<string, number>;
  /** One example message per failure kind. */
  examples: Record<string, string>;
}

export type Verified = { sent: number; ok: number; failed: number; seconds: number; p50ms: number; p99ms: number; maxms: number };

const cfg = JSON.parse(process.argv[2] ?? '{}') as ScaleClientConfig;
const sockets: (WebSocket | undefined)[] = new Array(cfg.connections).fill(undefined);
const isLive = new Uint8Array(cfg.connections);
/** Slots that were live once: opening them again is a reopen (retried, counted), not a first open. */
const everLive = new Uint8Array(cfg.connections);
const attempts = new Uint16Array(cfg.connections);
const queue: number[] = [];
let inFlight = 0;
let live = 0;
let drained = 0;
let reopened = 0;
let firstDrainAt = 0;
let drainedBeforeLive = 0;
let lastReopenAt = 0;
let stopping = false;
const failures: Record<string, number> = {};
const examples: Record<string, string> = {};
/** Waiting echo per slot: resolves with whether the echo matched. */
const pendingEcho = new Map<number, { payload: string; done: (ok: boolean) => void }>();

function fail(kind: string, detail: string): void {
  failures[kind] = (failures[kind] ?? 0) + 1;
  if (examples[kind] === undefined) examples[kind] = detail;
}

/** Sends one payload on a live slot and waits for it back (or a timeout / close). */
function echoCheck(slot: number, ws: WebSocket, attempt: number): Promise<'ok' | 'echo-mismatch' | 'echo-timeout'> {
  const payload = `${cfg.id}:${slot}:${attempt}:${Math.random().toString(36).slice(2, 10)}`;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pendingEcho.delete(slot);
      resolve('echo-timeout');
    }, cfg.echoTimeoutMs);
    pendingEcho.set(slot, {
      payload,
      done: (ok) => {
        clearTimeout(timer);
        pendingEcho.delete(slot);
        resolve(ok ? 'ok' : 'echo-mismatch');
      },
    });
    ws.send(payload);
  });
}

function onLost(slot: number, code: number, reason: string): void {
  if (isLive[slot] === 0) return;
  isLive[slot] = 0;
  live -= 1;
  sockets[slot] = undefined;
  if (stopping) return;
  if (code === 1012) {
    drained += 1;
    if (firstDrainAt === 0) firstDrainAt = Date.now();
  } else {
    fail(`closed-${code}`, `slot ${slot}: closed with ${code} ${reason}`.trim());
  }
  attempts[slot] = 0;
  queue.push(slot);
  pump();
}

/**
 * One attempt at making `slot` live; resolves `live`, `failed` (failure counted) or `drained`: closed with
 * 1012 before its echo came back (it reached a worker that was being retired): not a failure, the service
 * said "reconnect", and the slot is queued again.
 */
function openSlot(slot: number): Promise<'live' | 'failed' | 'drained'> {
  const localAddress = cfg.localAddresses.length > 0 ? cfg.localAddresses[slot % cfg.localAddresses.length] : undefined;
  const attempt = ++attempts[slot]!;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (how: 'live' | 'failed' | 'drained', kind?: string, detail?: string): void => {
      if (settled) return;
      settled = true;
      if (kind !== undefined) fail(kind, detail ?? kind);
      resolve(how);
    };
    const ws = new WebSocket(cfg.url, { perMessageDeflate: false, localAddress, handshakeTimeout: cfg.handshakeTimeoutMs });
    ws.on('error', (err: Error & { code?: string }) => {
      if (settled) return;
      const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
      const kind = /time(d )?out/i.test(err.message)
        ? 'handshake-timeout'
        : status !== undefined
          ? `handshake-http-${status}`
          : `handshake-${err.code ?? err.message.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}`;
      settle('failed', kind, `slot ${slot} (local ${localAddress ?? 'any'}): ${err.message}`);
    });
    ws.on('message', (data) => {
      const p = pendingEcho.get(slot);
      if (p === undefined) return fail('unexpected-message', `slot ${slot}: a message nobody asked for`);
      p.done(data.toString() === p.payload);
    });
    ws.on('close', (code, reason) => {
      if (!settled) {
        if (code !== 1012) return settle('failed', `closed-before-live-${code}`, `slot ${slot}: closed with ${code} before its echo`);
        drainedBeforeLive += 1;
        return settle('drained');
      }
      onLost(slot, code, reason.toString());
    });
    ws.once('open', () => {
      void echoCheck(slot, ws, attempt).then((r) => {
        if (settled) return;
        if (r !== 'ok') {
          ws.terminate();
          return settle('failed', r, `slot ${slot} attempt ${attempt}: ${r}`);
        }
        sockets[slot] = ws;
        isLive[slot] = 1;
        live += 1;
        if (everLive[slot] === 1) {
          reopened += 1;
          lastReopenAt = Date.now();
        }
        everLive[slot] = 1;
        settle('live');
      });
    });
  });
}

let idleWaiters: (() => void)[] = [];

function pump(): void {
  while (inFlight < cfg.concurrency && queue.length > 0) {
    const slot = queue.shift()!;
    inFlight += 1;
    void openSlot(slot).then((how) => {
      inFlight -= 1;
      // A reopen (after a loss) retries; the first open does not, so its failures are the run's.
      if (how === 'drained' && !stopping) queue.push(slot);
      else if (how === 'failed' && !stopping && everLive[slot] === 1 && attempts[slot]! < cfg.maxAttempts) queue.push(slot);
      pump();
      if (inFlight === 0 && queue.length === 0) {
        const w = idleWaiters;
        idleWaiters = [];
        for (const f of w) f();
      }
    });
  }
}

function status(): ClientStatus {
  return { live, dead: cfg.connections - live - queue.length - inFlight, pending: queue.length + inFlight, drained, drainedBeforeLive, reopened, firstDrainAt, lastReopenAt, failures, examples };
}

async function openAll(): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < cfg.connections; i++) queue.push(i);
  await new Promise<void>((resolve) => {
    idleWaiters.push(resolve);
    pump();
  });
  send({ type: 'opened', ...status(), seconds: (performance.now() - t0) / 1000 });
}

async function verifyAll(perSecond: number, maxSeconds: number): Promise<void> {
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  const lat: number[] = [];
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const checks: Promise<void>[] = [];
  for (let slot = 0; slot < cfg.connections && performance.now() < deadline; slot++) {
    const ws = sockets[slot];
    if (ws === undefined || isLive[slot] === 0 || pendingEcho.has(slot)) continue;
    // Paced: at most perSecond started per second.
    const due = t0 + (sent / perSecond) * 1000;
    if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
    sent += 1;
    const s = performance.now();
    checks.push(
      echoCheck(slot, ws, 0).then((r) => {
        if (r === 'ok') {
          ok += 1;
          lat.push(performance.now() - s);
        } else {
          failed += 1;
          fail(`verify-${r}`, `slot ${slot}: ${r}`);
        }
      }),
    );
  }
  await Promise.all(checks);
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => (lat.length === 0 ? Number.NaN : lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!);
  const v: Verified = { sent, ok, failed, seconds: (performance.now() - t0) / 1000, p50ms: pct(50), p99ms: pct(99), maxms: pct(100) };
  send({ type: 'verified', ...v });
}

process.on('message', (m: Message) => {
  if (m === null || typeof m !== 'object') return;
  if (m.type === 'open') void openAll();
  else if (m.type === 'verify') void verifyAll(Number(m.perSecond), Number(m.maxSeconds));
  else if (m.type === 'status') send({ type: 'status', ...status() });
});
const progress = setInterval(() => send({ type: 'progress', ...status() }), 2000);
progress.unref();
exitOnStop(() => {
  stopping = true;
  queue.length = 0;
  for (const ws of sockets) ws?.terminate();
});
send({ type: 'ready' });
