/**
 * The `switchboard` bin, run as a child process from its bin link target with a config file:
 * it proxies, reloads backends and weights live, rejects bad files precisely, drains on SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import type { WebSocket } from 'ws';
import { configDir, spawnCli } from './helpers/cli';
import { httpRequest } from './helpers/http';
import { listenLocal, openWs, Resources, roundTrip, startBackend, type TestBackend } from './helpers/servers';

const ROOT = resolve(__dirname, '..');

beforeAll(() => {
  // The bin runs dist/, so build it (incremental: a no-op when up to date).
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/proxy'], { cwd: ROOT, stdio: 'inherit' });
}, 60_000);

const res = new Resources();
afterEach(() => res.cleanup());

function backendSpec(b: TestBackend, weight?: number): { id: string; url: string; weight?: number } {
  return { id: b.id, url: b.url, ...(weight !== undefined && { weight }) };
}

/** Opens WebSockets through the proxy until one lands on each of `ids`; returns them by backend id. */
async function wsOn(url: string, ids: readonly string[]): Promise<Map<string, WebSocket>> {
  const found = new Map<string, WebSocket>();
  for (let i = 0; i < 10 && found.size < ids.length; i++) {
    const ws = await openWs(res, url);
    const id = await roundTrip(ws, 'whoami');
    if (ids.includes(id) && !found.has(id)) found.set(id, ws);
    else ws.close();
  }
  expect([...found.keys()].sort()).toEqual([...ids].sort());
  return found;
}

test('--help and --version answer and exit 0', async () => {
  const help = spawnCli(res, ['--help']);
  expect((await help.exited).code).toBe(0);
  expect(help.stdout).toMatch(/--listen HOST:PORT/);
  expect(help.stdout).toMatch(/--backend URL/);
  const version = spawnCli(res, ['--version']);
  expect((await version.exited).code).toBe(0);
  expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
});

test('started with a config file, it prints one start line and proxies HTTP and WebSockets', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', backends: [backendSpec(a), backendSpec(b)] });
  const cli = spawnCli(res, ['--config', cfg.file]);
  const port = await cli.listeningPort();
  expect(cli.stdout).toMatch(/^switchboard listening on http:\/\/127\.0\.0\.1:\d+ \(2 backends, round-robin\)\n$/);

  const answers = await Promise.all([1, 2].map(() => httpRequest(`http://127.0.0.1:${port}/hello`)));
  expect(answers.map((r) => r.status)).toEqual([200, 200]);
  expect(answers.map((r) => (JSON.parse(r.body) as { id: string }).id).sort()).toEqual(['a', 'b']);

  const ws = await openWs(res, `ws://127.0.0.1:${port}/chat`);
  expect(await roundTrip(ws, 'hello')).toBe('hello');
  ws.close();
  await once(ws, 'close');
});

test('flags override the file: --backend replaces its backends', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', backends: [backendSpec(a)] });
  const cli = spawnCli(res, ['--config', cfg.file, '--backend', b.url]);
  const port = await cli.listeningPort();
  expect(cli.stdout).toMatch(/\(1 backend, round-robin\)/);
  const r = await httpRequest(`http://127.0.0.1:${port}/`);
  expect((JSON.parse(r.body) as { id: string }).id).toBe('b');
});

test('a changed file adds a backend, drains a removed one and changes a weight without dropping a live WebSocket', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const c = await startBackend(res, 'c');
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', strategy: 'weighted-round-robin', drainTimeout: 2000, backends: [backendSpec(a), backendSpec(b)] });
  const cli = spawnCli(res, ['--config', cfg.file]);
  const port = await cli.listeningPort();
  const live = await wsOn(`ws://127.0.0.1:${port}/`, ['a', 'b']);
  const onA = live.get('a')!;
  const onB = live.get('b')!;
  const bClosed = once(onB, 'close');

  cfg.write({ listen: '127.0.0.1:0', strategy: 'weighted-round-robin', drainTimeout: 2000, backends: [backendSpec(a, 3), backendSpec(c)] });
  await cli.waitForOutput(/reload \(file changed\): backend c added/);
  await cli.waitForOutput(/reload \(file changed\): backend a weight 1 -> 3/);
  await cli.waitForOutput(/reload \(file changed\): backend b draining, then removed/);

  // b's WebSocket is drained with 1012 (Service Restart); a's stays open and keeps working.
  const [code] = (await bClosed) as [number];
  expect(code).toBe(1012);
  await cli.waitForOutput(/backend b draining, then removed: done/);
  expect(await roundTrip(onA, 'still here')).toBe('still here');

  // New traffic: weight 3 to 1 between a and c, none to b.
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) ids.push((JSON.parse((await httpRequest(`http://127.0.0.1:${port}/`)).body) as { id: string }).id);
  expect(ids.filter((id) => id === 'a')).toHaveLength(6);
  expect(ids.filter((id) => id === 'c')).toHaveLength(2);
  expect(cli.child.exitCode).toBeNull();
});

