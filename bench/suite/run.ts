/**
 * bench/suite: the rows of issue 6 that bench/ws-echo does not cover, for direct, Switchboard,
 * http-proxy (keep-alive agent), nginx (1 worker) and HAProxy (1 thread), then the combined table (with the
 * ws-echo rows read from bench/results/ws-echo-latest.json), bench/results/suite-latest.md and docs/benchmarks.svg.
 *
 * Rows (each run: fresh backend, fresh proxy, fresh load generator, all stopped in `finally`;
 * configurations alternate within each round):
 *   stream     10 WebSockets, the backend streams 64 KiB messages to the client: MB/s (10^6 bytes of
 *              payload per second) and proxy CPU per MB
 *   http       undici Pool, 50 keep-alive connections, one GET in flight each, 13-byte body: req/s and
 *              proxy CPU per request
 *   conns      N idle WebSockets (5,000) opened with 50 handshakes in flight: proxy CPU per handshake
 *              (over the opening) and proxy RSS delta per connection (after 200 warm-up connections
 *              opened and closed, 2 s settle)
 *   conns-50k  the same with 50,000 connections (one round; source addresses rotated on both legs)
 *
 * Environment (all bounded): BENCH_SECONDS (3, 1..60), BENCH_WARMUP_SECONDS (1), BENCH_ROUNDS (3, 1..10),
 * BENCH_IDLE_CONNECTIONS (5000, 100..20000), BENCH_IDLE_LARGE (50000, 0 = skip, ..60000),
 * BENCH_SUITE_ROWS (stream,http,conns,conns-large), BENCH_CONFIGS (bench/ws-echo/configs.ts), BENCH_MAX_OTHER_CPU (15),
 * BENCH_RETRIES (2), BENCH_QUIET_WAIT (30), BENCH_INSTALL_NGINX / BENCH_INSTALL_HAPROXY (1: apt-get install a missing peer).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { canRaiseNofile, forkChild, hardNofile, stopChild, waitForMessage, type Child } from '../lib/children';
import type { Message } from '../lib/ipc';
import { cpuMicrosOf, machineBusyMicros, rssBytesOf } from '../lib/proc';
import { sleep, waitQuiet } from '../lib/quiet';
import { fmt, fmtInt, max, median, min } from '../lib/stats';
import { PEERS, configsFromEnv, peerVersions, peersForRun, type Peer } from '../ws-echo/configs';
import type { HttpLoadConfig, HttpLoadResult } from './http-load';
import type { StreamLoadConfig, StreamLoadResult } from './stream-load';
import type { ConnLoadConfig } from './conn-load';
import { ratioChart, type ChartRow } from './svg';
import { CONFIGS, DEFAULT_CONFIGS, LABEL, startTopology, type Config, type Topology, type TopologyOptions } from './topology';
import { envInt } from '../lib/env';
import { REPO, gitState, versionOf } from '../lib/repo';
import { runMain } from '../lib/main';

const RESULTS = resolve(__dirname, '../../results');

const seconds = envInt('BENCH_SECONDS', 3, 1, 60);
const warmup = envInt('BENCH_WARMUP_SECONDS', 1, 0, 30);
const rounds = envInt('BENCH_ROUNDS', 3, 1, 10);
const idleN = envInt('BENCH_IDLE_CONNECTIONS', 5000, 100, 20_000);
const idleLargeWanted = envInt('BENCH_IDLE_LARGE', 50_000, 0, 60_000);
const maxOtherCpu = envInt('BENCH_MAX_OTHER_CPU', 15, 0, 200);
const retries = envInt('BENCH_RETRIES', 2, 0, 10);
const quietWait = envInt('BENCH_QUIET_WAIT', 30, 0, 600);
const ROWS = ['stream', 'http', 'conns', 'conns-large'] as const;
type Row = (typeof ROWS)[number];
const rowsWanted = (process.env.BENCH_SUITE_ROWS ?? ROWS.join(',')).split(',').map((s) => s.trim()).filter((s): s is Row => (ROWS as readonly string[]).includes(s));
const configsWanted = configsFromEnv();
const STREAM_CONNECTIONS = 10;
const HTTP_CONNECTIONS = 50;
const HANDSHAKE_CONCURRENCY = 50;

/** One measurement of one row for one configuration. */
interface Sample {
  row: Row;
  config: Config;
  round: number;
  /** stream: MB/s; http: req/s; conns: connections opened per second. */
  rate: number;
  /** stream: proxy CPU µs per MB; http: per request; conns: per handshake. */
  cpuPerUnit: number;
  /** conns: proxy RSS delta per connection, bytes. */
  bytesPerConn: number;
  /** conns: RSS per connection of a further batch opened on top, both readings after a full GC (Node proxies), bytes. */
  marginalBytesPerConn?: number;
  proxyCpuPct: number;
  otherCpuPct: number;
  attempts: number;
  note?: string;
}

