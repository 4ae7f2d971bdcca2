/**
 * bench/ws-echo: WebSocket ping-pong throughput and latency, direct vs Switchboard vs http-proxy vs
 * nginx vs HAProxy, in one run. Backend, proxy and load generator are separate processes; configurations
 * alternate (direct, switchboard, http-proxy, nginx, haproxy, then again) for BENCH_ROUNDS rounds.
 * For the Node proxies, the JS event-loop utilization over the measured window is reported too.
 *
 * Environment (all bounded):
 *   BENCH_SECONDS        measured window per run, default 5 (1..120)
 *   BENCH_WARMUP_SECONDS warm-up before the window, default 1 (0..30)
 *   BENCH_ROUNDS         rounds, default 3 (1..20)
 *   BENCH_CONNECTIONS    concurrent WebSockets, default 50 (1..2000)
 *   BENCH_MESSAGE_BYTES  payload size, default 64 (1..1048576)
 *   BENCH_CONFIGS        comma list to run, default direct,switchboard,http-proxy,nginx,haproxy
 *                        (all configurations: bench/ws-echo/configs.ts)
 *   BENCH_INSTALL_NGINX  1: apt-get install -y nginx when it is missing (otherwise nginx is skipped)
 *   BENCH_INSTALL_HAPROXY 1: apt-get install -y haproxy when it is missing (otherwise HAProxy is skipped)
 *   BENCH_MAX_OTHER_CPU  a run during which other processes on the machine used more than this % of a
 *                        core is repeated (the machine is shared), default 15 (0..200)
 *   BENCH_RETRIES        how many times such a run is repeated at most, default 3 (0..10); the last
 *                        attempt is kept and flagged as noisy in the table
 *   BENCH_QUIET_WAIT     before each run, wait up to this many seconds for the machine to be quiet
 *                        (other processes under BENCH_MAX_OTHER_CPU for 1 s), default 60 (0..600)
 *   BENCH_PROFILE        comma list (switchboard,http-proxy): one extra run per entry with the
 *                        V8 CPU profiler on the proxy over the measured window, summarised into bench/results/ws-echo-profile-latest.md
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { forkChild, startEluWindow, stopChild, waitForMessage, type Child } from '../lib/children';
import type { ExternalProxy } from '../lib/external';
import type { Message } from '../lib/ipc';
import { cpuMicrosOf, machineBusyMicros, systemMicrosOf } from '../lib/proc';
import { fmt, fmtInt, max, median, min } from '../lib/stats';
import type { LoadConfig, LoadResult } from './loadgen';
import { CONFIGS, LABEL as BASE_LABEL, SWITCHBOARD_VARIANTS, configsFromEnv, isPeer, isVariant, peerVersions, peersForRun, startPeer, type Config, type Peer } from './configs';
import { summarizeProfile } from './profile';
import { envInt } from '../lib/env';
import { gitState, versionOf } from '../lib/repo';
import { runMain } from '../lib/main';
import { sleep, waitQuiet } from '../lib/quiet';

const LABEL: Record<Config, string> = { ...BASE_LABEL, direct: 'direct (client -> backend)' };

const RESULTS = resolve(__dirname, '../../results');


const seconds = envInt('BENCH_SECONDS', 5, 1, 120);
const warmup = envInt('BENCH_WARMUP_SECONDS', 1, 0, 30);
const rounds = envInt('BENCH_ROUNDS', 3, 1, 20);
const connections = envInt('BENCH_CONNECTIONS', 50, 1, 2000);
const messageBytes = envInt('BENCH_MESSAGE_BYTES', 64, 1, 1 << 20);
const maxOtherCpu = envInt('BENCH_MAX_OTHER_CPU', 15, 0, 200);
const retries = envInt('BENCH_RETRIES', 3, 0, 10);
const quietWait = envInt('BENCH_QUIET_WAIT', 60, 0, 600);
const wanted = configsFromEnv();
const profileTargets = (process.env.BENCH_PROFILE ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is 'switchboard' | 'http-proxy' => s === 'switchboard' || s === 'http-proxy');

interface RunResult {
  config: Config;
  round: number;
  msgsPerSec: number;
  p50us: number;
  p99us: number;
  /** Proxy CPU (user+system, from /proc) per round trip, microseconds; NaN for direct. */
  proxyCpuUsPerRt: number;
  proxyCpuPct: number;
  /** Share of the proxy's CPU spent in the kernel (stime), %. */
  proxyKernelPct: number;
  backendCpuPct: number;
  loadgenCpuPct: number;
  /** CPU used by everything else on the machine during the window (other users, the orchestrator). */
  otherCpuPct: number;
  /** Attempts made (more than 1 when other processes disturbed the earlier ones). */
  attempts: number;
  /** JS event-loop utilization of a Node proxy over the measured window, %; NaN for the others. */
  eluPct: number;
}


