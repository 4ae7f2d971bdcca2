/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): top functions by self time and by total
 * (inclusive) time, plus coarse buckets (GC, native, node internals, Switchboard, dependencies).
 *
 * Standalone: `node bench/dist/ws-echo/profile.js <file.cpuprofile> [topN]`.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const pk = url.indexOf('/packages/');
  if (pk >= 0) return url.slice(pk + 1);
  const b = url.indexOf('/bench/');
  if (b >= 0) return url.slice(b + 1);
  return url.replace(/^file:\/\//, '');
}

function keyOf(cf: CallFrame): string {
  const name = cf.functionName === '' ? '(anonymous)' : cf.functionName;
  const url = shortUrl(cf.url);
  return url === '' ? name : `${name} ${url}:${cf.lineNumber + 1}`;
}

function bucketOf(cf: CallFrame): string {
  const { functionName: n, url } = cf;
  if (n === '(garbage collector)') return 'GC';
  if (n === '(idle)') return 'idle';
  if (n === '(program)') return '(program): native work outside JS (syscalls, V8)';
  if (url === '') return 'native functions called from JS (write/read bindings, builtins)';
  if (url.startsWith('node:')) return 'node core JS (net, stream, events)';
  if (url.includes('/packages/proxy/')) return 'Switchboard (packages/proxy)';
  if (url.includes('node_modules/http-proxy')) return 'http-proxy';
  if (url.includes('node_modules/')) return 'other dependencies';
  return 'other JS';
}

export interface ProfileSummary {
  markdown: string;
  totalMs: number;
  busyMs: number;
}

export function summarizeProfile(file: string, topN = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  // Sample i lasts until sample i+1 (as Chrome DevTools accounts it).
  const selfUs = new Map<number, number>();
  let t = p.startTime;
  const stamps: number[] = [];
  for (const d of p.timeDeltas) {
    t += d;
    stamps.push(t);
  }
  for (let i = 0; i < p.samples.length; i++) {
    const end = i + 1 < stamps.length ? stamps[i + 1]! : p.endTime;
    const dur = Math.max(0, end - stamps[i]!);
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dur);
  }

  // Self time by function, and by bucket.
  const selfByKey = new Map<string, number>();
  const byBucket = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    totalUs += us;
    if (cf.functionName === '(idle)') idleUs += us;
    const k = keyOf(cf);
    selfByKey.set(k, (selfByKey.get(k) ?? 0) + us);
    const b = bucketOf(cf);
    byBucket.set(b, (byBucket.get(b) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;

  // Inclusive time by function: sum of subtree self time, counting a function once per stack.
  const totalByKey = new Map<string, number>();
  const subtree = new Map<number, number>();
  const root = p.nodes[0]!;
  // Post-order without recursion (profiles can be deep).
  const order: number[] = [];
  const stack: number[] = [root.id];
  for (let guard = 0; stack.length > 0 && guard < 10_000_000; guard++) {
    const id = stack.pop()!;
    order.push(id);
    for (const c of byId.get(id)!.children ?? []) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = byId.get(order[i]!)!;
    let s = selfUs.get(n.id) ?? 0;
    for (const c of n.children ?? []) s += subtree.get(c) ?? 0;
    subtree.set(n.id, s);
  }
  const onStack = new Map<string, number>();
  const walk: Array<{ id: number; enter: boolean }> = [{ id: root.id, enter: true }];
  for (let guard = 0; walk.length > 0 && guard < 20_000_000; guard++) {
    const { id, enter } = walk.pop()!;
    const n = byId.get(id)!;
    const k = keyOf(n.callFrame);
    if (enter) {
      if ((onStack.get(k) ?? 0) === 0) totalByKey.set(k, (totalByKey.get(k) ?? 0) + (subtree.get(id) ?? 0));
      onStack.set(k, (onStack.get(k) ?? 0) + 1);
      walk.push({ id, enter: false });
      for (const c of n.children ?? []) walk.push({ id: c, enter: true });
    } else {
      onStack.set(k, (onStack.get(k) ?? 1) - 1);
    }
  }

  const pct = (us: number): string => `${((100 * us) / Math.max(1, busyUs)).toFixed(1)}%`;
  const ms = (us: number): string => (us / 1000).toFixed(0);
  const lines: string[] = [];
  lines.push(
    `Profile: ${(totalUs / 1e6).toFixed(2)} s sampled, ${(busyUs / 1e6).toFixed(2)} s busy (not idle); percentages are of busy time.`,
    '',
    '| bucket | self ms | % busy |',
    '|---|---:|---:|',
  );
  for (const [b, us] of [...byBucket].filter(([b]) => b !== 'idle').sort((a, c) => c[1] - a[1])) {
    lines.push(`| ${b} | ${ms(us)} | ${pct(us)} |`);
  }
  lines.push('', `Top ${topN} functions by self time:`, '', '| function | self ms | % busy |', '|---|---:|---:|');
  for (const [k, us] of [...selfByKey].filter(([k]) => k !== '(idle)').sort((a, c) => c[1] - a[1]).slice(0, topN)) {
    lines.push(`| \`${k}\` | ${ms(us)} | ${pct(us)} |`);
  }
  const skip = new Set(['(root)', '(idle)', '(program)', '(garbage collector)']);
  lines.push('', `Top ${topN} functions by total (inclusive) time:`, '', '| function | total ms | % busy |', '|---|---:|---:|');
  for (const [k, us] of [...totalByKey].filter(([k]) => !skip.has(k)).sort((a, c) => c[1] - a[1]).slice(0, topN)) {
    lines.push(`| \`${k}\` | ${ms(us)} | ${pct(us)} |`);
  }
  return { markdown: lines.join('\n'), totalMs: totalUs / 1000, busyMs: busyUs / 1000 };
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node bench/dist/ws-echo/profile.js <file.cpuprofile> [topN]');
    process.exit(2);
  }
  console.log(summarizeProfile(file, Number(process.argv[3] ?? 20)).markdown);
}