interface CpuWindow {
  end(): { wallUs: number; proxyUs: number; otherPct: number };
}

function cpuWindow(proxyPids: number[], ourPids: number[]): CpuWindow {
  const w0 = performance.now();
  const m0 = machineBusyMicros();
  const p0 = proxyPids.length > 0 ? cpuMicrosOf(proxyPids) : 0;
  const o0 = cpuMicrosOf(ourPids);
  return {
    end() {
      const p1 = proxyPids.length > 0 ? cpuMicrosOf(proxyPids) : 0;
      const o1 = cpuMicrosOf(ourPids);
      const m1 = machineBusyMicros();
      const wallUs = (performance.now() - w0) * 1000;
      const proxyUs = p0 === undefined || p1 === undefined ? Number.NaN : p1 - p0;
      const ours = (o0 === undefined || o1 === undefined ? Number.NaN : o1 - o0) + (proxyPids.length > 0 ? proxyUs : 0);
      const otherPct = m0 === undefined || m1 === undefined ? Number.NaN : (Math.max(0, m1 - m0 - ours) / wallUs) * 100;
      return { wallUs, proxyUs, otherPct };
    },
  };
}

type Binaries = Partial<Record<Peer, string>>;

async function measureStream(config: Config, round: number, binaries: Binaries): Promise<Sample> {
  const topo = await startTopology(config, binaries);
  let loadgen: Child | undefined;
  try {
    const cfg: StreamLoadConfig = { url: `ws://127.0.0.1:${topo.port}/stream`, connections: STREAM_CONNECTIONS, warmupMs: warmup * 1000, durationMs: seconds * 1000, maxBytes: 1e12 };
    loadgen = forkChild('stream-load', join(__dirname, 'stream-load.js'), [JSON.stringify(cfg)]);
    await waitForMessage(loadgen, 'connected', 20_000);
    const measuring = waitForMessage(loadgen, 'measuring', cfg.warmupMs + 10_000);
    const result = waitForMessage<StreamLoadResult>(loadgen, 'result', cfg.warmupMs + cfg.durationMs + 20_000);
    result.catch(() => undefined);
    loadgen.proc.send({ type: 'start' });
    await measuring;
    const win = cpuWindow(topo.proxyPids, [topo.backendPid, loadgen.pid]);
    const r = await result;
    const w = win.end();
    if (r.errors > 0 || r.closedEarly > 0) throw new Error(`${r.errors} client errors, ${r.closedEarly} closed early`);
    const mbps = r.bytes / 1e6 / r.seconds;
    const mb = r.bytes / 1e6;
    return { row: 'stream', config, round, rate: mbps, cpuPerUnit: w.proxyUs / mb, bytesPerConn: Number.NaN, proxyCpuPct: (w.proxyUs / w.wallUs) * 100, otherCpuPct: w.otherPct, attempts: 1 };
  } finally {
    await stopChild(loadgen);
    await topo.stop();
  }
}

async function measureHttp(config: Config, round: number, binaries: Binaries): Promise<Sample> {
  const topo = await startTopology(config, binaries);
  let loadgen: Child | undefined;
  try {
    const cfg: HttpLoadConfig = { origin: `http://127.0.0.1:${topo.port}`, connections: HTTP_CONNECTIONS, warmupMs: warmup * 1000, durationMs: seconds * 1000, maxRequests: 50_000_000 };
    loadgen = forkChild('http-load', join(__dirname, 'http-load.js'), [JSON.stringify(cfg)]);
    await waitForMessage(loadgen, 'connected', 20_000);
    const measuring = waitForMessage(loadgen, 'measuring', cfg.warmupMs + 10_000);
    const result = waitForMessage<HttpLoadResult>(loadgen, 'result', cfg.warmupMs + cfg.durationMs + 20_000);
    const closed = waitForMessage(loadgen, 'closed', cfg.warmupMs + cfg.durationMs + 25_000);
    result.catch(() => undefined);
    closed.catch(() => undefined);
    loadgen.proc.send({ type: 'start' });
    await measuring;
    const win = cpuWindow(topo.proxyPids, [topo.backendPid, loadgen.pid]);
    const r = await result;
    const w = win.end();
    await closed;
    if (r.errors > 0) throw new Error(`${r.errors} request errors (first: ${r.firstError})`);
    const rps = r.requests / r.seconds;
    return { row: 'http', config, round, rate: rps, cpuPerUnit: w.proxyUs / r.requests, bytesPerConn: Number.NaN, proxyCpuPct: (w.proxyUs / w.wallUs) * 100, otherCpuPct: w.otherPct, attempts: 1 };
  } finally {
    await stopChild(loadgen);
    await topo.stop();
  }
}