test('SIGHUP reloads the file; options that cannot change live are reported as needing a restart', async () => {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', backends: [backendSpec(a)] });
  const cli = spawnCli(res, ['--config', cfg.file]);
  const port = await cli.listeningPort();
  const ws = await openWs(res, `ws://127.0.0.1:${port}/`);
  expect(await roundTrip(ws, 'whoami')).toBe('a');

  cfg.write({ listen: '127.0.0.1:0', connectTimeout: 1234, backends: [backendSpec(a), backendSpec(b)] });
  cli.child.kill('SIGHUP');
  await cli.waitForOutput(/reload \(SIGHUP\): backend b added/);
  await cli.waitForOutput(/needs a restart to take effect: connectTimeout/);
  expect(await roundTrip(ws, 'whoami')).toBe('a');
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add((JSON.parse((await httpRequest(`http://127.0.0.1:${port}/`)).body) as { id: string }).id);
  expect([...seen].sort()).toEqual(['a', 'b']);
});

test('a bad file on reload is rejected and the proxy keeps its previous config', async () => {
  const a = await startBackend(res, 'a');
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', backends: [backendSpec(a)] });
  const cli = spawnCli(res, ['--config', cfg.file]);
  const port = await cli.listeningPort();
  cfg.write('{ "backends": [ ');
  cli.child.kill('SIGHUP');
  await cli.waitForOutput(/reload \(SIGHUP\) rejected, still running the previous config: config file .*switchboard\.json is not valid JSON/);
  expect((await httpRequest(`http://127.0.0.1:${port}/`)).status).toBe(200);
});

test('a bad config file exits 1 with the file, the path inside it and what was expected', async () => {
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', backends: ['http://127.0.0.1:1', 'http://127.0.0.1:2', { url: 'http://127.0.0.1:3', weight: 0 }] });
  const cli = spawnCli(res, ['--config', cfg.file]);
  expect((await cli.exited).code).toBe(1);
  expect(cli.stderr).toContain(cfg.file);
  expect(cli.stderr).toContain('backends[2].weight');
  expect(cli.stderr).toMatch(/must be a positive integer, got 0/);
  expect(cli.stdout).toBe('');

  cfg.write({ listen: '127.0.0.1:0', backends: ['http://127.0.0.1:1'], conectTimeout: 5 });
  const typo = spawnCli(res, ['--config', cfg.file]);
  expect((await typo.exited).code).toBe(1);
  expect(typo.stderr).toMatch(/switchboard\.json: conectTimeout is not an option \(expected one of .*connectTimeout/);
});

test('--admin serves the admin API on its own address, behind --admin-token', async () => {
  const a = await startBackend(res, 'a');
  const cli = spawnCli(res, ['--backend', a.url, '--listen', '127.0.0.1:0', '--admin', '0', '--admin-token', 'sekrit']);
  const [, port] = (await cli.waitForOutput(/admin on http:\/\/127\.0\.0\.1:(\d+)/)) as RegExpMatchArray;
  const url = `http://127.0.0.1:${port}/api/backends`;
  expect((await httpRequest(url)).status).toBe(401);
  const ok = await httpRequest(url, { headers: { authorization: 'Bearer sekrit' } });
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.body).backends.map((b: { id: string }) => b.id)).toEqual([new URL(a.url).host]);
});

test('SIGTERM drains: a live WebSocket gets 1001 and the process exits 0', async () => {
  const a = await startBackend(res, 'a');
  const cli = spawnCli(res, ['--listen', '127.0.0.1:0', '--backend', a.url]);
  const port = await cli.listeningPort();
  const ws = await openWs(res, `ws://127.0.0.1:${port}/`);
  expect(await roundTrip(ws, 'ping')).toBe('ping');
  const closed = once(ws, 'close');
  cli.child.kill('SIGTERM');
  const [code] = (await closed) as [number];
  expect(code).toBe(1001);
  expect(await cli.exited).toEqual({ code: 0, signal: null });
  expect(cli.stderr).toMatch(/SIGTERM: draining/);
});

test('a second signal exits at once, without waiting for the drain', async () => {
  // A backend that never answers keeps an HTTP request in flight, so the first SIGTERM waits.
  const held = await startBackend(res, 'held', () => undefined);
  const cfg = configDir(res);
  cfg.write({ listen: '127.0.0.1:0', closeTimeout: 20_000, headersTimeout: 60_000, backends: [held.url] });
  const cli = spawnCli(res, ['--config', cfg.file]);
  const port = await cli.listeningPort();
  const pending = httpRequest(`http://127.0.0.1:${port}/slow`).catch((err: Error) => err);
  await new Promise((r) => setTimeout(r, 200));
  cli.child.kill('SIGTERM');
  await cli.waitForOutput(/SIGTERM: draining/);
  const start = Date.now();
  cli.child.kill('SIGINT');
  expect((await cli.exited).code).toBe(1);
  expect(Date.now() - start).toBeLessThan(2000);
  expect(cli.stderr).toMatch(/SIGINT again: exiting now/);
  await pending;
});

test('a port already in use gives a clear message and exit code 1', async () => {
  const blocker = createServer();
  const port = await listenLocal(res, blocker);
  const cli = spawnCli(res, ['--listen', `127.0.0.1:${port}`, '--backend', 'http://127.0.0.1:1']);
  expect((await cli.exited).code).toBe(1);
  expect(cli.stderr).toMatch(new RegExp(`cannot listen for traffic on 127\\.0\\.0\\.1:${port}: address already in use`));
});