/** One measurement: fresh backend, fresh proxy, fresh load generator; all stopped in `finally`. */
async function measure(config: Config, round: number, binaries: Partial<Record<Peer, string>>, profileFile?: string): Promise<RunResult> {
  let backend: Child | undefined;
  let proxy: Child | undefined;
  let peer: ExternalProxy | undefined;
  let loadgen: Child | undefined;
  try {
    backend = forkChild('backend', join(__dirname, 'backend.js'), []);
    const { port: backendPort } = await waitForMessage<Message & { port: number }>(backend, 'ready', 10_000);
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    let port = backendPort;
    let proxyPids: number[] = [];
    if (isVariant(config) || config === 'http-proxy') {
      const env = profileFile === undefined ? {} : { BENCH_CPU_PROFILE: profileFile };
      const script = isVariant(config) ? 'switchboard' : config;
      const args = isVariant(config) ? [backendUrl, JSON.stringify(SWITCHBOARD_VARIANTS[config].options)] : [backendUrl];
      proxy = forkChild(config, join(__dirname, `proxy-${script}.js`), args, [], env);
      port = (await waitForMessage<Message & { port: number }>(proxy, 'ready', 10_000)).port;
      proxyPids = [proxy.pid];
    } else if (isPeer(config)) {
      peer = await startPeer(config, binaries, backendPort);
      port = peer.port;
      proxyPids = peer.pids;
    }

    const load: LoadConfig = {
      url: `ws://127.0.0.1:${port}/echo`,
      connections,
      messageBytes,
      warmupMs: warmup * 1000,
      durationMs: seconds * 1000,
      maxMessages: 100_000_000,
    };
    loadgen = forkChild('loadgen', join(__dirname, 'loadgen.js'), [JSON.stringify(load)]);
    await waitForMessage(loadgen, 'connected', 20_000);
    const measuring = waitForMessage(loadgen, 'measuring', load.warmupMs + 10_000);
    const result = waitForMessage<LoadResult>(loadgen, 'result', load.warmupMs + load.durationMs + 20_000);
    const closed = waitForMessage(loadgen, 'closed', load.warmupMs + load.durationMs + 25_000);
    result.catch(() => undefined); // awaited below; avoid an unhandled rejection if `measuring` fails first
    closed.catch(() => undefined);
    loadgen.proc.send({ type: 'start' });
    await measuring;
    if (profileFile !== undefined && proxy !== undefined) {
      const started = waitForMessage(proxy, 'profile-started', 5000);
      proxy.proc.send({ type: 'profile-start' });
      await started;
    }
    const endElu = proxy === undefined ? undefined : await startEluWindow(proxy);
    const pids = { proxy: proxyPids, backend: [backend.pid], loadgen: [loadgen.pid] };
    const w0 = performance.now();
    const m0 = machineBusyMicros();
    const k0 = systemMicrosOf(pids.proxy);
    const c0 = { proxy: cpuMicrosOf(pids.proxy), backend: cpuMicrosOf(pids.backend), loadgen: cpuMicrosOf(pids.loadgen) };
    const r = await result;
    const c1 = { proxy: cpuMicrosOf(pids.proxy), backend: cpuMicrosOf(pids.backend), loadgen: cpuMicrosOf(pids.loadgen) };
    const k1 = systemMicrosOf(pids.proxy);
    const m1 = machineBusyMicros();
    const wallUs = (performance.now() - w0) * 1000;
    const elu = endElu === undefined ? Number.NaN : await endElu();
    if (profileFile !== undefined && proxy !== undefined) {
      const written = waitForMessage(proxy, 'profile-written', 30_000);
      proxy.proc.send({ type: 'profile-stop' });
      await written;
    }
    await closed; // clients closed with a closing handshake before the processes are stopped
    if (r.errors > 0 || r.closedEarly > 0) throw new Error(`${config}: ${r.errors} client errors, ${r.closedEarly} connections closed early`);
    const rate = (a: number | undefined, b: number | undefined): number => (a === undefined || b === undefined ? Number.NaN : (b - a) / wallUs);
    const msgsPerSec = r.roundTrips / r.seconds;
    const proxyShare = proxyPids.length > 0 ? rate(c0.proxy, c1.proxy) : Number.NaN;
    const ours = rate(c0.backend, c1.backend) + rate(c0.loadgen, c1.loadgen) + (proxyPids.length > 0 ? proxyShare : 0);
    return {
      config,
      round,
      msgsPerSec,
      p50us: r.p50us,
      p99us: r.p99us,
      proxyCpuUsPerRt: (proxyShare * 1e6) / msgsPerSec,
      proxyCpuPct: proxyShare * 100,
      proxyKernelPct: (100 * rate(k0, k1)) / proxyShare,
      backendCpuPct: rate(c0.backend, c1.backend) * 100,
      loadgenCpuPct: rate(c0.loadgen, c1.loadgen) * 100,
      otherCpuPct: Math.max(0, rate(m0, m1) - ours) * 100,
      attempts: 1,
      eluPct: elu * 100,
    };
  } finally {
    await stopChild(loadgen);
    if (peer !== undefined) await peer.stop();
    await stopChild(proxy);
    await stopChild(backend);
  }
}

