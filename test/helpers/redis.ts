/**
 * A throwaway redis-server for integration tests (TOOLCHAIN.md pitfall 7): a free port picked up front
 * (`--port 0` is refused), no persistence, its own temporary directory, readiness by PING, stopped by
 * its own PID. Also a tiny RESP client so tests can ask Redis questions without a client library.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The binary; `REDIS_SERVER` overrides the one on PATH. */
const REDIS_SERVER = process.env['REDIS_SERVER'] || 'redis-server';
/** How long redis-server has to answer PING after it was spawned, in ms. */
const START_TIMEOUT = 10_000;
/** How long redis-server has to exit after SIGTERM before it gets SIGKILL, in ms. */
const STOP_TIMEOUT = 5000;
/** How often readiness is polled, in ms. */
const POLL_INTERVAL = 25;
/** Attempts when another process takes the free port between our check and redis-server's bind. */
const PORT_ATTEMPTS = 3;
/** Output kept for error messages, in characters. */
const MAX_OUTPUT = 4000;

/** True when redis-server runs on this machine. */
export function hasRedisServer(): boolean {
  const result = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

const IS_CI = process.env['CI'] === 'true';
const MISSING = `${REDIS_SERVER} is not installed (apt-get install -y redis-server; .ci/run installs it)`;

/**
 * `describe` for suites that need redis-server. Locally a missing redis-server skips the suite with a
 * printed note; with `CI=true` the suite runs and {@link startRedisServer} fails it, so a broken install
 * step in CI cannot hide behind a skip.
 */
export function describeWithRedis(name: string, fn: () => void): void {
  if (hasRedisServer() || IS_CI) {
    describe(name, fn);
    return;
  }
  console.warn(`skipping "${name}": ${MISSING}. CI=true turns this skip into a failure.`);
  describe.skip(name, fn); // reason: off CI, redis-server is not installed; these tests need a real server, never a fake
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** The temporary directory it runs in; removed by `stop()`. */
  readonly dir: string;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  /** SIGTERM to its PID, SIGKILL after {@link STOP_TIMEOUT}; then removes its directory. Idempotent. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True while a process with this PID exists (signal 0 only checks). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A reply of the RESP2 protocol. */
export type RespValue = string | number | null | RespValue[] | RespError;

export class RespError extends Error {
  override readonly name = 'RespError';
}

/** Parses one RESP2 reply from `buf` at `at`; `undefined` if the buffer does not hold all of it yet. */
function parseReply(buf: Buffer, at: number): { value: RespValue; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', at);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RespError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length === -1) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count === -1) return { value: null, end: next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos);
        if (item === undefined) return undefined;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/** Sends one command on a fresh connection and resolves with the reply (a `RespError` for `-ERR`). */
export async function redisCommand(port: number, ...args: string[]): Promise<RespValue> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  try {
    await once(socket, 'connect');
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    let buf = Buffer.alloc(0);
    for await (const chunk of socket) {
      buf = Buffer.concat([buf, chunk as Buffer]);
      const reply = parseReply(buf, 0);
      if (reply !== undefined) return reply.value;
    }
    throw new Error(`redis at port ${port} closed the connection before replying to ${args[0]}`);
  } finally {
    socket.destroy();
  }
}

async function waitForPing(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING:\n${output()}`);
    }
    try {
      if ((await redisCommand(port, 'PING')) === 'PONG') return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() - start > START_TIMEOUT) throw new Error(`redis-server did not answer PING on port ${port} within ${START_TIMEOUT} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL));
  }
}

async function spawnOnce(requestedPort: number | undefined): Promise<RedisServer> {
  const port = requestedPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-redis-'));
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-MAX_OUTPUT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawned !== undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot start ${REDIS_SERVER}: ${spawned.message}`, { cause: spawned });
  }
  const pid = child.pid!;
  // A test run that dies without stop() must not leave a redis-server behind.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, STOP_TIMEOUT);
        });
        await Promise.race([exited, killed]);
        clearTimeout(timer);
        await exited;
      }
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    await waitForPing(port, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, url: `redis://127.0.0.1:${port}`, pid, dir, exited, stop };
}

export interface RedisServerOptions {
  /** Listen on this port (to restart a stopped server where its clients look for it); default a free one. */
  readonly port?: number;
}

/**
 * Starts a redis-server on 127.0.0.1 (a free port unless `port` is given) and resolves once it answers
 * PING. Throws a clear error if redis-server is not installed (which, under {@link describeWithRedis},
 * only happens in CI).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!hasRedisServer()) throw new Error(`${MISSING}${IS_CI ? '; CI=true requires it' : ''}`);
  if (options.port !== undefined) return spawnOnce(options.port);
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await spawnOnce(undefined);
    } catch (err) {
      // Most likely the port was taken between freePort() and redis-server's bind; try another.
      lastError = err;
    }
  }
  throw lastError;
}