interface Opened extends Message {
  opened: number;
  failures: number;
  firstError: string;
  seconds: number;
  gaveUp: boolean;
}

function addrs(prefix: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}.${from + i}`);
}

async function measureConns(row: Row, config: Config, round: number, binaries: Binaries, n: number, nofile: number | undefined): Promise<Sample> {
  const large = n > 20_000;
  // The first batch, the marginal batch on top (n / 2, not for the large row) and some slack.
  const topoOpts: TopologyOptions = { maxConnections: n + (large ? 0 : Math.floor(n / 2)) + 200 };
  if (nofile !== undefined) topoOpts.nofile = nofile;
  // 4 source addresses per leg: 4 x ~28k ports > 50k on each leg.
  if (large) topoOpts.sourceAddresses = addrs('127.0.3', 2, 4);
  const topo = await startTopology(config, binaries, topoOpts);
  let loadgen: Child | undefined;
  try {
    const cfg: ConnLoadConfig = {
      url: `ws://127.0.0.1:${topo.port}/echo`,
      connections: n,
      concurrency: HANDSHAKE_CONCURRENCY,
      localAddresses: large ? addrs('127.0.2', 2, 4) : [],
      openTimeoutMs: large ? 240_000 : 60_000,
      handshakeTimeoutMs: 15_000,
    };
    loadgen = forkChild('conn-load', join(__dirname, 'conn-load.js'), [JSON.stringify(cfg)], ['--max-old-space-size=4096'], {}, nofile);
    await waitForMessage(loadgen, 'ready', 10_000);
    // Warm-up: 200 connections opened and closed, so JIT and lazy set-up are not in the delta.
    const warmCfg = { ...cfg, connections: 200, localAddresses: [] };
    const warm = forkChild('conn-warm', join(__dirname, 'conn-load.js'), [JSON.stringify(warmCfg)]);
    try {
      await waitForMessage(warm, 'ready', 10_000);
      const wOpened = waitForMessage<Opened>(warm, 'opened', 30_000);
      warm.proc.send({ type: 'open' });
      const wo = await wOpened;
      if (wo.failures > 0) throw new Error(`warm-up: ${wo.failures} failures (${wo.firstError})`);
      const wClosed = waitForMessage(warm, 'all-closed', 10_000);
      warm.proc.send({ type: 'close-all' });
      await wClosed;
    } finally {
      await stopChild(warm);
    }
    await sleep(1000);
    const rss0 = rssBytesOf(topo.proxyPids) ?? Number.NaN;
    const onProgress = (m: Message): void => {
      if (m?.type === 'progress') console.log(`  ${config}: ${fmtInt(Number(m.opened))} open after ${fmt(Number(m.seconds), 0)} s`);
    };
    loadgen.proc.on('message', onProgress);
    const opened = waitForMessage<Opened>(loadgen, 'opened', cfg.openTimeoutMs + 30_000);
    const win = cpuWindow(topo.proxyPids, [topo.backendPid, loadgen.pid]);
    loadgen.proc.send({ type: 'open' });
    const o = await opened;
    const w = win.end();
    loadgen.proc.removeListener('message', onProgress);
    await sleep(2000);
    const rss1 = rssBytesOf(topo.proxyPids) ?? Number.NaN;
    const note = o.failures > 0 || o.gaveUp ? `${fmtInt(o.opened)} of ${fmtInt(n)} opened, ${o.failures} failures${o.firstError !== '' ? ` (first: ${o.firstError})` : ''}` : undefined;
    if (o.opened === 0) throw new Error(note ?? 'no connection opened');
    const marginal = large ? undefined : await measureMarginal(topo, cfg, Math.floor(n / 2), nofile);
    const notes = [note, marginal?.note].filter((x): x is string => x !== undefined);
    const s: Sample = {
      row,
      config,
      round,
      rate: o.opened / o.seconds,
      cpuPerUnit: w.proxyUs / o.opened,
      bytesPerConn: (rss1 - rss0) / o.opened,
      proxyCpuPct: (w.proxyUs / w.wallUs) * 100,
      otherCpuPct: w.otherPct,
      attempts: 1,
    };
    if (marginal !== undefined) s.marginalBytesPerConn = marginal.bytesPerConn;
    if (notes.length > 0) s.note = notes.join('; ');
    return s;
  } finally {
    await stopChild(loadgen, 10_000);
    await topo.stop();
  }
}

/**
 * RSS per connection of `extra` more idle connections opened on top of those already open, with a full
 * garbage collection in a Node proxy before both readings. The plain RSS delta of the first batch also
 * holds what a Node process grows once, whatever the count (V8's young generation grows to its full
 * size under the handshake burst: ~16 MB), and whatever garbage is lying around at the reading; this
 * is the cost that scales with the number of connections.
 */