function report(results: RunResult[], notes: string[], versions: Partial<Record<Peer, string>>): string {
  const by = (c: Config): RunResult[] => results.filter((r) => r.config === c);
  const direct = median(by('direct').map((r) => r.msgsPerSec));
  const lines: string[] = [];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  lines.push(
    `WebSocket ping-pong, ${connections} connections x 1 message in flight, ${messageBytes}-byte binary messages, loopback; ` +
      `${rounds} round(s) of ${seconds} s (after ${warmup} s warm-up), configurations alternating.`,
    '',
    `Machine: ${cpus().length} x ${cpu}, Node ${process.version}, ws ${versionOf('ws')}, http-proxy ${versionOf('http-proxy')}, ` +
      `${peerVersions(versions)}; Switchboard at ${gitState()}; ${new Date().toISOString()}.`,
    '',
    `The machine is shared: each run waited (up to ${quietWait} s) for other processes to use under ${maxOtherCpu}% of a core, and a run ` +
      `during which they used more was repeated (at most ${retries} times); the "other processes" column shows what remained.`,
    '',
    '| configuration | msg/s (median) | msg/s min-max | vs direct | p50 µs | p99 µs (median) | p99 µs min-max | proxy CPU µs / round trip (median, min-max) | proxy CPU, % of a core |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const c of CONFIGS) {
    const rs = by(c);
    if (rs.length === 0) continue;
    const m = rs.map((r) => r.msgsPerSec);
    const p99 = rs.map((r) => r.p99us);
    const cpuRt = rs.map((r) => r.proxyCpuUsPerRt);
    lines.push(
      `| ${LABEL[c]} | ${fmtInt(median(m))} | ${fmtInt(min(m))}-${fmtInt(max(m))} | ${fmt(median(m) / direct, 2)} | ` +
        `${fmt(median(rs.map((r) => r.p50us)), 0)} | ${fmt(median(p99), 0)} | ${fmt(min(p99), 0)}-${fmt(max(p99), 0)} | ` +
        (c === 'direct' ? '- | - |' : `${fmt(median(cpuRt), 1)} (${fmt(min(cpuRt), 1)}-${fmt(max(cpuRt), 1)}) | ${fmt(median(rs.map((r) => r.proxyCpuPct)), 0)}% |`),
    );
  }
  lines.push('');
  const ratioLine = (a: Config, b: Config, target?: number): void => {
    const ra = by(a);
    const rb = by(b);
    if (ra.length === 0 || rb.length === 0) return;
    const overall = median(ra.map((r) => r.msgsPerSec)) / median(rb.map((r) => r.msgsPerSec));
    const perRound: number[] = [];
    for (const x of ra) {
      const y = rb.find((r) => r.round === x.round);
      if (y !== undefined) perRound.push(x.msgsPerSec / y.msgsPerSec);
    }
    let verdict = '';
    if (target !== undefined) verdict = overall >= target ? ` -> target >= ${target.toFixed(2)}: **MET**` : ` -> target >= ${target.toFixed(2)}: **NOT MET**`;
    lines.push(`- ${LABEL[a]} / ${LABEL[b]} msg/s: **${fmt(overall, 2)}** (medians; same-round ratios ${perRound.map((x) => fmt(x, 2)).join(', ')})${verdict}`);
  };
  ratioLine('switchboard', 'http-proxy', 1);
  ratioLine('switchboard', 'nginx');
  ratioLine('switchboard', 'haproxy');
  // Above 1: what the frame tracker costs (frameTracking: false over the default).
  ratioLine('switchboard-untracked', 'switchboard');
  ratioLine('http-proxy', 'nginx');
  ratioLine('http-proxy', 'haproxy');
  const eluRows = CONFIGS.filter((c) => by(c).some((r) => Number.isFinite(r.eluPct)));
  if (eluRows.length > 0) {
    lines.push(
      '',
      'JS event-loop utilization of the Node proxies over the measured window (`performance.eventLoopUtilization()` in the proxy process; issue 11 targets < 5% for Switchboard once WebSocket bytes leave the JS loop):',
      '',
      '| configuration | event loop utilization during ping-pong (median, min-max) |',
      '|---|---:|',
      ...eluRows.map((c) => {
        const e = by(c).map((r) => r.eluPct);
        return `| ${LABEL[c]} | ${fmt(median(e), 1)}% (${fmt(min(e), 1)}-${fmt(max(e), 1)}) |`;
      }),
    );
  }
  lines.push(
    '',
    'CPU of each process during the measured window (median, % of one core; the machine has ' + `${cpus().length} cores in total):`,
    '',
    '| configuration | load generator | backend | proxy | sum | other processes on the machine | proxy CPU spent in the kernel |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const c of CONFIGS) {
    const rs = by(c);
    if (rs.length === 0) continue;
    const lg = median(rs.map((r) => r.loadgenCpuPct));
    const be = median(rs.map((r) => r.backendCpuPct));
    const px = c === 'direct' ? 0 : median(rs.map((r) => r.proxyCpuPct));
    const other = median(rs.map((r) => r.otherCpuPct));
    lines.push(`| ${LABEL[c]} | ${fmt(lg, 0)}% | ${fmt(be, 0)}% | ${c === 'direct' ? '-' : `${fmt(px, 0)}%`} | ${fmt(lg + be + px, 0)}% | ${fmt(other, 0)}% | ${c === 'direct' ? '-' : `${fmt(median(rs.map((r) => r.proxyKernelPct)), 0)}%`} |`);
  }
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- Note: ${n}`));
  lines.push(
    '',
    'Per run (msg/s, p50/p99 µs, proxy µs CPU per round trip):',
    '',
    '| round | configuration | msg/s | p50 µs | p99 µs | proxy CPU µs / rt | proxy event loop utilization | other processes CPU | attempts |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of results) {
    lines.push(
      `| ${r.round} | ${LABEL[r.config]} | ${fmtInt(r.msgsPerSec)} | ${fmt(r.p50us, 0)} | ${fmt(r.p99us, 0)} | ${fmt(r.proxyCpuUsPerRt, 1)} | ` +
        `${Number.isFinite(r.eluPct) ? `${fmt(r.eluPct, 1)}%` : '-'} | ${fmt(r.otherCpuPct, 0)}% | ${r.attempts} |`,
    );
  }
  return lines.join('\n');
}

async function profileRuns(binaries: Partial<Record<Peer, string>>): Promise<string | undefined> {
  if (profileTargets.length === 0) return undefined;
  const dir = join(RESULTS, 'profiles');
  mkdirSync(dir, { recursive: true });
  const parts: string[] = [
    '# ws-echo CPU profiles',
    '',
    'One extra run per proxy, profiled with the V8 sampling profiler (the one behind `node --cpu-prof`, 100 µs interval), ' +
      'started and stopped through `node:inspector` inside the proxy process so the profile covers exactly the measured window ' +
      '(no start-up, warm-up or shutdown). Not part of the table: the profiler costs throughput. ' +
      `${connections} connections, ${messageBytes}-byte messages, ${seconds} s + ${warmup} s warm-up; ${new Date().toISOString()}.`,
  ];
  for (const target of profileTargets) {
    const name = `ws-echo-${target}.cpuprofile`;
    const file = join(dir, name);
    await waitQuiet(maxOtherCpu, quietWait);
    const r = await measure(target, 0, binaries, file);
    if (!readdirSync(dir).includes(name)) throw new Error(`no profile written at ${file}`);
    const s = summarizeProfile(file, 25);
    parts.push(
      '',
      `## ${LABEL[target]}`,
      '',
      `Profiled run: ${fmtInt(r.msgsPerSec)} msg/s, proxy ${fmt(r.proxyCpuPct, 0)}% of a core (${fmt(r.proxyKernelPct, 0)}% of it in the kernel), ` +
        `${fmt(r.proxyCpuUsPerRt, 1)} µs CPU per round trip, other processes ${fmt(r.otherCpuPct, 0)}% of a core. Profile file: \`bench/results/profiles/${name}\`.`,
      '',
      s.markdown,
    );
    console.log(`\nprofile of ${target}: ${file}\n${s.markdown}`);
  }
  return parts.join('\n');
}

