/**
 * bench/scale-100k (`npm run bench:100k`, not part of `npm run bench`): 100,000 concurrent WebSockets
 * through one Switchboard process to 2 backends on this machine, then one small echo on each.
 *
 * Processes: 2 backends (bench/suite/backend.js), 1 Switchboard (bench/ws-echo/proxy-switchboard.js with
 * both backends and `sourceAddresses` 127.0.1.2-127.0.1.9), 2 load generators (bench/suite/conn-load.js,
 * 50,000 connections each, source addresses rotated over 127.0.2.x / 127.0.3.x). Every process gets
 * its own `ulimit -n`; nothing system-wide is changed.
 *
 * Reported: proxy RSS before/after and per connection, time to establish, echo latency, and whether the
 * proxy stayed responsive: an HTTP probe (fresh connection, GET through the proxy) every second during
 * the whole run, with its latency. Bounded: BENCH_100K_DEADLINE seconds overall (default 600; the run
 * gives up cleanly, reports how far it got, and kills every child).
 *
 * Environment: BENCH_100K_CONNECTIONS (100000, 1000..200000), BENCH_100K_CONCURRENCY (handshakes in
 * flight per load generator, 200), BENCH_100K_ECHO_RATE (echo messages started per second per load
 * generator, 10000), BENCH_100K_DEADLINE (600).
 */
import { request } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { canRaiseNofile, forkChild, hardNofile, killAllSync, stopChild, waitForMessage, type Child } from '../lib/children';
import type { Message } from '../lib/ipc';
import { cpuMicros, fdCount, rssBytes } from '../lib/proc';
import { sleep } from '../lib/quiet';
import { fmt, fmtInt, max, median } from '../lib/stats';
import type { ConnLoadConfig } from '../suite/conn-load';
import { envInt } from '../lib/env';
import { runMain } from '../lib/main';
import { gitState } from '../lib/repo';

const RESULTS = resolve(__dirname, '../../results');

