import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ), for /proc/<pid>/stat times. */
export function clkTck(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 });
    const n = Number.parseInt(r.stdout ?? '', 10);
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** utime and stime of one process in microseconds, or undefined when /proc cannot tell. */
export function cpuSplit(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return { user: (utime * 1e6) / clkTck(), system: (stime * 1e6) / clkTck() };
  } catch {
    return undefined;
  }
}

/** utime + stime of one process in microseconds, or undefined when /proc cannot tell. */
export function cpuMicros(pid: number): number | undefined {
  const s = cpuSplit(pid);
  return s === undefined ? undefined : s.user + s.system;
}

/** Sum of cpuMicros over several pids; undefined if any is unreadable. */
export function cpuMicrosOf(pids: readonly number[]): number | undefined {
  return systemMicrosOf(pids, true);
}

/** Sum of stime (or, with `all`, utime + stime) over several pids; undefined if any is unreadable. */
export function systemMicrosOf(pids: readonly number[], all = false): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const v = cpuSplit(pid);
    if (v === undefined) return undefined;
    total += all ? v.user + v.system : v.system;
  }
  return total;
}

/** Direct children of `pid` (bounded scan of /proc). */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (text !== '') return text.split(/\s+/).map(Number);
  } catch {
    // fall back to scanning /proc
  }
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries.slice(0, 100_000)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // raced with an exit
    }
  }
  return out;
}

/** Busy CPU time of the whole machine (all cores, everything but idle and iowait) in microseconds. */
export function machineBusyMicros(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return (busy * 1e6) / clkTck();
  } catch {
    return undefined;
  }
}

/** Resident set size of one process in bytes (VmRSS from /proc/<pid>/status), or undefined. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Sum of rssBytes over several pids; undefined if any is unreadable. */
export function rssBytesOf(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const v = rssBytes(pid);
    if (v === undefined) return undefined;
    total += v;
  }
  return total;
}

/** Open descriptors of one process (entries of /proc/<pid>/fd), or undefined. */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}