async function main(): Promise<number> {
  const notes: string[] = [];
  const { configs, binaries, versions } = peersForRun(wanted, notes);
  console.log(
    `ws-echo: ${configs.join(', ')}; ${rounds} round(s) x ${seconds} s (+${warmup} s warm-up); ${connections} connections, ${messageBytes} B messages`,
  );
  const results: RunResult[] = [];
  let failures = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const config of configs) {
      try {
        await waitQuiet(maxOtherCpu, quietWait);
        let r = await measure(config, round, binaries);
        for (let attempt = 2; attempt <= retries + 1 && r.otherCpuPct > maxOtherCpu; attempt++) {
          console.log(`round ${round} ${config}: other processes used ${fmt(r.otherCpuPct, 0)}% of a core (> ${maxOtherCpu}%); repeating`);
          await waitQuiet(maxOtherCpu, quietWait);
          r = { ...(await measure(config, round, binaries)), attempts: attempt };
        }
        if (r.otherCpuPct > maxOtherCpu) notes.push(`round ${round} ${config}: still disturbed after ${r.attempts} attempts (other processes ${fmt(r.otherCpuPct, 0)}% of a core)`);
        results.push(r);
        console.log(
          `round ${round} ${config.padEnd(11)} ${fmtInt(r.msgsPerSec).padStart(8)} msg/s  p50 ${fmt(r.p50us, 0)} µs  p99 ${fmt(r.p99us, 0)} µs` +
            (config === 'direct' ? '' : `  proxy ${fmt(r.proxyCpuUsPerRt, 1)} µs CPU/rt (${fmt(r.proxyCpuPct, 0)}% core)`) +
            (Number.isFinite(r.eluPct) ? `  event loop ${fmt(r.eluPct, 1)}%` : '') +
            `  [other processes ${fmt(r.otherCpuPct, 0)}%]`,
        );
      } catch (err) {
        failures += 1;
        const msg = `round ${round} ${config} failed: ${(err as Error).message}`;
        console.error(msg);
        notes.push(msg);
      }
      await sleep(300);
    }
  }
  const table = report(results, notes, versions);
  console.log(`\n${table}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const command = 'npm run bench   # BENCH_SECONDS=' + seconds + ' BENCH_ROUNDS=' + rounds;
  writeFileSync(join(RESULTS, 'ws-echo-latest.md'), `# ws-echo (latest run)\n\nReproduce: \`${command}\`\n\n${table}\n`);
  writeFileSync(
    join(RESULTS, 'ws-echo-latest.json'),
    `${JSON.stringify({ finishedAt: new Date().toISOString(), seconds, warmup, rounds, connections, messageBytes, nginxVersion: versions.nginx, haproxyVersion: versions.haproxy, notes, results }, null, 1)}\n`,
  );
  console.log(`written: bench/results/ws-echo-latest.md, bench/results/ws-echo-latest.json (read by bench/suite for the combined table)`);
  const prof = await profileRuns(binaries);
  if (prof !== undefined) {
    writeFileSync(join(RESULTS, 'ws-echo-profile-latest.md'), `${prof}\n`);
    console.log('written: bench/results/ws-echo-profile-latest.md');
  }
  return failures > 0 ? 1 : 0;
}

runMain(main);