async function measureMarginal(topo: Topology, base: ConnLoadConfig, extra: number, nofile: number | undefined): Promise<{ bytesPerConn: number; note?: string } | undefined> {
  if (extra <= 0) return undefined;
  const more = forkChild('conn-more', join(__dirname, 'conn-load.js'), [JSON.stringify({ ...base, connections: extra })], [], {}, nofile);
  try {
    await waitForMessage(more, 'ready', 10_000);
    await topo.collectGarbage();
    const before = rssBytesOf(topo.proxyPids) ?? Number.NaN;
    const opened = waitForMessage<Opened>(more, 'opened', base.openTimeoutMs + 30_000);
    more.proc.send({ type: 'open' });
    const o = await opened;
    if (o.opened === 0) return undefined;
    await sleep(2000);
    await topo.collectGarbage();
    const after = rssBytesOf(topo.proxyPids) ?? Number.NaN;
    const bytesPerConn = (after - before) / o.opened;
    // The figure is per connection actually opened; say when that was fewer than asked.
    if (o.failures === 0 && !o.gaveUp) return { bytesPerConn };
    return { bytesPerConn, note: `marginal batch: ${fmtInt(o.opened)} of ${fmtInt(extra)} opened, ${o.failures} failures${o.firstError !== '' ? ` (first: ${o.firstError})` : ''}` };
  } finally {
    await stopChild(more, 10_000);
  }
}

// ---------------------------------------------------------------- report

interface EchoRun {
  config: Config;
  round: number;
  msgsPerSec: number;
  proxyCpuUsPerRt: number;
  /** JS event-loop utilization of a Node proxy, % (absent in files written before it was measured). */
  eluPct?: number;
}
interface EchoJson {
  finishedAt: string;
  seconds: number;
  rounds: number;
  connections: number;
  messageBytes: number;
  results: EchoRun[];
}

type Kind = 'higher' | 'lower';
interface TableRow {
  work: string;
  kind: Kind;
  unit: (x: number) => string;
  values: Partial<Record<Config, number[]>>;
  /** Rows without a peer to compare with (event-loop utilization) stay out of the ratio chart. */
  noChart?: boolean;
}

function cell(xs: number[] | undefined, f: (x: number) => string): string {
  if (xs === undefined || xs.length === 0) return '-';
  if (xs.length === 1) return f(xs[0]!);
  return `${f(median(xs))} (${f(min(xs))}-${f(max(xs))})`;
}

/** Switchboard vs peer, oriented so > 1 means Switchboard is better. */
function better(row: TableRow, peer: Config): number {
  const s = row.values.switchboard;
  const p = row.values[peer];
  if (s === undefined || p === undefined || s.length === 0 || p.length === 0) return Number.NaN;
  return row.kind === 'higher' ? median(s) / median(p) : median(p) / median(s);
}

