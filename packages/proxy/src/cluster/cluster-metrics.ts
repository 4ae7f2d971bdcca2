/**
 * The primary's own metric families, next to the workers' merged ones: what only the primary knows
 * (workers by state, replacements, who missed the scrape) and the spread of connections over workers.
 * @internal
 * @module
 */
import type { Family } from '../admin/metric-families';
import type { FromEach } from './aggregate';
import type { WorkerInfo } from './cluster-types';

const STATES = ['starting', 'listening', 'retiring'] as const;

/** @internal */
export function clusterFamilies(workers: readonly WorkerInfo[], answers: readonly FromEach<readonly Family[]>[], missing: readonly number[], replaced: number): Family[] {
  const perWorker = answers.map(({ worker, value }) => {
    const live = value.find((f) => f.name === 'switchboard_connections');
    return { labels: { worker: String(worker) }, value: live?.samples.reduce((sum, s) => sum + s.value, 0) ?? 0 };
  });
  return [
    { name: 'switchboard_cluster_workers', help: 'Worker processes by state.', type: 'gauge', samples: STATES.map((state) => ({ labels: { state }, value: workers.filter((w) => w.state === state).length })) },
    { name: 'switchboard_cluster_worker_connections', help: 'Live connections in each worker\'s connection table.', type: 'gauge', samples: perWorker },
    { name: 'switchboard_cluster_workers_replaced_total', help: 'Workers that exited unplanned and were replaced.', type: 'counter', samples: [{ labels: {}, value: replaced }] },
    { name: 'switchboard_cluster_scrape_missing_workers', help: 'Workers that did not answer this scrape in time (their series are missing from the sums).', type: 'gauge', samples: [{ labels: {}, value: missing.length }] },
  ];
}
