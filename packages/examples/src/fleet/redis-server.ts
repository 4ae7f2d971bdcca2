/**
 * A throwaway redis-server for the fleet example, as test/helpers/redis.ts starts one: a free port picked up front
 * (redis-server refuses `--port 0`), no persistence, a temporary directory, ready once it answers PING.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnOwned, type OwnedChild } from './child';

/** The binary; `REDIS_SERVER` overrides the one on PATH. */
const REDIS_SERVER = process.env['REDIS_SERVER'] || 'redis-server';
/** How long redis-server has to answer PING once spawned, in ms. */
const START_TIMEOUT = 10_000;
/** How often readiness is polled, in ms. */
const POLL_INTERVAL = 25;
/** Attempts when another process takes the free port between our check and redis-server's bind. */
const PORT_ATTEMPTS = 3;

export interface LocalRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly process: OwnedChild;
  /** Stops the process and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

async function answersPing(port: number): Promise<boolean> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  try {
    await once(socket, 'connect');
    socket.write('PING\r\n');
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    return chunk.toString().startsWith('+PONG');
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

async function startOnce(): Promise<LocalRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-fleet-redis-'));
  let child: OwnedChild;
  try {
    child = await spawnOwned('redis-server', REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = async (): Promise<void> => {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT;
  while (!(await answersPing(port))) {
    if (!child.isRunning() || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port}:\n${child.output()}`);
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL));
  }
  return { url: `redis://127.0.0.1:${port}`, port, process: child, stop };
}

/** Starts redis-server on 127.0.0.1 and resolves once it answers PING; rejects if it is not installed. */
export async function startLocalRedis(): Promise<LocalRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      lastError = err;
      if (err instanceof Error && err.message.startsWith('cannot start')) break;
    }
  }
  throw lastError;
}
