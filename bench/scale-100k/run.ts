/**
 * bench/scale-100k (`npm run bench:100k`, not part of `npm run bench`): 100,000 concurrent WebSockets through
 * one Switchboard port on this machine, every one echo-checked, then all of them closed with 1012 and
 * reconnected, then echo-checked again.
 *
 * No process here may hold more than 20,000 descriptors (hard `nofile`), so the run spreads every side over
 * processes (plan.ts): Switchboard's own workers (`switchboard --workers N`, one listening port), echo
 * backends (bench/suite/backend.js), load generators (client.ts) on their own 127.0.x.y source addresses;
 * the proxy reaches the backends from `sourceAddresses` 127.0.1.x. Nothing system-wide is changed.
 *
 * Reported: RSS summed over the proxy's processes (primary + workers) at start, with everything open and
 * after the drain, per connection; descriptors per worker; time to open; time for the drain (rolling
 * restart, or backend drains through the admin API) until every client is back; failures by kind;
 * responsiveness (an HTTP GET through the proxy on a fresh connection every second).
 *
 * Environment: BENCH_100K_CONNECTIONS (100000, 1000..200000), BENCH_100K_WORKERS (computed; 0 = no
 * --workers flag), BENCH_100K_DRAIN (backends: blue/green switch, the default | restart: rolling restart), BENCH_100K_DATA_PLANE (auto | js | native),
 * BENCH_100K_CONCURRENCY (handshakes in flight per load generator, 400 / load generators), BENCH_100K_DEADLINE
 * (1800 s; a hard kill timer fires 120 s after it), BENCH_100K_PROXY_FLAGS (extra node flags for the proxy's processes).
 */
import { loadavg as loadavgNow } from 'node:os';
import { performance } from 'node:perf_hooks';
import { stopChild, hardNofile, type Child } from '../lib/children';
import { envInt } from '../lib/env';
import { runMain } from '../lib/main';
import { killAllSync } from '../lib/children';
import { cpuMicros, machineBusyMicros, rssBytes } from '../lib/proc';
import { sleep } from '../lib/quiet';
import { fmt, fmtInt } from '../lib/stats';
import type { ScaleClientConfig, Verified } from './client';
import { LoadGenerators, describeFailures, failureCount, addUp } from './clients';
import { rollingRestart, switchBackends, type DrainResult } from './drain';
import { startBackends, startProxyFleet, type ProcSample, type ProxyFleet } from './fleet';
import { describePlan, makePlan } from './plan';
import { probe, readKernel, writeReport, type Probe, type Sample } from './report';

const total = envInt('BENCH_100K_CONNECTIONS', 100_000, 1000, 200_000);
const deadlineS = envInt('BENCH_100K_DEADLINE', 1800, 30, 3600);
const workersEnv = process.env.BENCH_100K_WORKERS;
const drainEnv = process.env.BENCH_100K_DRAIN ?? 'backends';
const dataPlane = process.env.BENCH_100K_DATA_PLANE ?? 'auto';
if (drainEnv !== 'restart' && drainEnv !== 'backends') throw new Error(`BENCH_100K_DRAIN=${drainEnv}: expected restart or backends`);
if (dataPlane !== 'auto' && dataPlane !== 'js' && dataPlane !== 'native') throw new Error(`BENCH_100K_DATA_PLANE=${dataPlane}: expected auto, js or native`);
const drainMethod: 'restart' | 'backends' = drainEnv;
const nofile = Math.min(hardNofile() ?? 1024, 1_000_000);
const plan = makePlan({ connections: total, nofile, drain: drainMethod, ...(workersEnv !== undefined && workersEnv !== '' && { workers: envInt('BENCH_100K_WORKERS', 1, 0, 64) }) });
// Handshakes in flight per load generator: 400 in all by default, under the 511 backlog the CLI listens with
// (Node's default), so a burst waits in the accept queue instead of losing SYNs to 1 s retransmits.
const concurrency = envInt('BENCH_100K_CONCURRENCY', Math.max(16, Math.floor(400 / plan.clients)), 1, 2000);
const NODE_FLAGS = ['--max-old-space-size=4096'];
/** Extra node flags for the proxy's processes only (diagnostics: `--cpu-prof --cpu-prof-dir=/tmp/p`). */
const PROXY_FLAGS = (process.env.BENCH_100K_PROXY_FLAGS ?? '').split(' ').filter((x) => x !== '');

function cpuByRole(roles: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(roles).map(([k, pids]) => [k, pids.reduce((a, pid) => a + (cpuMicros(pid) ?? 0), 0)]));
}

const sum = (ps: readonly ProcSample[], f: (p: ProcSample) => number): number => ps.reduce((a, p) => a + f(p), 0);

