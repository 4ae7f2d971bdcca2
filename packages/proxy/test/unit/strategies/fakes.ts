import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { BackendState, BackendView, ConnectionProtocol, PickContext, Strategy } from '../../../src/strategies/strategy';

/**
 * A fake live backend: plain mutable fields satisfy the read-only view, and a
 * test changes `state` or `activeConnections` the way the proxy's getters would.
 */
export interface FakeBackend extends BackendView {
  weight: number;
  state: BackendState;
  activeConnections: number;
  maxConnections: number;
}

export function fakeBackend(id: string, fields: Partial<Omit<FakeBackend, 'id'>> = {}): FakeBackend {
  return {
    id,
    url: fields.url ?? `http://10.0.0.1:${9000 + (hashCode(id) % 1000)}`,
    weight: fields.weight ?? 1,
    state: fields.state ?? 'up',
    activeConnections: fields.activeConnections ?? 0,
    maxConnections: fields.maxConnections ?? Infinity,
  };
}

export function fakeBackends(count: number, prefix = 'backend-'): FakeBackend[] {
  return Array.from({ length: count }, (_, i) => fakeBackend(`${prefix}${i}`));
}

/** What the proxy passes to pick(): the backends that may take a connection, in configured order. */
export function candidatesOf(backends: readonly FakeBackend[]): FakeBackend[] {
  return backends.filter((b) => b.state === 'up' && b.activeConnections < b.maxConnections);
}

/** A pick context whose client address, URL and headers a test may change between picks. */
export interface FakeContext extends PickContext {
  readonly client: { address: string; port: number };
}

export function fakeContext(
  init: { address?: string; url?: string; headers?: Record<string, string>; protocol?: ConnectionProtocol; avoid?: readonly string[] } = {},
): FakeContext {
  const req = new IncomingMessage(new Socket());
  req.url = init.url ?? '/';
  req.headers = { ...init.headers };
  const context = { req, client: { address: init.address ?? '10.1.2.3', port: 50000 }, protocol: init.protocol ?? 'websocket' };
  return init.avoid === undefined ? context : { ...context, avoid: new Set(init.avoid) };
}

/** What the proxy passes on a retry: the candidates without the avoided backends. */
export function candidatesFor(backends: readonly FakeBackend[], context: PickContext): FakeBackend[] {
  return candidatesOf(backends).filter((b) => context.avoid?.has(b.id) !== true);
}

/**
 * Places a connection as the proxy does: pick among the candidates, count it
 * on the backend, tell the strategy. Returns the chosen backend.
 */
export function open(strategy: Strategy, backends: readonly FakeBackend[], context: PickContext): FakeBackend | undefined {
  const chosen = strategy.pick(context, candidatesOf(backends)) as FakeBackend | undefined;
  if (chosen === undefined) return undefined;
  chosen.activeConnections++;
  strategy.onConnectionOpen?.(chosen, context);
  return chosen;
}

export function close(strategy: Strategy, backend: FakeBackend): void {
  backend.activeConnections--;
  strategy.onConnectionClose?.(backend);
}

/** mulberry32: a small seeded PRNG, so simulations are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The i-th address of a /8 (10.x.y.z), for key sets of up to 16M distinct IPs. */
export function ipv4(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

/** The backend id each of `keys` client IPs (`ipv4(0)`, `ipv4(1)`, ...) lands on, after `strategy.update(backends)`. */
export function placements(strategy: Strategy, backends: FakeBackend[], keys: number): string[] {
  strategy.update?.(backends);
  const ctx = fakeContext();
  const candidates = candidatesOf(backends);
  const out = new Array<string>(keys);
  for (let k = 0; k < keys; k++) {
    ctx.client.address = ipv4(k);
    out[k] = strategy.pick(ctx, candidates)!.id;
  }
  return out;
}

/** How many times each id occurs. */
export function countBy(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** max/mean of a list of counts. */
export function maxOverMean(counts: Iterable<number>): number {
  const values = [...counts];
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return Math.max(...values) / mean;
}

function hashCode(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) >>> 0;
  return h;
}
