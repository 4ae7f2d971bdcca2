/**
 * What a scale-100k run reads around itself (kernel settings, the responsiveness probe) and the results
 * file it writes (bench/results/scale-100k-latest.md).
 */
import { request } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gitState } from '../lib/repo';
import { fmt, fmtInt, max, median } from '../lib/stats';
import { describePlan, type Plan } from './plan';

const RESULTS = resolve(__dirname, '../../results');

export interface Probe {
  t: number;
  ms: number;
  ok: boolean;
}

export interface Sample {
  s: number;
  /** RSS summed over the proxy's processes. */
  rss: number;
  /** RSS summed over the backends and load generators. */
  otherRss: number;
  /** Most descriptors held by one proxy process. */
  maxFds: number;
  procs: number;
  live: number;
  stage: string;
}

/** GET /probe through the proxy on a fresh connection (the backend answers 200). */
export function probe(port: number): Promise<Probe> {
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

function readSys(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().replace(/\s+/g, ' ');
  } catch {
    return 'unreadable';
  }
}

export function readKernel(): Record<string, string> {
  return {
    ip_local_port_range: readSys('/proc/sys/net/ipv4/ip_local_port_range'),
    tcp_tw_reuse: readSys('/proc/sys/net/ipv4/tcp_tw_reuse'),
    somaxconn: readSys('/proc/sys/net/core/somaxconn'),
    tcp_max_syn_backlog: readSys('/proc/sys/net/ipv4/tcp_max_syn_backlog'),
    file_max: readSys('/proc/sys/fs/file-max'),
    nr_open: readSys('/proc/sys/fs/nr_open'),
    nf_conntrack_max: readSys('/proc/sys/net/netfilter/nf_conntrack_max'),
    tcp_mem: readSys('/proc/sys/net/ipv4/tcp_mem'),
  };
}

export interface Report {
  result: Record<string, string>;
  probes: Probe[];
  samples: Sample[];
  log: string[];
  kernel: Record<string, string>;
  plan: Plan;
  settings: { total: number; concurrency: number; deadlineS: number; drainMethod: string; dataPlane: string };
}

export function probeSummary(probes: readonly Probe[]): string {
  const ok = probes.filter((p) => p.ok);
  const lat = ok.map((p) => p.ms);
  const worst = [...lat].sort((a, b) => b - a).slice(0, 3);
  return `${ok.length} of ${probes.length} probes answered; latency median ${fmt(median(lat), 1)} ms, max ${fmt(max(lat), 0)} ms (worst three ${worst.map((x) => fmt(x, 0)).join(', ')} ms)`;
}

export function writeReport(r: Report): void {
  r.result.probes = probeSummary(r.probes);
  const peak = r.samples.reduce((a, x) => (x.maxFds > a.maxFds ? x : a), { maxFds: -1, s: 0, stage: '' } as Pick<Sample, 'maxFds' | 's' | 'stage'>);
  r.result.peakFdsOneProxyProcess = `${fmtInt(peak.maxFds)} of ${fmtInt(r.plan.nofile)} (at ${fmt(peak.s, 0)} s, ${peak.stage}; sampled every 2 s)`;
  r.result.peakProxyRssMiB = fmt(max(r.samples.map((x) => x.rss)) / 2 ** 20, 0);
  r.result.peakOtherRssMiB = `${fmt(max(r.samples.map((x) => x.otherRss)) / 2 ** 20, 0)} (backends + load generators)`;
  console.log(`probes: ${r.result.probes}`);
  const s = r.settings;
  const every = Math.max(1, Math.ceil(r.samples.length / 40));
  const md = [
    '# scale-100k (latest run)',
    '',
    `Command: \`BENCH_100K_CONNECTIONS=${s.total} BENCH_100K_DRAIN=${s.drainMethod} BENCH_100K_DATA_PLANE=${s.dataPlane} BENCH_100K_CONCURRENCY=${s.concurrency} BENCH_100K_DEADLINE=${s.deadlineS} npm run bench:100k\`` +
      ` (BENCH_100K_WORKERS=${r.plan.workers}${process.env.BENCH_100K_WORKERS ? ', given' : ', computed'}).`,
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}; Switchboard at ${gitState()}; ${new Date().toISOString()}.`,
    '',
    `Plan: ${describePlan(r.plan)}.`,
    '',
    `Kernel settings read: ${Object.entries(r.kernel).map(([k, v]) => `${k} = ${v}`).join('; ')}.`,
    '',
    '| measure | value |',
    '|---|---|',
    ...Object.entries(r.result).map(([k, v]) => `| ${k} | ${v.replaceAll('|', '/')} |`),
    '',
    `Proxy processes during the run (every ${every === 1 ? '' : `${every}th `}sample, once a second):`,
    '',
    '| s | stage | live (load generators\' last report) | proxy processes | proxy RSS MiB (sum) | max fds in one proxy process | backends + load generators RSS MiB |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...r.samples.filter((_, i) => i % every === 0 || i === r.samples.length - 1).map((x) => `| ${fmt(x.s, 0)} | ${x.stage} | ${fmtInt(x.live)} | ${x.procs} | ${fmt(x.rss / 2 ** 20, 0)} | ${fmtInt(x.maxFds)} | ${fmt(x.otherRss / 2 ** 20, 0)} |`),
    '',
    'Log:',
    '',
    '```',
    ...r.log,
    '```',
    '',
  ].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'scale-100k-latest.md'), md);
  console.log('written: bench/results/scale-100k-latest.md');
}
