/**
 * `switchboard --workers N`: the bin as a cluster. The primary validates the config, forks the
 * workers (which run this same bin and build their proxies from the same file), serves `--admin` for
 * the whole machine, and owns the signals:
 * - SIGHUP (and a change of the config file) reloads: the primary validates the file and logs the
 *   plan once, then every worker re-reads it and applies the live changes (backends, weights);
 * - SIGUSR2 is a rolling restart: workers replaced one at a time (WebSockets get 1012), each new one
 *   reading the file afresh, which is how changes that need a restart take effect;
 * - SIGTERM/SIGINT drain every worker (1001) within closeTimeout; a second one exits at once.
 * Workers ignore SIGINT and SIGHUP (a terminal's Ctrl-C reaches the whole process group; the primary
 * coordinates) and drain themselves on SIGTERM.
 * @internal
 * @module
 */
import cluster from 'node:cluster';
import { createCluster, type Cluster, type ClusterWorker } from '../cluster/index';
import { CliError, type CliArgs } from './args';
import { startAdmin, type AdminListener } from './admin';
import { loadSettings, type Settings } from './config';
import { describeListenError } from './listen-error';
import { applyReload, planReload, rereadSettings, runningAfter } from './reload';
import { watchConfig } from './watch';
import { stopOnSignals } from './stop-signals';

type Log = (line: string) => void;

function clusterOptions(settings: Settings): { workers: number; listen: { port: number; host: string } } {
  return { workers: settings.workers ?? 1, listen: { port: settings.listen.port, host: settings.listen.host } };
}

/** Runs the bin as the primary or as a worker, whichever this process is. */
export function runClusterMode(args: CliArgs, settings: Settings, log: Log): Promise<void> {
  return cluster.isPrimary ? runPrimary(args, settings, log) : runWorker(args, settings);
}

async function runWorker(args: CliArgs, first: Settings): Promise<void> {
  let settings = first;
  let handle: ClusterWorker;
  try {
    handle = (await createCluster(settings.options, clusterOptions(settings))) as ClusterWorker;
  } catch {
    // The primary got the reason over IPC and says it once.
    process.exit(1);
  }
  handle.proxy.on('error', () => undefined);
  handle.on('reload', () => {
    let next: Settings;
    try {
      next = loadSettings(args);
    } catch {
      return; // the primary validated the file and logged the rejection
    }
    const plan = planReload(settings, next);
    settings = runningAfter(settings, next);
    // The primary logged the plan; a worker speaks only when a change fails.
    applyReload(handle.proxy, { changes: plan.changes, restartNeeded: [] }, 'reload', (line) => {
      if (line.includes(' failed')) process.stderr.write(`switchboard[worker ${handle.id}]: ${line}\n`);
    });
  });
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', () => void handle.proxy.close({ timeout: settings.resolved.closeTimeout }).finally(() => process.exit(0)));
}

async function runPrimary(args: CliArgs, first: Settings, log: Log): Promise<void> {
  let settings = first;
  const listenAt = `${settings.listen.host}:${settings.listen.port}`;
  const machine = (await createCluster(settings.options, clusterOptions(settings)).catch((err: NodeJS.ErrnoException) => {
    throw describeListenError(err, 'for traffic', listenAt);
  })) as Cluster;
  machine.on('workerExit', (id, code, signal, replaced) => {
    if (replaced) log(`worker ${id} exited (code ${String(code)}, signal ${String(signal)}): replacing it`);
  });
  let adminListener: AdminListener | undefined;
  let adminNote = '';
  if (settings.admin !== undefined) {
    const at = `${settings.admin.host}:${settings.admin.port}`;
    adminListener = await startAdmin(machine, settings.admin, settings.adminToken).catch(async (err: NodeJS.ErrnoException) => {
      await machine.close({ timeout: 0 });
      throw err instanceof CliError ? err : describeListenError(err, 'for the admin API', at);
    });
    adminNote = `, admin on http://${adminListener.address.address}:${adminListener.address.port}`;
  }
  const address = machine.address;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const n = settings.resolved.backends.length;
  const w = machine.workers().length;

  const reload = (why: string): void => {
    const reread = rereadSettings(args, settings, why, log);
    if (reread === undefined) return;
    const { plan } = reread;
    settings = reread.settings;
    // The primary has no proxy: it logs the plan once, the workers apply it.
    for (const change of plan.changes) log(`reload (${why}): ${change.describe}`);
    if (plan.restartNeeded.length > 0) log(`reload (${why}): changed, needs a rolling restart (SIGUSR2) to take effect: ${plan.restartNeeded.join(', ')}`);
    if (plan.changes.length === 0 && plan.restartNeeded.length === 0) log(`reload (${why}): no changes`);
    machine.reload().catch((err: unknown) => log(`reload (${why}) failed in a worker: ${(err as Error).message}`));
  };
  const stopWatching = settings.file === undefined ? () => undefined : watchConfig(settings.file, () => reload('file changed'), log);
  process.on('SIGHUP', () => reload('SIGHUP'));

  process.on('SIGUSR2', () => {
    try {
      settings = loadSettings(args);
    } catch (err) {
      return log(`rolling restart refused: the config file would not start a worker: ${(err as Error).message}`);
    }
    log(`SIGUSR2: rolling restart of ${machine.workers().length} workers`);
    const started = Date.now();
    machine.rollingRestart().then(
      () => log(`rolling restart done in ${Date.now() - started} ms: workers ${machine.workers().map((x) => x.id).join(', ')}`),
      (err: unknown) => log(`rolling restart stopped: ${(err as Error).message}`),
    );
  });

  stopOnSignals({
    log,
    timeout: () => settings.resolved.closeTimeout,
    draining: () => `draining ${machine.workers().length} workers`,
    // The primary also waits for its workers to exit after their own close.
    backstopMargin: 10_000,
    beforeClose: stopWatching,
    close: (timeout) => Promise.all([machine.close({ timeout }), adminListener?.close()]),
    force: () => {
      for (const x of machine.workers()) if (x.pid !== undefined) process.kill(x.pid, 'SIGKILL');
    },
  });
  // The ready line comes last: whoever reads it (a test, a supervisor) may send SIGHUP at once, and a SIGHUP
  // before its handler is installed would end the process.
  process.stdout.write(`switchboard listening on http://${host}:${address.port} (${n} backend${n === 1 ? '' : 's'}, ${settings.options.strategy ?? 'round-robin'}, ${w} worker${w === 1 ? '' : 's'}${adminNote})\n`);
}
