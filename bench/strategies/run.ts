/**
 * pick() cost of every built-in strategy at 10, 100 and 1,000 backends, in
 * nanoseconds per pick (median of runs), plus update() (table build) cost.
 *
 *   npm run build && tsc -p bench && node bench/dist/strategies/run.js [--runs 7] [--picks 200000]
 *
 * Backends are plain objects (the proxy's live views are getters over the
 * connection table, a few ns more per read). Loads are random and fixed during
 * a run, so least-connections and P2C compare real numbers; no connection is
 * opened, so this measures the decision alone.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import {
  HashStrategy,
  IpHashStrategy,
  LeastConnectionsStrategy,
  PowerOfTwoChoicesStrategy,
  RoundRobinStrategy,
  StickyCookieStrategy,
  WeightedRoundRobinStrategy,
  withAffinity,
  type BackendState,
  type BackendView,
  type PickContext,
  type Strategy,
} from '@switchboard/proxy';
import { fmt, median } from '../lib/stats';

const SIZES = [10, 100, 1000] as const;
/** Distinct clients cycled through, so hash lookups do not all hit one cache line. */
const CLIENTS = 4096;
const SECRET = 'bench-secret-bench-secret-bench!';

interface Args {
  runs: number;
  picks: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 7, picks: 200_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (argv[i] === '--runs' && Number.isInteger(value) && value > 0) args.runs = value;
    else if (argv[i] === '--picks' && Number.isInteger(value) && value > 0) args.picks = value;
    else throw new Error(`usage: run.js [--runs N] [--picks N], got ${argv[i]} ${argv[i + 1]}`);
  }
  return args;
}

interface BenchBackend extends BackendView {
  state: BackendState;
  activeConnections: number;
}

function backendsOf(count: number, random: () => number): BenchBackend[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `backend-${i}`,
    url: `http://10.0.${i >> 8}.${i & 255}:8080`,
    weight: 1 + (i % 3),
    state: 'up' as BackendState,
    activeConnections: Math.floor(random() * 100),
    maxConnections: Infinity,
  }));
}

function nextPrime(value: number): number {
  for (let candidate = value + 1; ; candidate++) {
    let prime = candidate > 1;
    for (let d = 2; d * d <= candidate; d++) {
      if (candidate % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) return candidate;
  }
}

/** A Maglev table above 100 x backends, as the Maglev paper (and our warning) asks. */
function maglevSize(count: number): number {
  return Math.max(65537, nextPrime(100 * count));
}

interface Case {
  readonly name: string;
  readonly create: (count: number) => Strategy;
  /** Contexts carry the cookie of this strategy when set (sticky-cookie hit path). */
  readonly cookieFor?: (strategy: Strategy, backends: readonly BackendView[], client: number) => string;
}

const CASES: readonly Case[] = [
  { name: 'round-robin', create: () => new RoundRobinStrategy() },
  { name: 'weighted-round-robin', create: () => new WeightedRoundRobinStrategy() },
  { name: 'least-connections', create: () => new LeastConnectionsStrategy() },
  { name: 'power-of-two-choices', create: () => new PowerOfTwoChoicesStrategy() },
  { name: 'ip-hash (maglev)', create: (n) => new IpHashStrategy({ hash: 'maglev', tableSize: maglevSize(n) }) },
  { name: 'ip-hash (ring)', create: () => new IpHashStrategy({ hash: 'ring' }) },
  {
    name: 'ip-hash (maglev, bounded load 1.25)',
    create: (n) => new IpHashStrategy({ hash: 'maglev', tableSize: maglevSize(n), boundedLoad: { factor: 1.25 } }),
  },
  { name: 'hash (header x-user-id, maglev)', create: (n) => new HashStrategy({ key: { header: 'x-user-id' }, tableSize: maglevSize(n) }) },
  {
    name: 'sticky-cookie (valid cookie)',
    create: () => new StickyCookieStrategy({ secret: SECRET }),
    cookieFor: (strategy, backends, client) =>
      `sb_affinity=${(strategy as StickyCookieStrategy).tokenFor(backends[client % backends.length].id)}`,
  },
  { name: 'withAffinity(least-connections) (hit)', create: () => withAffinity(new LeastConnectionsStrategy(), { ttl: 3_600_000, max: 100_000 }) },
];

function contextsFor(testCase: Case, strategy: Strategy, backends: readonly BackendView[]): PickContext[] {
  return Array.from({ length: CLIENTS }, (_, client) => {
    const req = new IncomingMessage(new Socket());
    req.url = `/rooms/${client % 97}`;
    req.headers = { 'x-user-id': `user-${client}` };
    if (testCase.cookieFor !== undefined) req.headers.cookie = `theme=dark; ${testCase.cookieFor(strategy, backends, client)}`;
    return { req, client: { address: `10.${(client >> 16) & 255}.${(client >> 8) & 255}.${client & 255}`, port: 40000 }, protocol: 'websocket' };
  });
}

/** Nanoseconds per pick over `picks` picks. The sink keeps the JIT from dropping the calls. */
function timePicks(strategy: Strategy, contexts: readonly PickContext[], candidates: readonly BackendView[], picks: number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < picks; i++) {
    const chosen = strategy.pick(contexts[i & (CLIENTS - 1)], candidates);
    sink += chosen === undefined ? 0 : chosen.weight;
  }
  const elapsed = Number(process.hrtime.bigint() - start);
  if (sink < 0) console.log(sink);
  return elapsed / picks;
}

function timeUpdate(strategy: Strategy, backends: readonly BackendView[]): number {
  // A fresh copy of each view: update() rebuilds only when membership changed.
  const copies = backends.map((b) => ({ ...b }));
  const start = process.hrtime.bigint();
  strategy.update?.(copies);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const pickRows: string[] = [];
  const updateRows: string[] = [];
  for (const testCase of CASES) {
    const pickCells: string[] = [];
    const updateCells: string[] = [];
    for (const count of SIZES) {
      const backends = backendsOf(count, seeded(count));
      const strategy = testCase.create(count);
      strategy.update?.(backends);
      const contexts = contextsFor(testCase, strategy, backends);
      // O(backends) strategies get fewer picks at 1,000 so a run stays under a second.
      const picks = Math.max(10_000, Math.floor(args.picks / Math.max(1, count / 100)));
      timePicks(strategy, contexts, backends, picks); // warm-up
      const runs = Array.from({ length: args.runs }, () => timePicks(strategy, contexts, backends, picks));
      pickCells.push(fmt(median(runs), 0));
      const builds = Array.from({ length: Math.min(args.runs, 5) }, () => timeUpdate(strategy, backends));
      updateCells.push(fmt(median(builds), 2));
    }
    pickRows.push(`| ${testCase.name} | ${pickCells.join(' | ')} |`);
    updateRows.push(`| ${testCase.name} | ${updateCells.join(' | ')} |`);
  }
  const header = `| strategy | ${SIZES.map((n) => `${n} backends`).join(' | ')} |\n|---|${SIZES.map(() => '---:').join('|')}|`;
  console.log(`### pick(): ns per pick (median of ${args.runs} runs)\n\n${header}\n${pickRows.join('\n')}\n`);
  console.log(`### update(): ms per table rebuild (median)\n\n${header}\n${updateRows.join('\n')}\n`);
  console.log(`Node ${process.version}, ${process.arch}; Maglev table: the first prime above max(65536, 100 x backends).`);
}

main();