async function main(): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + deadlineS * 1000;
  const left = (reserveS = 0): number => Math.max(1000, deadline - Date.now() - reserveS * 1000);
  const log: string[] = [];
  const say = (s: string): void => {
    const line = `[${fmt((performance.now() - started) / 1000, 0)} s] ${s}`;
    console.log(line);
    log.push(line);
  };
  const kernel = readKernel();
  say(`kernel: ${JSON.stringify(kernel)}`);
  say(`plan: ${describePlan(plan)}`);
  if (drainMethod === 'restart' && plan.workers === 0) throw new Error('BENCH_100K_DRAIN=restart needs workers (BENCH_100K_WORKERS > 0)');

  const result: Record<string, string> = {};
  const loadavg = (): string => loadavgNow().map((x) => fmt(x, 1)).join(' / ');
  result.loadAverageAtStart = `${loadavg()} (1 / 5 / 15 min, the whole machine: other agents' jobs included)`;
  const probes: Probe[] = [];
  const samples: Sample[] = [];
  const children: Child[] = [];
  let fleet: ProxyFleet | undefined;
  let clients: LoadGenerators | undefined;
  let stage = 'start';
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  let drain: DrainResult | undefined;
  try {
    stage = 'backends';
    const backends = await startBackends(plan.backends + plan.standbyBackends, nofile);
    children.push(...backends.children);
    const serving = backends.urls.slice(0, plan.backends);
    const standby = backends.urls.slice(plan.backends);
    stage = 'proxy';
    const fleetOptions = { workers: plan.workers, backends: serving, sourceAddresses: plan.sourceAddresses, dataPlane: dataPlane as 'auto', nofile, execArgv: [...NODE_FLAGS, ...PROXY_FLAGS] };
    // The cluster gives every worker 15 s to listen, all forked at once; on 2 busy cores that can run out. One more try.
    fleet = await startProxyFleet(fleetOptions).catch((err: Error) => {
      say(`switchboard did not start (${err.message}); trying once more`);
      result.proxyStartRetried = err.message;
      return startProxyFleet(fleetOptions);
    });
    const f = fleet;
    children.push(f.child);
    if (!(await probe(f.port)).ok) throw new Error('probe through the proxy failed before the run');
    await sleep(1500);
    const base = f.sample();
    result.proxyProcesses = `${base.length} (primary + ${base.length - 1} workers)`;
    result.rssStartMiB = fmt(sum(base, (p) => p.rss) / 2 ** 20, 1);
    say(`switchboard on :${f.port} (admin :${f.adminPort}), ${base.length} processes, RSS ${result.rssStartMiB} MiB in all; backends ${serving.map((u) => u.split(':').at(-1)).join(', ')}${standby.length > 0 ? `, standby ${standby.map((u) => u.split(':').at(-1)).join(', ')}` : ''}`);

    stage = 'clients';
    const configs: ScaleClientConfig[] = plan.clientAddresses.map((localAddresses, id) => ({
      id,
      url: `ws://127.0.0.1:${f.port}/echo`,
      connections: Math.min(plan.perClient, total - id * plan.perClient),
      concurrency,
      localAddresses,
      handshakeTimeoutMs: 30_000,
      echoTimeoutMs: 30_000,
      maxAttempts: 5,
    }));
    clients = await LoadGenerators.start(configs, nofile, NODE_FLAGS);
    children.push(...clients.children);
    const lgs = clients;

    sampler = (async () => {
      for (let i = 0; sampling && i < deadlineS + 120; i++) {
        const p = await probe(f.port);
        probes.push(p);
        const procs = f.sample(i % 2 === 0);
        const others = children.filter((c) => c !== f.child).map((c) => rssBytes(c.pid) ?? 0);
        samples.push({ s: (performance.now() - started) / 1000, rss: sum(procs, (x) => x.rss), otherRss: others.reduce((a, b) => a + b, 0), maxFds: i % 2 === 0 ? Math.max(...procs.map((x) => x.fds)) : (samples.at(-1)?.maxFds ?? -1), procs: procs.length, live: lgs.lastTotal().live, stage });
        await sleep(Math.max(0, 1000 - p.ms));
      }
    })();

    stage = 'opening';
    const roles = (): Record<string, number[]> => ({
      primary: [f.child.pid],
      workers: f.workerPids(),
      backends: backends.children.map((c) => c.pid),
      clients: lgs.children.map((c) => c.pid),
    });
    const cpu0 = cpuByRole(roles());
    const machine0 = machineBusyMicros()!;
    const t0 = Date.now();
    const progress = setInterval(() => {
      const t = lgs.lastTotal();
      const last = samples.at(-1);
      say(`opening: ${fmtInt(t.live)} live, ${failureCount(t)} failures; proxy RSS ${fmt((last?.rss ?? Number.NaN) / 2 ** 20, 0)} MiB, max fds per process ${last?.maxFds ?? '?'}; last probe ${fmt(probes.at(-1)?.ms ?? Number.NaN, 0)} ms`);
    }, 10_000);
    let opened;
    try {
      opened = addUp(await lgs.ask({ type: 'open' }, 'opened', left(90)));
    } finally {
      clearInterval(progress);
    }
    const openS = (Date.now() - t0) / 1000;
    const cpu1 = cpuByRole(roles());
    result.cpuPerOpen = Object.keys(cpu1).map((k) => `${k} ${fmt((cpu1[k]! - cpu0[k]!) / opened.live, 0)}`).join(', ') + ' µs per connection opened';
    say(`CPU: ${result.cpuPerOpen}; machine busy ${fmt((machineBusyMicros()! - machine0) / (openS * 1e6) * 100, 0)}% of one core over the opening (all processes, ours and others)`);
    result.opened = `${fmtInt(opened.live)} of ${fmtInt(total)} live and echo-checked`;
    result.openSeconds = `${fmt(openS, 1)} s (${fmtInt(opened.live / openS)}/s)`;
    result.openFailures = describeFailures(opened);
    say(`opened ${result.opened} in ${result.openSeconds}; failures: ${result.openFailures}`);

    stage = 'holding';
    await sleep(3000);
    const held = f.sample();
    const rssHeld = sum(held, (p) => p.rss);
    const workers = held.filter((p) => p.role === 'worker');
    result.rssOpenMiB = fmt(rssHeld / 2 ** 20, 1);
    result.perConnKB = fmt((rssHeld - sum(base, (p) => p.rss)) / opened.live / 1024, 2);
    result.fdsPerProcess = `primary ${held.find((p) => p.role === 'primary')?.fds ?? '?'}; workers ${workers.map((p) => p.fds).join(', ') || '-'} (sum ${fmtInt(sum(workers, (p) => p.fds))} for ${fmtInt(opened.live)} connections)`;
    say(`holding ${fmtInt(opened.live)}: proxy RSS ${result.rssOpenMiB} MiB in all, ${result.perConnKB} KB per connection over the start; fds ${result.fdsPerProcess}`);

    stage = 'drain';
    const drainTimeout = left(60);
    drain =
      drainMethod === 'backends'
        ? await switchBackends(f, lgs, standby, drainTimeout, say)
        : await rollingRestart(f, lgs, () => triggerRollingRestart(f), drainTimeout, say);
    result.drainMethod = drain.method;
    result.drain = `${fmtInt(drain.drained)} live connections closed with 1012 (and ${fmtInt(drain.drainedBeforeLive)} reopens closed with 1012 before their echo, retried), ${fmtInt(drain.reopened)} reopened and echo-checked, live ${fmtInt(drain.liveBefore)} -> ${fmtInt(drain.liveAfter)}; ${drain.complete ? `all back ${fmt((drain.doneAt - drain.startedAt) / 1000, 1)} s after the first request` : 'NOT complete'}`;
    result.drainSteps = drain.steps.join('; ');
    say(`drain: ${result.drain}`);

    stage = 'verify';
    const vs = await lgs.ask<Verified>({ type: 'verify', perSecond: 2000, maxSeconds: Math.min(120, left(40) / 1000) }, 'verified', left(30));
    const v = { sent: vs.reduce((a, x) => a + x.sent, 0), ok: vs.reduce((a, x) => a + x.ok, 0), p99: Math.max(...vs.map((x) => x.p99ms)) };
    result.verify = `${fmtInt(v.ok)} of ${fmtInt(v.sent)} live connections echoed after the drain (p99 ${fmt(v.p99, 0)} ms)`;
    say(`verify: ${result.verify}`);
    const after = f.sample();
    result.rssAfterDrainMiB = fmt(sum(after, (p) => p.rss) / 2 ** 20, 1);
    result.fdsAfterDrain = after.map((p) => p.fds).join(', ');
    const final = await lgs.status();
    result.failures = describeFailures(final);
    result.loadAverageAtEnd = loadavg();
    stage = final.live === total && failureCount(final) === 0 && drain.complete && v.ok === total ? 'done' : 'incomplete';
  } catch (err) {
    say(`stopped at stage '${stage}': ${(err as Error).message}`);
    result.stoppedAt = `${stage}: ${(err as Error).message}`;
  } finally {
    sampling = false;
    await Promise.race([sampler, sleep(6000)]);
    // Clients first: the proxy and backends then have nothing left to drain.
    for (const c of [...(clients?.children ?? [])]) await stopChild(c, 10_000);
    await fleet?.stop();
    for (const c of children) await stopChild(c, 10_000);
  }
  writeReport({ result, probes, samples, log, kernel, plan, settings: { total, concurrency, deadlineS, drainMethod, dataPlane } });
  return stage === 'done' ? 0 : 1;
}

/** Asks the cluster's primary for a rolling restart through its admin API (SIGUSR2 does the same). */
async function triggerRollingRestart(f: ProxyFleet): Promise<string> {
  const r = await f.admin('POST', '/api/workers/rolling-restart', {});
  if (r.status !== 202) throw new Error(`admin POST /api/workers/rolling-restart: ${r.status} ${JSON.stringify(r.body)}`);
  return `POST /api/workers/rolling-restart -> ${r.status}`;
}

const hard = setTimeout(() => {
  console.error('scale-100k: hard deadline passed; killing every child');
  killAllSync();
  process.exit(2);
}, (deadlineS + 120) * 1000);
hard.unref();
runMain(main);
