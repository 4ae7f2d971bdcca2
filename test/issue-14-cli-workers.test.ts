/**
 * issue 14, workers on one machine: `switchboard --workers N` runs N proxy processes on one port;
 * the primary's --admin shows the whole machine, SIGHUP reloads every worker, SIGUSR2 restarts them
 * one at a time, SIGTERM stops them all. Real processes, sockets and ws clients.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { WebSocket } from 'ws';
import { configDir, spawnCli } from './helpers/cli';
import { httpRequest } from './helpers/http';
import { openWs, Resources, roundTrip, startBackend, waitFor, type TestBackend } from './helpers/servers';

const ROOT = resolve(__dirname, '..');

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/proxy'], { cwd: ROOT, stdio: 'inherit' });
}, 60_000);

const res = new Resources();
afterEach(() => res.cleanup());

const spec = (b: TestBackend): { id: string; url: string } => ({ id: b.id, url: b.url });

interface AdminConnection {
  readonly worker: number;
  readonly backend: string;
  readonly protocol: string;
}

async function adminJson<T>(adminPort: number, path: string): Promise<T> {
  const r = await httpRequest(`http://127.0.0.1:${adminPort}${path}`);
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as T;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('--workers 2: one port, connections held by both workers, the primary admin shows them all with their worker', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', strategy: 'least-connections', backends: [spec(a), spec(b)] });
  const cli = spawnCli(res, ['--workers', '2', '--config', cfg.file]);
  const port = await cli.listeningPort();
  expect(cli.stdout).toMatch(/\(2 backends, least-connections, 2 workers, admin on http:\/\/127\.0\.0\.1:(\d+)\)/);
  const adminPort = Number(/admin on http:\/\/127\.0\.0\.1:(\d+)/.exec(cli.stdout)![1]);

  const sockets: WebSocket[] = [];
  for (let i = 0; i < 6; i++) {
    const ws = await openWs(res, `ws://127.0.0.1:${port}/`);
    expect(await roundTrip(ws, 'ping')).toBe('ping');
    sockets.push(ws);
  }
  const { workers } = await adminJson<{ workers: { id: number; state: string; pid: number }[] }>(adminPort, '/api/workers');
  expect(workers.map((w) => w.state)).toEqual(['listening', 'listening']);
  const { connections, total } = await adminJson<{ total: number; connections: AdminConnection[] }>(adminPort, '/api/connections');
  expect(total).toBe(6);
  // node:cluster hands connections out round-robin: both workers hold some.
  expect(new Set(connections.map((c) => c.worker))).toEqual(new Set(workers.map((w) => w.id)));
  const { backends } = await adminJson<{ backends: { id: string; activeConnections: number }[] }>(adminPort, '/api/backends');
  expect(backends.reduce((sum, x) => sum + x.activeConnections, 0)).toBe(6);
  const metrics = (await httpRequest(`http://127.0.0.1:${adminPort}/metrics`)).body;
  expect(metrics).toMatch(/^switchboard_cluster_workers\{state="listening"\} 2$/m);

  for (const ws of sockets) ws.close();
  await Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? undefined : once(ws, 'close'))));
  cli.child.kill('SIGTERM');
  expect((await cli.exited).code).toBe(0);
  expect(cli.stderr).toMatch(/SIGTERM: draining 2 workers/);
  for (const w of workers) await waitFor(() => !isAlive(w.pid), 5000, `worker ${w.id} gone`);
});

test('SIGHUP reloads the file in every worker; SIGUSR2 replaces the workers one at a time', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', backends: [spec(a)] });
  const cli = spawnCli(res, ['--workers', '2', '--config', cfg.file]);
  const port = await cli.listeningPort();
  const adminPort = Number((await cli.waitForOutput(/admin on http:\/\/127\.0\.0\.1:(\d+)/))[1]);

  cfg.write({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', backends: [spec(a), spec(b)] });
  cli.child.kill('SIGHUP');
  await cli.waitForOutput(/reload \(SIGHUP\): backend b added/);
  const hasB = async (): Promise<boolean> => {
    const { backends } = await adminJson<{ backends: { id: string; byWorker: unknown[] }[] }>(adminPort, '/api/backends');
    return backends.find((x) => x.id === 'b')?.byWorker.length === 2;
  };
  for (let i = 0; i < 50 && !(await hasB()); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await hasB()).toBe(true);
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) seen.add((JSON.parse((await httpRequest(`http://127.0.0.1:${port}/`)).body) as { id: string }).id);
  expect([...seen].sort()).toEqual(['a', 'b']);

  const before = (await adminJson<{ workers: { id: number }[] }>(adminPort, '/api/workers')).workers.map((w) => w.id);
  const ws = await openWs(res, `ws://127.0.0.1:${port}/`);
  const closed = once(ws, 'close');
  cli.child.kill('SIGUSR2');
  await cli.waitForOutput(/rolling restart done/, 20_000);
  const [code] = (await closed) as [number];
  expect(code).toBe(1012);
  const after = (await adminJson<{ workers: { id: number; state: string }[] }>(adminPort, '/api/workers')).workers;
  expect(after.map((w) => w.state)).toEqual(['listening', 'listening']);
  expect(after.some((w) => before.includes(w.id))).toBe(false);
  expect((await httpRequest(`http://127.0.0.1:${port}/`)).status).toBe(200);

  cli.child.kill('SIGTERM');
  expect((await cli.exited).code).toBe(0);
});

test('--workers must be a positive integer', async () => {
  const a = await startBackend(res, 'a');
  for (const bad of ['0', '-1', 'two', '1.5']) {
    const cli = spawnCli(res, ['--backend', a.url, '--listen', '127.0.0.1:0', `--workers=${bad}`]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr).toMatch(/--workers: workers must be a positive integer/);
  }
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', workers: 'many', backends: [spec(a)] });
  const cli = spawnCli(res, ['--config', cfg.file]);
  expect((await cli.exited).code).toBe(1);
  expect(cli.stderr).toMatch(/config file .*: workers must be a positive integer, got "many"/);
});