function buildRows(samples: Sample[], echo: EchoJson | undefined, largeN: number): TableRow[] {
  const pick = (row: Row, f: (s: Sample) => number): Partial<Record<Config, number[]>> => {
    const out: Partial<Record<Config, number[]>> = {};
    for (const c of CONFIGS) {
      const xs = samples.filter((s) => s.row === row && s.config === c).map(f).filter((x) => Number.isFinite(x));
      if (xs.length > 0) out[c] = xs;
    }
    return out;
  };
  const rows: TableRow[] = [];
  if (echo !== undefined) {
    const ev = (f: (r: EchoRun) => number, proxiesOnly: boolean): Partial<Record<Config, number[]>> => {
      const out: Partial<Record<Config, number[]>> = {};
      for (const c of CONFIGS) {
        if (proxiesOnly && c === 'direct') continue;
        const xs = echo.results.filter((r) => r.config === c).map(f).filter((x) => Number.isFinite(x));
        if (xs.length > 0) out[c] = xs;
      }
      return out;
    };
    rows.push({ work: `WS ping-pong, ${echo.connections} conns, ${echo.messageBytes} B: msg/s`, kind: 'higher', unit: fmtInt, values: ev((r) => r.msgsPerSec, false) });
    rows.push({ work: 'proxy CPU per WS round trip (µs)', kind: 'lower', unit: (x) => fmt(x, 1), values: ev((r) => r.proxyCpuUsPerRt, true) });
    const elu = ev((r) => r.eluPct ?? Number.NaN, true);
    if (Object.keys(elu).length > 0) rows.push({ work: 'Switchboard event loop utilization during ping-pong (%)', kind: 'lower', unit: (x) => fmt(x, 1), values: elu, noChart: true });
  }
  const noDirect = (v: Partial<Record<Config, number[]>>): Partial<Record<Config, number[]>> => {
    const { direct: _d, ...rest } = v;
    void _d;
    return rest;
  };
  rows.push({ work: `WS streaming 64 KiB messages, ${STREAM_CONNECTIONS} conns: MB/s`, kind: 'higher', unit: (x) => fmt(x, 0), values: pick('stream', (s) => s.rate) });
  rows.push({ work: 'proxy CPU per streamed MB (µs)', kind: 'lower', unit: (x) => fmt(x, 0), values: noDirect(pick('stream', (s) => s.cpuPerUnit)) });
  rows.push({ work: `HTTP keep-alive, ${HTTP_CONNECTIONS} conns: req/s`, kind: 'higher', unit: fmtInt, values: pick('http', (s) => s.rate) });
  rows.push({ work: 'proxy CPU per HTTP request (µs)', kind: 'lower', unit: (x) => fmt(x, 1), values: noDirect(pick('http', (s) => s.cpuPerUnit)) });
  rows.push({ work: `idle WS: proxy memory per connection, ${fmtInt(idleN)} conns (KB)`, kind: 'lower', unit: (x) => fmt(x / 1024, 1), values: noDirect(pick('conns', (s) => s.bytesPerConn)) });
  rows.push({
    work: `idle WS: marginal proxy memory per connection, ${fmtInt(Math.floor(idleN / 2))} more on top, after a full GC (KB)`,
    kind: 'lower',
    unit: (x) => fmt(x / 1024, 1),
    values: noDirect(pick('conns', (s) => s.marginalBytesPerConn ?? Number.NaN)),
  });
  if (largeN > 0) rows.push({ work: `idle WS: proxy memory per connection, ${fmtInt(largeN)} conns (KB)`, kind: 'lower', unit: (x) => fmt(x / 1024, 1), values: noDirect(pick('conns-large', (s) => s.bytesPerConn)) });
  rows.push({ work: `proxy CPU per WS handshake, ${fmtInt(idleN)} opened ${HANDSHAKE_CONCURRENCY} at a time (µs)`, kind: 'lower', unit: (x) => fmt(x, 0), values: noDirect(pick('conns', (s) => s.cpuPerUnit)) });
  if (largeN > 0) rows.push({ work: `proxy CPU per WS handshake, ${fmtInt(largeN)} opened (µs)`, kind: 'lower', unit: (x) => fmt(x, 0), values: noDirect(pick('conns-large', (s) => s.cpuPerUnit)) });
  return rows;
}