const wantedTotal = envInt('BENCH_100K_CONNECTIONS', 100_000, 1000, 200_000);
let total = wantedTotal;
const concurrency = envInt('BENCH_100K_CONCURRENCY', 200, 1, 2000);
const echoRate = envInt('BENCH_100K_ECHO_RATE', 10_000, 100, 100_000);
const deadlineS = envInt('BENCH_100K_DEADLINE', 600, 30, 1800);
const LOADGENS = 2;
let perLoadgen = Math.ceil(total / LOADGENS);
const addrs = (prefix: string, from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}.${from + i}`);

function readSys(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().replace(/\s+/g, ' ');
  } catch {
    return 'unreadable';
  }
}

interface Probe {
  t: number;
  ms: number;
  ok: boolean;
}

function probe(port: number): Promise<Probe> {
  const t0 = performance.now();
  return new Promise((resolveP) => {
    const req = request({ host: '127.0.0.1', port, path: '/probe', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolveP({ t: t0, ms: performance.now() - t0, ok: res.statusCode === 200 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveP({ t: t0, ms: performance.now() - t0, ok: false }));
    req.end();
  });
}

async function main(): Promise<number> {
  const started = performance.now();
  const deadline = started + deadlineS * 1000;
  const log: string[] = [];
  const say = (s: string): void => {
    const line = `[${fmt((performance.now() - started) / 1000, 0)} s] ${s}`;
    console.log(line);
    log.push(line);
  };
  const kernel = {
    ip_local_port_range: readSys('/proc/sys/net/ipv4/ip_local_port_range'),
    somaxconn: readSys('/proc/sys/net/core/somaxconn'),
    tcp_max_syn_backlog: readSys('/proc/sys/net/ipv4/tcp_max_syn_backlog'),
    file_max: readSys('/proc/sys/fs/file-max'),
    nr_open: readSys('/proc/sys/fs/nr_open'),
    nf_conntrack_max: readSys('/proc/sys/net/netfilter/nf_conntrack_max'),
    tcp_mem: readSys('/proc/sys/net/ipv4/tcp_mem'),
  };
  say(`kernel: ${JSON.stringify(kernel)}`);
  let proxyNofile = 2 * total + 10_000;
  let reduced = '';
  if (!canRaiseNofile(proxyNofile)) {
    // The proxy holds 2 descriptors per proxied WebSocket. Without the limit, run the most that fits
    // (clearly labelled) so the rest of the path is still exercised, and say where 100k stopped.
    const hard = hardNofile() ?? 1024;
    const fits = Math.floor((Math.min(hard, 1_000_000) - 500) / 2 / 1000) * 1000;
    reduced = `${fmtInt(wantedTotal)} connections need ~${fmtInt(2 * wantedTotal)} descriptors in the proxy; ulimit -n ${fmtInt(proxyNofile)} is refused here (hard nofile limit ${fmtInt(hard)}, and raising a hard limit needs CAP_SYS_RESOURCE, which this container does not grant). Reduced run: ${fmtInt(fits)} connections, the most that fit in ${fmtInt(hard)} descriptors.`;
    say(reduced);
    if (fits < 1000) throw new Error(reduced);
    total = fits;
    perLoadgen = Math.ceil(total / LOADGENS);
    proxyNofile = Math.min(hard, 2 * total + 400);
  }
  const loadNofile = Math.min(hardNofile() ?? Infinity, perLoadgen + 10_000);
  const backendNofile = Math.min(hardNofile() ?? Infinity, Math.ceil(total / 2) + 10_000);

  const children: Child[] = [];
  let proxy: Child | undefined;
  const probes: Probe[] = [];
  const rssSeries: { s: number; rss: number; fds: number; open: number }[] = [];
  const result: Record<string, string> = {};
  if (reduced !== '') result.reduced = reduced;
  let stage = 'start';
  let probing = true;
  let probeLoop: Promise<void> = Promise.resolve();
  let opened = [0, 0];
  try {
    // Backends.
    const backendPorts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const b = forkChild(`backend-${i}`, join(__dirname, '..', 'suite', 'backend.js'), [], [], {}, backendNofile);
      children.push(b);
      backendPorts.push((await waitForMessage<Message & { port: number }>(b, 'ready', 10_000)).port);
    }
    // The proxy: 8 source addresses x ~28k ports = ~225k backend connections possible.
    const sourceAddresses = addrs('127.0.1', 2, 8);
    proxy = forkChild(
      'switchboard',
      join(__dirname, '..', 'ws-echo', 'proxy-switchboard.js'),
      [backendPorts.map((p) => `http://127.0.0.1:${p}`).join(','), JSON.stringify({ sourceAddresses })],
      ['--max-old-space-size=8192'],
      {},
      proxyNofile,
    );
    children.push(proxy);
    const port = (await waitForMessage<Message & { port: number }>(proxy, 'ready', 10_000)).port;
    const proxyPid = proxy.pid;
    const first = await probe(port);
    if (!first.ok) throw new Error('probe through the proxy failed before the run');
    await sleep(500);
    const rss0 = rssBytes(proxyPid) ?? Number.NaN;
    const cpu0 = cpuMicros(proxyPid) ?? Number.NaN;
    say(`proxy pid ${proxyPid} on :${port}, backends :${backendPorts.join(', :')}; RSS at start ${fmt(rss0 / 2 ** 20, 1)} MiB; sourceAddresses ${sourceAddresses[0]}-${sourceAddresses.at(-1)}`);

    probeLoop = (async () => {
      for (let i = 0; probing && i < deadlineS + 60; i++) {
        const p = await probe(port);
        probes.push(p);
        const rss = rssBytes(proxyPid);
        if (rss !== undefined) rssSeries.push({ s: (performance.now() - started) / 1000, rss, fds: fdCount(proxyPid) ?? -1, open: opened[0]! + opened[1]! });
        await sleep(Math.max(0, 1000 - p.ms));
      }
    })();

    // Load generators.
    const loadgens: Child[] = [];
    for (let i = 0; i < LOADGENS; i++) {
      const cfg: ConnLoadConfig = {
        url: `ws://127.0.0.1:${port}/echo`,
        connections: perLoadgen,
        concurrency,
        localAddresses: addrs(`127.0.${2 + i}`, 2, 4),
        openTimeoutMs: Math.max(10_000, deadline - performance.now() - 90_000),
        handshakeTimeoutMs: 30_000,
      };
      const lg = forkChild(`conn-load-${i}`, join(__dirname, '..', 'suite', 'conn-load.js'), [JSON.stringify(cfg)], ['--max-old-space-size=8192'], {}, loadNofile);
      children.push(lg);
      loadgens.push(lg);
      await waitForMessage(lg, 'ready', 10_000);
      lg.proc.on('message', (m: Message) => {
        if (m?.type === 'progress') opened[i] = Number(m.opened);
      });
    }
    stage = 'opening';
    const t0 = performance.now();
    const openedMsgs = loadgens.map((lg) => waitForMessage<Message & { opened: number; failures: number; firstError: string; seconds: number; gaveUp: boolean }>(lg, 'opened', Math.max(15_000, deadline - performance.now() - 60_000)));
    for (const lg of loadgens) lg.proc.send({ type: 'open' });
    const progress = setInterval(() => {
      const rss = rssBytes(proxyPid) ?? Number.NaN;
      say(`opening: ${fmtInt(opened[0]! + opened[1]!)} open, proxy RSS ${fmt(rss / 2 ** 20, 0)} MiB, fds ${fdCount(proxyPid) ?? '?'}, last probe ${fmt(probes.at(-1)?.ms ?? Number.NaN, 1)} ms`);
    }, 10_000);
    let os: Awaited<(typeof openedMsgs)[number]>[];
    try {
      os = await Promise.all(openedMsgs);
    } finally {
      clearInterval(progress);
    }
    opened = os.map((o) => o.opened);
    const openSeconds = (performance.now() - t0) / 1000;
    const nOpen = opened[0]! + opened[1]!;
    const failures = os.reduce((a, o) => a + o.failures, 0);
    const cpuOpen = (cpuMicros(proxyPid) ?? Number.NaN) - cpu0;
    say(`opened ${fmtInt(nOpen)} of ${fmtInt(total)} in ${fmt(openSeconds, 1)} s (${fmtInt(nOpen / openSeconds)}/s), ${failures} failures${failures > 0 ? `: ${os.map((o) => o.firstError).filter((e) => e !== '').join('; ')}` : ''}; proxy CPU ${fmt(cpuOpen / nOpen, 0)} µs per handshake`);
    result.opened = `${fmtInt(nOpen)} of ${fmtInt(total)}`;
    result.openSeconds = fmt(openSeconds, 1);
    result.failures = String(failures);
    result.handshakeCpuUs = fmt(cpuOpen / nOpen, 0);
    await sleep(3000);
    const rss1 = rssBytes(proxyPid) ?? Number.NaN;
    result.rssStartMiB = fmt(rss0 / 2 ** 20, 1);
    result.rssOpenMiB = fmt(rss1 / 2 ** 20, 1);
    result.perConnKB = fmt((rss1 - rss0) / nOpen / 1024, 2);
    result.fds = String(fdCount(proxyPid) ?? '?');
    say(`proxy RSS ${fmt(rss1 / 2 ** 20, 0)} MiB with ${fmtInt(nOpen)} open: ${result.perConnKB} KB per connection over the start; ${result.fds} fds`);

    stage = 'echo';
    const echoed = loadgens.map((lg) => waitForMessage<Message & { sent: number; echoed: number; seconds: number; p50ms: number; p99ms: number; maxms: number; closedUnexpectedly: number }>(lg, 'echoed', 120_000));
    const maxSeconds = Math.max(5, Math.min(90, (deadline - performance.now()) / 1000 - 30));
    const cpuE0 = cpuMicros(proxyPid) ?? Number.NaN;
    for (const lg of loadgens) lg.proc.send({ type: 'echo', perSecond: echoRate, maxSeconds });
    const es = await Promise.all(echoed);
    const cpuE = (cpuMicros(proxyPid) ?? Number.NaN) - cpuE0;
    const sent = es.reduce((a, e) => a + e.sent, 0);
    const got = es.reduce((a, e) => a + e.echoed, 0);
    result.echo = `${fmtInt(got)} of ${fmtInt(sent)} echoed in ${fmt(max(es.map((e) => e.seconds)), 1)} s at up to ${fmtInt(echoRate * LOADGENS)} msg/s; round trip p50 ${fmt(max(es.map((e) => e.p50ms)), 1)} ms, p99 ${fmt(max(es.map((e) => e.p99ms)), 1)} ms, max ${fmt(max(es.map((e) => e.maxms)), 0)} ms; ${es.reduce((a, e) => a + e.closedUnexpectedly, 0)} connections closed unexpectedly; proxy CPU ${fmt(cpuE / Math.max(1, got), 1)} µs per echoed round trip`;
    say(`echo: ${result.echo}`);
    const rss2 = rssBytes(proxyPid) ?? Number.NaN;
    result.rssAfterEchoMiB = fmt(rss2 / 2 ** 20, 1);
    result.perConnAfterEchoKB = fmt((rss2 - rss0) / nOpen / 1024, 2);
    say(`proxy RSS after the echo round ${result.rssAfterEchoMiB} MiB (${result.perConnAfterEchoKB} KB per connection)`);
    stage = 'done';
  } catch (err) {
    say(`stopped at stage '${stage}': ${(err as Error).message}`);
    result.stoppedAt = `${stage}: ${(err as Error).message}`;
  } finally {
    probing = false;
    await Promise.race([probeLoop, sleep(6000)]);
    for (const c of [...children].reverse()) await stopChild(c, 15_000);
  }
  const ok = probes.filter((p) => p.ok);
  const lat = ok.map((p) => p.ms);
  const worst = [...lat].sort((a, b) => b - a).slice(0, 3);
  result.probes = `${ok.length} of ${probes.length} probes answered; latency median ${fmt(median(lat), 1)} ms, max ${fmt(max(lat), 0)} ms (worst three ${worst.map((x) => fmt(x, 0)).join(', ')} ms)`;
  say(`probes: ${result.probes}`);
  const head = gitState();
  const md = [
    '# scale-100k (latest run)',
    '',
    `Command: \`npm run bench:100k\` (BENCH_100K_CONNECTIONS=${wantedTotal}, run with ${total}, concurrency ${concurrency} per load generator, echo rate ${echoRate}/s per load generator, deadline ${deadlineS} s).`,
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}; Switchboard at ${head}; ${new Date().toISOString()}.`,
    '',
    `Kernel settings read: ${Object.entries(kernel).map(([k, v]) => `${k} = ${v}`).join('; ')}. Per-process nofile: proxy ${proxyNofile}, each load generator ${loadNofile}, each backend ${backendNofile} (bash \`ulimit -n\` in the child).`,
    '',
    '| measure | value |',
    '|---|---|',
    ...Object.entries(result).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    'Proxy RSS / fds during the run (every ~10th sample):',
    '',
    '| s | open (load generators\' last progress) | proxy RSS MiB | proxy fds |',
    '|---:|---:|---:|---:|',
    ...rssSeries.filter((_, i) => i % 10 === 0 || i === rssSeries.length - 1).map((r) => `| ${fmt(r.s, 0)} | ${fmtInt(r.open)} | ${fmt(r.rss / 2 ** 20, 0)} | ${r.fds} |`),
    '',
    'Log:',
    '',
    '```',
    ...log,
    '```',
    '',
  ].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'scale-100k-latest.md'), md);
  console.log('written: bench/results/scale-100k-latest.md');
  return stage === 'done' ? 0 : 1;
}

process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAllSync();
    process.exit(130);
  });
}
const hard = setTimeout(() => {
  console.error('scale-100k: hard deadline passed; killing every child');
  killAllSync();
  process.exit(2);
}, (envInt('BENCH_100K_DEADLINE', 600, 30, 1800) + 120) * 1000);
hard.unref();
runMain(main);
