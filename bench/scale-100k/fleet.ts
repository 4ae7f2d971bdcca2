/**
 * The server side of a scale-100k run: echo backends in several processes, and Switchboard started the way
 * an operator starts it, by its CLI (`switchboard --config FILE --workers N`, admin API on its own port),
 * each process under `ulimit -n`. The proxy's processes (primary + workers) are found under the CLI's pid,
 * so RSS and descriptors can be summed over all of them and every one is killed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from '../lib/external';
import { forkChild, spawnChild, stopChild, waitForMessage, type Child } from '../lib/children';
import type { Message } from '../lib/ipc';
import { childPids, fdCount, rssBytes } from '../lib/proc';
import { sleep } from '../lib/quiet';
import { REPO } from '../lib/repo';

export interface Backends {
  children: Child[];
  urls: string[];
}

export async function startBackends(count: number, nofile: number): Promise<Backends> {
  const children: Child[] = [];
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const b = forkChild(`backend-${i}`, join(__dirname, '..', 'suite', 'backend.js'), [], [], {}, nofile);
    children.push(b);
    urls.push(`http://127.0.0.1:${(await waitForMessage<Message & { port: number }>(b, 'ready', 15_000)).port}`);
  }
  return { children, urls };
}

export interface ProxyFleetOptions {
  /** 0: no `--workers` flag (one process, the pre-cluster CLI). */
  workers: number;
  backends: string[];
  sourceAddresses: string[];
  dataPlane: 'auto' | 'js' | 'native';
  nofile: number;
  /** Node flags for the primary; cluster workers inherit them. */
  execArgv: string[];
}

export interface ProcSample {
  pid: number;
  role: 'primary' | 'worker';
  rss: number;
  fds: number;
}

export interface ProxyFleet {
  child: Child;
  port: number;
  adminPort: number;
  /** The primary and its live workers, read from /proc now (`fds` -1 unless `withFds`: counting them reads every /proc/<pid>/fd). */
  sample(withFds?: boolean): ProcSample[];
  /** Pids of the live workers. */
  workerPids(): number[];
  /** JSON admin call on the primary (bearer token, JSON body). */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Sends a signal to the primary (the CLI's SIGHUP / SIGUSR2 handlers). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export const CLI_MAIN = join(REPO, 'packages', 'proxy', 'dist', 'cli', 'main.js');

export async function startProxyFleet(o: ProxyFleetOptions): Promise<ProxyFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-100k-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const [port, adminPort] = [await freePort(), await freePort()];
  const token = randomBytes(16).toString('hex');
  const config = {
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    adminToken: token,
    backends: o.backends,
    sourceAddresses: o.sourceAddresses,
    dataPlane: o.dataPlane,
  };
  const file = join(dir, 'switchboard.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const args = [...o.execArgv, CLI_MAIN, '--config', file, ...(o.workers > 0 ? ['--workers', String(o.workers)] : [])];
  const child = spawnChild('switchboard', process.execPath, args, 'SIGTERM', o.nofile);

  const workerPids = (): number[] => childPids(child.pid);
  const sample = (withFds = true): ProcSample[] => {
    const out: ProcSample[] = [];
    const workers = o.workers > 0 ? workerPids() : [];
    // Kept current so a hard kill also reaches workers (never a stale pid that another process may reuse).
    child.extraPids = workers;
    for (const [pid, role] of [[child.pid, 'primary'] as const, ...workers.map((w) => [w, 'worker'] as const)]) {
      const rss = rssBytes(pid);
      const fds = withFds ? fdCount(pid) : -1;
      if (rss !== undefined && fds !== undefined) out.push({ pid, role, rss, fds });
    }
    return out;
  };
  const admin = (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          host: '127.0.0.1',
          port: adminPort,
          method,
          path,
          agent: false,
          timeout: 30_000,
          headers: { authorization: `Bearer ${token}`, ...(data !== undefined && { 'content-type': 'application/json', 'content-length': data.length }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`admin ${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(data);
    });
  const stop = async (): Promise<void> => {
    sample();
    await stopChild(child, 10_000);
    removeDir();
    process.removeListener('exit', removeDir);
  };
  try {
    let ready = false;
    for (let i = 0; i < 600 && !ready; i++) {
      if (child.proc.exitCode !== null) throw new Error(`switchboard exited with code ${child.proc.exitCode}`);
      ready = (await canConnect(port)) && (await canConnect(adminPort)) && (o.workers === 0 || workerPids().length >= o.workers);
      if (!ready) await sleep(100);
    }
    if (!ready) throw new Error(`switchboard (${o.workers} workers) not ready within 60 s`);
    return { child, port, adminPort, sample, workerPids, admin, signal: (sig) => child.proc.kill(sig), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