interface Verdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function verdicts(rows: TableRow[]): Verdict[] {
  const find = (prefix: string): TableRow | undefined => rows.find((r) => r.work.startsWith(prefix));
  const med = (r: TableRow | undefined, c: Config): number => (r?.values[c] === undefined ? Number.NaN : median(r.values[c]!));
  const out: Verdict[] = [];
  // `known`: every number the verdict rests on was measured (a NaN comparison would read as "not met").
  const add = (target: string, measured: string, ok: boolean, ...used: number[]): void => {
    out.push({ target, measured, met: used.every((x) => Number.isFinite(x)) ? ok : undefined });
  };
  const echo = find('WS ping-pong');
  const rt = find('proxy CPU per WS round trip');
  if (echo !== undefined) {
    const vsN = med(echo, 'switchboard') / med(echo, 'nginx');
    const vsH = med(echo, 'switchboard') / med(echo, 'http-proxy');
    add('WS ping-pong msg/s >= nginx', `${fmt(vsN, 2)} x nginx`, vsN >= 1, vsN);
    add('WS ping-pong msg/s >= 1.15 x http-proxy', `${fmt(vsH, 2)} x http-proxy`, vsH >= 1.15, vsH);
  }
  if (rt !== undefined) add('proxy CPU per WS round trip <= nginx', `${fmt(med(rt, 'switchboard'), 1)} µs vs nginx ${fmt(med(rt, 'nginx'), 1)} µs`, med(rt, 'switchboard') <= med(rt, 'nginx'), med(rt, 'switchboard'), med(rt, 'nginx'));
  const elu = find('Switchboard event loop utilization');
  if (elu !== undefined) add('event loop utilization during ping-pong < 5% (issue 11)', `${fmt(med(elu, 'switchboard'), 1)}%`, med(elu, 'switchboard') < 5, med(elu, 'switchboard'));
  const st = find('WS streaming');
  if (st !== undefined) {
    const s = med(st, 'switchboard');
    const ha = med(st, 'haproxy');
    if (Number.isFinite(ha)) {
      add('WS streaming MB/s >= HAProxy', `${fmt(s, 0)} MB/s vs HAProxy ${fmt(ha, 0)} (http-proxy ${fmt(med(st, 'http-proxy'), 0)}, nginx ${fmt(med(st, 'nginx'), 0)})`, s >= ha, s, ha);
    } else {
      const ref = 1.04 * med(st, 'http-proxy');
      add('WS streaming MB/s >= HAProxy (not run here; stand-in: 1.04 x http-proxy, HAProxy/http-proxy in the issue table)', `${fmt(s, 0)} MB/s vs ${fmt(ref, 0)} (http-proxy ${fmt(med(st, 'http-proxy'), 0)}, nginx ${fmt(med(st, 'nginx'), 0)})`, s >= ref, s, ref);
    }
  }
  const stc = find('proxy CPU per streamed MB');
  if (stc !== undefined) add('proxy CPU per streamed MB < HAProxy (issue 11)', `${fmt(med(stc, 'switchboard'), 0)} µs vs HAProxy ${fmt(med(stc, 'haproxy'), 0)} µs`, med(stc, 'switchboard') < med(stc, 'haproxy'), med(stc, 'switchboard'), med(stc, 'haproxy'));
  const h = find('HTTP keep-alive');
  const hc = find('proxy CPU per HTTP request');
  if (h !== undefined) {
    const vsH = med(h, 'switchboard') / med(h, 'http-proxy');
    const vsN = med(h, 'switchboard') / med(h, 'nginx');
    add('HTTP req/s >= 2 x http-proxy (keep-alive agent)', `${fmt(vsH, 2)} x http-proxy`, vsH >= 2, vsH);
    add('HTTP req/s >= 0.8 x nginx', `${fmt(vsN, 2)} x nginx`, vsN >= 0.8, vsN);
  }
  if (hc !== undefined) add('proxy CPU per HTTP request <= 30 µs', `${fmt(med(hc, 'switchboard'), 1)} µs`, med(hc, 'switchboard') <= 30, med(hc, 'switchboard'));
  for (const r of rows.filter((x) => x.work.startsWith('idle WS: proxy memory'))) {
    const kb = med(r, 'switchboard') / 1024;
    const at = r.work.replace(/^idle WS: proxy memory per connection, /, '').replace(/ \(KB\)$/, '');
    add(`idle WS memory <= 5 KB per connection (${at})`, `${fmt(kb, 1)} KB`, kb <= 5, kb);
    const ha = med(r, 'haproxy') / 1024;
    add(`idle WS memory <= HAProxy's (${at}; issue 11)`, `${fmt(kb, 1)} KB vs HAProxy ${fmt(ha, 1)} KB`, kb <= ha, kb, ha);
  }
  const marginal = find('idle WS: marginal');
  if (marginal !== undefined) {
    const kb = med(marginal, 'switchboard') / 1024;
    add('idle WS memory <= 5 KB per connection, marginal (a further batch, after a full GC; not the issue\'s plain RSS delta)', `${fmt(kb, 1)} KB`, kb <= 5, kb);
  }
  for (const r of rows.filter((x) => x.work.startsWith('proxy CPU per WS handshake'))) {
    const us = med(r, 'switchboard');
    add(`proxy CPU per WS handshake <= 100 µs (${fmtInt(r.work.includes('50,000') ? 50_000 : idleN)} conns)`, `${fmt(us, 0)} µs`, us <= 100, us);
  }
  return out;
}

/** The peers each row compares Switchboard with, in column order. */
const RATIO_PEERS: readonly Config[] = ['http-proxy', ...PEERS];
const BAR_COLOR: Partial<Record<Config, string>> = { 'http-proxy': '#4878b0', nginx: '#e08a2c', haproxy: '#3a9a5b' };

/** The default configurations always get a column (a '-' when skipped); others only when measured. */
function columns(rows: TableRow[]): Config[] {
  return CONFIGS.filter((c) => DEFAULT_CONFIGS.includes(c) || rows.some((r) => (r.values[c]?.length ?? 0) > 0));
}

