/**
 * The machine-wide view a cluster primary gives: every worker's connections with a `worker` field,
 * backends with counts summed, and metric families added up. Pure functions over the workers' answers.
 * @module
 */
import type { BackendSnapshot } from '../backends/backend-pool';
import type { ConnectionRecord } from '../connection-table';
import type { Family, Sample } from '../admin/metric-families';
import type { BackendState } from '../strategies/strategy';

/**
 * A connection record from a cluster primary's {@link Cluster.connections}: the worker's record plus
 * the id of the worker that holds it.
 *
 * @example
 * ```ts
 * import type { ClusterConnectionRecord } from '@switchboard/proxy';
 * const perWorker = (records: ClusterConnectionRecord[]): Map<number, number> => {
 *   const counts = new Map<number, number>();
 *   for (const r of records) counts.set(r.worker, (counts.get(r.worker) ?? 0) + 1);
 *   return counts;
 * };
 * ```
 * @group Cluster
 */
export interface ClusterConnectionRecord extends ConnectionRecord {
  /** The `node:cluster` id of the worker process holding the connection. Ids are never reused. */
  readonly worker: number;
}

/**
 * A backend as a cluster primary's {@link Cluster.backends} reports it: `activeConnections` is the sum
 * over the workers, `state` the one most workers report, `byWorker` each worker's own view.
 *
 * @example
 * ```ts
 * import type { ClusterBackendSnapshot } from '@switchboard/proxy';
 * const uneven = (b: ClusterBackendSnapshot) => b.byWorker.some((w) => w.state !== b.state);
 * ```
 * @group Cluster
 */
export interface ClusterBackendSnapshot extends BackendSnapshot {
  readonly byWorker: readonly { readonly worker: number; readonly state: BackendState; readonly activeConnections: number }[];
}

/** One worker's answer, tagged with its id. @internal */
export interface FromEach<T> {
  readonly worker: number;
  readonly value: T;
}

/** Every worker's connections, oldest first, each with its worker id. @internal */
export function mergeConnections(answers: readonly FromEach<readonly ConnectionRecord[]>[]): ClusterConnectionRecord[] {
  const out: ClusterConnectionRecord[] = [];
  for (const { worker, value } of answers) for (const record of value) out.push(Object.freeze({ ...record, worker }));
  return out.sort((a, b) => a.openedAt - b.openedAt || a.worker - b.worker || a.id - b.id);
}

/** Backends by route and id in the first worker's order, counts summed, state by majority. @internal */
export function mergeBackends(answers: readonly FromEach<readonly BackendSnapshot[]>[]): ClusterBackendSnapshot[] {
  const merged = new Map<string, { first: BackendSnapshot; byWorker: { worker: number; state: BackendState; activeConnections: number }[] }>();
  for (const { worker, value } of answers) {
    for (const b of value) {
      const key = `${b.route}\n${b.id}`;
      let m = merged.get(key);
      if (m === undefined) merged.set(key, (m = { first: b, byWorker: [] }));
      m.byWorker.push({ worker, state: b.state, activeConnections: b.activeConnections });
    }
  }
  return [...merged.values()].map(({ first, byWorker }) => {
    const votes = new Map<BackendState, number>();
    for (const w of byWorker) votes.set(w.state, (votes.get(w.state) ?? 0) + 1);
    let state = first.state;
    for (const [s, n] of votes) if (n > (votes.get(state) ?? 0)) state = s;
    const activeConnections = byWorker.reduce((sum, w) => sum + w.activeConnections, 0);
    return Object.freeze({ ...first, state, activeConnections, byWorker: Object.freeze(byWorker) });
  });
}

/** Gauges that count something, so the machine's value is the workers' sum. */
const SUMMED_GAUGES: ReadonlySet<string> = new Set(['switchboard_connections']);

function sampleKey(s: Sample): string {
  return `${s.suffix ?? ''}\u0000${Object.entries(s.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join('\u0000')}`;
}

/**
 * Adds up the workers' metric families: counters, histograms and count gauges are summed (the same
 * series a single proxy exports, machine totals); state gauges (`switchboard_backend_up`, `_state`,
 * `_weight`) are averaged, so `switchboard_backend_up` is the fraction of workers that see the backend up.
 * @internal
 */
export function mergeFamilies(answers: readonly FromEach<readonly Family[]>[]): Family[] {
  const families = new Map<string, { family: Family; samples: Map<string, { sample: Sample; value: number; seen: number }> }>();
  for (const { value } of answers) {
    for (const f of value) {
      let m = families.get(f.name);
      if (m === undefined) families.set(f.name, (m = { family: f, samples: new Map() }));
      for (const s of f.samples) {
        const key = sampleKey(s);
        const cell = m.samples.get(key);
        if (cell === undefined) m.samples.set(key, { sample: s, value: s.value, seen: 1 });
        else {
          cell.value += s.value;
          cell.seen++;
        }
      }
    }
  }
  return [...families.values()].map(({ family, samples }) => {
    const averaged = family.type === 'gauge' && !SUMMED_GAUGES.has(family.name);
    return { ...family, samples: [...samples.values()].map((c) => ({ ...c.sample, value: averaged ? c.value / c.seen : c.value })) };
  });
}
