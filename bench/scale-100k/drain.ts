/**
 * Every live connection closed with 1012 once, and every client back: either a rolling restart of the
 * proxy's workers (each worker drained and replaced in turn), or a blue/green switch of the backends through
 * the admin API (standby backends added, the serving ones drained).
 * The measured time runs from the first request to the last client being live and echo-checked again.
 */
import type { LoadGenerators, Total } from './clients';
import type { ProxyFleet } from './fleet';

export interface DrainResult {
  method: string;
  /** Date.now() when the first drain request was sent. */
  startedAt: number;
  /** Date.now() when every client was live again (the last reopen), 0 when not reached. */
  doneAt: number;
  /** Live connections before, connections closed with 1012, reopened, live after. */
  liveBefore: number;
  drained: number;
  /** Reopens that met a 1012 before their echo (a worker being retired) and were retried. */
  drainedBeforeLive: number;
  reopened: number;
  liveAfter: number;
  complete: boolean;
  steps: string[];
}

interface BackendRow {
  id: string;
  state: string;
  activeConnections: number;
}

async function backendRows(fleet: ProxyFleet): Promise<BackendRow[]> {
  const r = await fleet.admin('GET', '/api/backends');
  if (r.status !== 200) throw new Error(`admin GET /api/backends: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { backends: BackendRow[] }).backends;
}

/** All back: as many live as before, nothing waiting to reopen, and every 1012 answered by a reopen. */
function allBack(before: Total, extraDrained: number): (t: Total) => boolean {
  return (t) => t.live >= before.live && t.pending === 0 && t.drained - before.drained >= extraDrained && t.reopened - before.reopened >= t.drained - before.drained;
}

/**
 * Blue/green switch through the admin API: the standby backends are added (fanned out to every worker), then
 * every serving backend is drained with 1012. Each connection is closed once and reconnects onto the standby set.
 */
export async function switchBackends(fleet: ProxyFleet, clients: LoadGenerators, standby: readonly string[], timeoutMs: number, say: (s: string) => void): Promise<DrainResult> {
  const serving = await backendRows(fleet);
  for (const url of standby) {
    const r = await fleet.admin('POST', '/api/backends', { url });
    if (r.status !== 201) throw new Error(`admin POST /api/backends ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const steps = [`added ${standby.length} standby backends (POST /api/backends)`];
  say(steps[0]!);
  const before = await clients.status();
  const startedAt = Date.now();
  for (const b of serving) {
    const r = await fleet.admin('POST', `/api/backends/${encodeURIComponent(b.id)}/drain`, { code: 1012, timeout: 60_000 });
    if (r.status !== 202) throw new Error(`admin drain ${b.id}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  steps.push(`drained the ${serving.length} serving backends with 1012 (POST /api/backends/:id/drain) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  let emptyAt = 0;
  let lastLog = Date.now();
  const w = await clients.waitFor(
    (t) => allBack(before, before.live)(t),
    timeoutMs,
    500,
    (t) => {
      if (emptyAt === 0 && t.drained - before.drained >= before.live) emptyAt = Date.now();
      if (Date.now() - lastLog < 5000) return;
      lastLog = Date.now();
      say(`backend switch: ${t.drained - before.drained} closed with 1012, ${t.reopened - before.reopened} reopened, ${t.live} live`);
    },
  );
  if (emptyAt !== 0) steps.push(`every client saw its 1012 ${((emptyAt - startedAt) / 1000).toFixed(1)} s after the first drain request (polled every 0.5 s)`);
  steps.push(w.met ? 'every client back' : `NOT complete within the deadline (live ${w.total.live}, pending ${w.total.pending})`);
  const left = (await backendRows(fleet)).filter((r) => serving.some((b) => b.id === r.id)).reduce((a, r) => a + r.activeConnections, 0);
  steps.push(`connections left on the drained backends: ${left}`);
  return {
    method: `blue/green backend switch through the admin API (${standby.length} backends added, the ${serving.length} serving ones drained)`,
    startedAt,
    doneAt: w.met ? w.total.lastReopenAt : 0,
    liveBefore: before.live,
    drained: w.total.drained - before.drained,
    drainedBeforeLive: w.total.drainedBeforeLive - before.drainedBeforeLive,
    reopened: w.total.reopened - before.reopened,
    liveAfter: w.total.live,
    complete: w.met,
    steps,
  };
}

/**
 * Rolling restart of every worker through the cluster (`trigger` starts it: an admin call or a signal);
 * done when as many 1012s as there were live connections were answered by reopens, and the worker pids
 * are all new.
 */
export async function rollingRestart(
  fleet: ProxyFleet,
  clients: LoadGenerators,
  trigger: () => Promise<string>,
  timeoutMs: number,
  say: (s: string) => void,
): Promise<DrainResult> {
  const before = await clients.status();
  const oldWorkers = new Set(fleet.workerPids());
  const startedAt = Date.now();
  const how = await trigger();
  const steps = [how];
  let lastLog = Date.now();
  let replacedAt = 0;
  let workerSet = '';
  let workerSetSince = Date.now();
  let stalled = false;
  const allReplaced = (): boolean => {
    const pids = fleet.workerPids();
    if (replacedAt === 0 && pids.every((pid) => !oldWorkers.has(pid))) replacedAt = Date.now();
    const set = [...pids].sort().join(',');
    if (set !== workerSet) [workerSet, workerSetSince] = [set, Date.now()];
    return replacedAt !== 0;
  };
  // The cluster stops a restart when a replacement fails to start (its log says why); old workers then keep
  // serving. Every client back and no worker replaced for a minute: stop waiting, and say so.
  const w = await clients.waitFor(
    (t) => {
      const back = allBack(before, before.live)(t);
      if (allReplaced()) return back;
      stalled = back && Date.now() - workerSetSince > 60_000;
      return stalled;
    },
    timeoutMs,
    500,
    (t) => {
      if (Date.now() - lastLog < 5000) return;
      lastLog = Date.now();
      const procs = fleet.sample();
      const fresh = procs.filter((p) => p.role === 'worker' && !oldWorkers.has(p.pid)).length;
      say(`rolling restart: ${fresh} new workers, ${t.drained - before.drained} closed with 1012, ${t.reopened - before.reopened} reopened, ${t.live} live, max worker fds ${Math.max(...procs.map((p) => p.fds))}`);
    },
  );
  steps.push(replacedAt === 0 ? `${fleet.workerPids().filter((pid) => oldWorkers.has(pid)).length} old workers still running ${stalled ? 'after a minute without a replacement: the restart stopped (see the CLI log)' : 'at the deadline'}` : `every old worker gone ${((replacedAt - startedAt) / 1000).toFixed(1)} s after the request (seen within 0.5 s)`);
  steps.push(w.met ? `every client back` : `NOT complete within the deadline (live ${w.total.live}, pending ${w.total.pending})`);
  return {
    method: 'rolling restart of the workers',
    startedAt,
    doneAt: w.met && !stalled ? w.total.lastReopenAt : 0,
    liveBefore: before.live,
    drained: w.total.drained - before.drained,
    drainedBeforeLive: w.total.drainedBeforeLive - before.drainedBeforeLive,
    reopened: w.total.reopened - before.reopened,
    liveAfter: w.total.live,
    complete: w.met && !stalled,
    steps,
  };
}