function markdownTable(rows: TableRow[]): string {
  const cols = columns(rows);
  const lines = [
    `| work | ${cols.map((c) => LABEL[c]).join(' | ')} | ${RATIO_PEERS.map((p) => `Switchboard vs ${SHORT[p]}`).join(' | ')} |`,
    `|---|${cols.map(() => '---:|').join('')}${RATIO_PEERS.map(() => '---:|').join('')}`,
  ];
  for (const r of rows) {
    const ratio = (peer: Config): string => {
      const v = better(r, peer);
      return Number.isFinite(v) ? fmt(v, 2) : '-';
    };
    lines.push(`| ${r.work} | ${cols.map((c) => cell(r.values[c], r.unit)).join(' | ')} | ${RATIO_PEERS.map(ratio).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The table as data for suite-latest.json: medians per configuration and the Switchboard-vs-peer ratios. */
function tableJson(rows: TableRow[]): object[] {
  return rows.map((r) => ({
    work: r.work,
    kind: r.kind,
    medians: Object.fromEntries(Object.entries(r.values).map(([c, xs]) => [c, median(xs)])),
    ratios: Object.fromEntries(RATIO_PEERS.map((p) => [`switchboard vs ${p}`, better(r, p)]).filter(([, v]) => Number.isFinite(v as number))),
  }));
}

const SHORT: Partial<Record<Config, string>> = { 'http-proxy': 'http-proxy', nginx: 'nginx', haproxy: 'HAProxy' };

function chart(rows: TableRow[], when: string): string {
  const target = (r: TableRow): number | undefined => {
    if (r.work.startsWith('HTTP keep-alive')) return 2;
    if (r.work.startsWith('WS ping-pong')) return 1.15;
    return undefined;
  };
  const data: ChartRow[] = rows
    .filter((r) => r.noChart !== true)
    .map((r) => {
      const c: ChartRow = {
        label: r.work.replace(/ \(µs\)$/, '').replace(/ \(KB\)$/, ''),
        bars: RATIO_PEERS.map((p) => ({ name: `Switchboard vs ${LABEL[p]}`, value: better(r, p), color: BAR_COLOR[p] ?? '#888' })),
      };
      const t = target(r);
      if (t !== undefined) c.target = t;
      return c;
    });
  return ratioChart(
    'Switchboard relative to its peers (> 1.00: Switchboard better)',
    `Throughput rows: Switchboard / peer; cost rows (CPU, memory): peer / Switchboard. Medians, npm run bench, ${when}.`,
    data,
  );
}

// ---------------------------------------------------------------- main

async function withRetries(label: string, fn: () => Promise<Sample>, notes: string[], retryNoise: boolean): Promise<Sample> {
  await waitQuiet(maxOtherCpu, quietWait);
  let s = await fn();
  for (let attempt = 2; retryNoise && attempt <= retries + 1 && s.otherCpuPct > maxOtherCpu; attempt++) {
    console.log(`${label}: other processes used ${fmt(s.otherCpuPct, 0)}% of a core; repeating`);
    await waitQuiet(maxOtherCpu, quietWait);
    s = { ...(await fn()), attempts: attempt };
  }
  if (s.otherCpuPct > maxOtherCpu) notes.push(`${label}: other processes used ${fmt(s.otherCpuPct, 0)}% of a core during the kept attempt (${s.attempts})`);
  return s;
}

function describe(s: Sample): string {
  switch (s.row) {
    case 'stream':
      return `${fmt(s.rate, 0)} MB/s` + (s.config === 'direct' ? '' : `  proxy ${fmt(s.cpuPerUnit, 0)} µs CPU/MB (${fmt(s.proxyCpuPct, 0)}% core)`);
    case 'http':
      return `${fmtInt(s.rate)} req/s` + (s.config === 'direct' ? '' : `  proxy ${fmt(s.cpuPerUnit, 1)} µs CPU/req (${fmt(s.proxyCpuPct, 0)}% core)`);
    default:
      const marginal = s.marginalBytesPerConn === undefined ? '' : ` (${fmt(s.marginalBytesPerConn / 1024, 2)} KB marginal)`;
      return `${fmtInt(s.rate)} conn/s  proxy ${fmt(s.cpuPerUnit, 0)} µs CPU/handshake, ${fmt(s.bytesPerConn / 1024, 2)} KB RSS/conn${marginal}${s.note !== undefined ? `  [${s.note}]` : ''}`;
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const notes: string[] = [];
  const { configs, binaries, versions } = peersForRun(configsWanted, notes);
  const proxies = configs.filter((c) => c !== 'direct');
  // Descriptors: 5,000 idle connections need ~10k in the proxy; 50,000 need ~100k.
  const bigNofile = 200_000;
  // The first batch and the marginal batch on top (idleN / 2) on both legs.
  let nofileSmall: number | undefined = 3 * idleN + 1000;
  if (!canRaiseNofile(nofileSmall)) {
    notes.push(`ulimit -n ${nofileSmall} refused; idle rows run with the inherited limit`);
    nofileSmall = undefined;
  }
  let largeN = idleLargeWanted;
  if (largeN > 0 && !rowsWanted.includes('conns-large')) largeN = 0;
  if (largeN > 0 && !canRaiseNofile(bigNofile)) {
    notes.push(`${fmtInt(largeN)}-connection row skipped for every peer: it needs ~${fmtInt(2 * largeN)} descriptors in the proxy process (nginx's worker too), and ulimit -n ${bigNofile} is refused here (hard nofile limit ${hardNofile() ?? '?'}; raising it needs CAP_SYS_RESOURCE)`);
    largeN = 0;
  }
  console.log(`suite: ${configs.join(', ')}; rows ${rowsWanted.join(', ')}; ${rounds} round(s), ${seconds} s windows (+${warmup} s warm-up); idle ${idleN}${largeN > 0 ? ` and ${largeN}` : ''} connections`);
  const samples: Sample[] = [];
  let failures = 0;
  const attempt = async (label: string, fn: () => Promise<Sample>, retryNoise: boolean): Promise<void> => {
    try {
      const s = await withRetries(label, fn, notes, retryNoise);
      samples.push(s);
      console.log(`${label.padEnd(32)} ${describe(s)}  [other ${fmt(s.otherCpuPct, 0)}%]`);
      if (s.note !== undefined) notes.push(`${label}: ${s.note}`);
    } catch (err) {
      failures += 1;
      const msg = `${label} failed: ${(err as Error).message}`;
      console.error(msg);
      notes.push(msg);
    }
    await sleep(300);
  };
  for (let round = 1; round <= rounds; round++) {
    if (rowsWanted.includes('stream')) for (const c of configs) await attempt(`round ${round} stream ${c}`, () => measureStream(c, round, binaries), true);
    if (rowsWanted.includes('http')) for (const c of configs) await attempt(`round ${round} http ${c}`, () => measureHttp(c, round, binaries), true);
    if (rowsWanted.includes('conns')) for (const c of proxies) await attempt(`round ${round} conns ${c}`, () => measureConns('conns', c, round, binaries, idleN, nofileSmall), false);
  }
  if (largeN > 0) for (const c of proxies) await attempt(`conns-${largeN} ${c}`, () => measureConns('conns-large', c, 1, binaries, largeN, bigNofile), false);

  const echoFile = join(RESULTS, 'ws-echo-latest.json');
  let echo: EchoJson | undefined;
  if (existsSync(echoFile)) {
    echo = JSON.parse(readFileSync(echoFile, 'utf8')) as EchoJson;
    const ageMin = (Date.now() - Date.parse(echo.finishedAt)) / 60_000;
    if (ageMin > 60) notes.push(`the WS ping-pong rows come from bench/results/ws-echo-latest.json of ${echo.finishedAt} (${fmt(ageMin, 0)} min before this run)`);
  } else notes.push('no bench/results/ws-echo-latest.json: run bench/ws-echo first for the ping-pong rows');

  const rows = buildRows(samples, echo, largeN);
  const when = new Date().toISOString();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const vs = verdicts(rows);
  const md = [
    '# Benchmark suite (latest run)',
    '',
    `Reproduce: \`npm run bench\` (BENCH_SECONDS=${seconds}, BENCH_ROUNDS=${rounds}, BENCH_IDLE_CONNECTIONS=${idleN}, BENCH_IDLE_LARGE=${largeN}); the suite part took ${fmt((Date.now() - started) / 1000, 0)} s.`,
    '',
    `Machine: ${cpus().length} x ${cpu}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}, ws ${versionOf('ws')}, undici ${versionOf('undici')}, http-proxy ${versionOf('http-proxy')}, ${peerVersions(versions)}; Switchboard at ${gitState()}; ${when}.`,
    '',
    'Cells: median (min-max) over the rounds; one value when there was one run. Ratios: medians, oriented so that > 1 means Switchboard is better ' +
      '(throughput: Switchboard / peer; CPU and memory: peer / Switchboard). MB = 10^6 bytes of WebSocket payload; KB = 1024 bytes.',
    '',
    markdownTable(rows),
    '',
    '## Targets (issue 6; issue 11 where marked)',
    '',
    '| target | measured | status |',
    '|---|---|---|',
    ...vs.map((v) => `| ${v.target} | ${v.measured} | ${v.met === undefined ? '-' : v.met ? '**met**' : '**not met**'} |`),
    ...(notes.length > 0 ? ['', ...notes.map((n) => `- Note: ${n}`)] : []),
    '',
    '## Every run',
    '',
    '| row | round | configuration | result | other processes | attempts |',
    '|---|---:|---|---|---:|---:|',
    ...samples.map((s) => `| ${s.row} | ${s.round} | ${LABEL[s.config]} | ${describe(s)} | ${fmt(s.otherCpuPct, 0)}% | ${s.attempts} |`),
    '',
  ].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'suite-latest.md'), md);
  writeFileSync(join(RESULTS, 'suite-latest.json'), `${JSON.stringify({ finishedAt: when, seconds, rounds, idleN, largeN, versions, table: tableJson(rows), samples, notes }, null, 1)}\n`);
  const svgPath = join(REPO, 'docs', 'benchmarks.svg');
  writeFileSync(svgPath, chart(rows, when.slice(0, 10)));
  console.log(`\n${md}\nwritten: bench/results/suite-latest.md, bench/results/suite-latest.json, docs/benchmarks.svg`);
  return failures > 0 ? 1 : 0;
}

runMain(main);
