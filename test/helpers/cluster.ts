import { resolve } from 'node:path';
import { createCluster, type Cluster, type ClusterOptions, type ProxyOptions } from '@switchboard/proxy';
import type { Resources } from './servers';

/** The worker script the issue-14 tests fork (runs the built dist/, so build before). */
export const CLUSTER_WORKER = resolve(__dirname, '../fixtures/cluster-worker.js');

/** Whether a process is still alive. */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a cluster whose workers run {@link CLUSTER_WORKER} with `options` (JSON only); `res` closes it
 * at clean-up (WebSockets get 1001) and checks that no worker process outlives it.
 */
export async function startCluster(res: Resources, options: ProxyOptions, cluster: Omit<ClusterOptions, 'exec'>): Promise<Cluster> {
  const handle = await createCluster(options, {
    listen: { port: 0, host: '127.0.0.1' },
    ...cluster,
    exec: CLUSTER_WORKER,
    args: [],
    env: { ...cluster.env, SWITCHBOARD_TEST_PROXY_OPTIONS: JSON.stringify(options) },
  });
  if (handle.role !== 'primary') throw new Error('the test process must be the primary');
  res.add(async () => {
    const pids = handle.workers().map((w) => w.pid);
    await handle.close({ timeout: 2000 });
    for (const pid of pids) if (isAlive(pid)) throw new Error(`worker pid ${String(pid)} outlived close()`);
  });
  return handle;
}
