/**
 * The `npm run start:fleet` example: the architecture of docs/deployment.md on one machine.
 *
 * ```
 * clients -> HAProxy (TCP, roundrobin, send-proxy-v2) -> Switchboard sb-a | sb-b (ip-hash) -> node-1..3 <-> Redis
 * ```
 *
 * HAProxy balances TCP connections over two Switchboards and tells each one who the client is with a PROXY v2
 * header; the Switchboards believe that header from HAProxy's address only, and place each WebSocket by a hash of
 * the client's address, so whichever Switchboard a client reaches it lands on the same chat node. The nodes share
 * messages over Redis pub/sub (the chat example). Everything listens on loopback; HAProxy, redis-server and the
 * Switchboards (the `switchboard` command) are child processes, the chat nodes live in this process.
 *
 * `PORT` (default 8080; 0 picks a free one) is HAProxy's port. `REDIS_URL` uses a running Redis instead of starting
 * a throwaway redis-server; `HAPROXY` and `REDIS_SERVER` name the binaries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChatNode, type ChatNode } from './chat/node';
import { DEFAULT_CHANNEL } from './chat/protocol';
import { startHaproxy, type RunningHaproxy } from './fleet/haproxy';
import { startLocalRedis, type LocalRedis } from './fleet/redis-server';
import { startSwitchboard, type SwitchboardProcess } from './fleet/switchboard-process';
import { stopOnSignals } from './shutdown';

export { haproxyConfig, serverStats, type ServerStat } from './fleet/haproxy';
export type { ConnectionRow, SwitchboardProcess } from './fleet/switchboard-process';

const DEFAULT_PORT = 8080;
/**
 * The local address HAProxy connects to the Switchboards from, and the only one they trust for PROXY headers.
 * Any other 127.0.0.x (a client that reaches a Switchboard directly) is not believed.
 */
export const HAPROXY_SOURCE = '127.0.0.2';
const SWITCHBOARD_NAMES = ['sb-a', 'sb-b'] as const;
const NODE_COUNT = 3;
/** HAProxy's check period per Switchboard, in ms; with {@link CHECK_FALL} a dead one is out within about a second. */
const CHECK_INTERVAL = 500;
const CHECK_FALL = 2;
const CHECK_RISE = 2;
/** How long a stopping Switchboard lets its WebSockets close (1001), in ms. */
const CLOSE_TIMEOUT = 2000;
/** Each Switchboard probes each node's `/healthz` (503 while the node cannot reach Redis) this often, in ms... */
const NODE_CHECK_INTERVAL = 2000;
/** ...with this deadline per probe, in ms... */
const NODE_CHECK_TIMEOUT = 1000;
/** ...and takes a node out after this many failures in a row. */
const NODE_CHECK_FALL = 2;

export interface FleetOptions {
  /** HAProxy's port on 127.0.0.1; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** A Redis to share messages through; default: a throwaway redis-server started (and stopped) by the fleet. */
  readonly redisUrl?: string;
  /** Receives one line per event; default `console.log`. */
  readonly log?: (line: string) => void;
}

export interface Fleet {
  /** `http://127.0.0.1:<HAProxy's port>`: the one public address. */
  readonly url: string;
  readonly port: number;
  readonly haproxy: RunningHaproxy;
  /** `sb-a` and `sb-b`, in HAProxy's order. */
  readonly switchboards: readonly SwitchboardProcess[];
  /** `node-1` … `node-3`: the Switchboards' backend ids. */
  readonly nodes: readonly ChatNode[];
  readonly redisUrl: string;
  /** Temporary directory of haproxy.cfg, the stats socket and the Switchboards' config files; removed by close(). */
  readonly dir: string;
  /** Stops HAProxy, the Switchboards (draining with 1001), the nodes and Redis if it started it; removes `dir`. Idempotent. */
  close(): Promise<void>;
}

/** Runs every step even when one fails, then rethrows the first failure. */
async function stopAll(steps: readonly (() => Promise<void>)[]): Promise<void> {
  const results = await Promise.allSettled(steps.map((step) => step()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * Starts Redis (unless given one), three chat nodes, two Switchboards and HAProxy, and resolves once HAProxy
 * listens and has seen both Switchboards pass a health check. On any failure it stops what it started and rejects.
 *
 * @example
 * ```ts
 * const fleet = await startFleet({ port: 0 });
 * console.log(`chat on ${fleet.url}`);
 * await fleet.close();
 * ```
 */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-fleet-'));
  // Stopped in reverse order of starting: the public port first, Redis last.
  const stops: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`stop failed: ${String(err)}`));
    })();
    return closing;
  };
  try {
    let redisUrl = options.redisUrl;
    if (redisUrl === undefined) {
      const redis: LocalRedis = await startLocalRedis();
      stops.push(() => redis.stop());
      redisUrl = redis.url;
    }
    const names = Array.from({ length: NODE_COUNT }, (_, i) => `node-${i + 1}`);
    const nodes: ChatNode[] = [];
    stops.push(() => stopAll(nodes.map((n) => () => n.close())));
    for (const name of names) nodes.push(await startChatNode({ name, redisUrl, channel: DEFAULT_CHANNEL, log }));

    const switchboards: SwitchboardProcess[] = [];
    stops.push(() => stopAll(switchboards.map((s) => () => s.stop())));
    const started = await Promise.allSettled(
      SWITCHBOARD_NAMES.map((name) =>
        startSwitchboard({
          name,
          dir,
          onLine: (line) => log(`${name}: ${line}`),
          options: {
            // Same ids in the same order on both: ip-hash tables are built from the ids, so both pick alike.
            backends: nodes.map((n) => ({ url: n.url, id: n.name })),
            strategy: 'ip-hash',
            proxyProtocol: true,
            trustProxy: [HAPROXY_SOURCE],
            closeTimeout: CLOSE_TIMEOUT,
            healthCheck: { path: '/healthz', interval: NODE_CHECK_INTERVAL, timeout: NODE_CHECK_TIMEOUT, fall: NODE_CHECK_FALL },
          },
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') switchboards.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;

    const haproxy = await startHaproxy({
      port: options.port ?? DEFAULT_PORT,
      dir,
      servers: switchboards.map((s) => ({ name: s.name, port: s.port, adminPort: s.adminPort })),
      sourceAddress: HAPROXY_SOURCE,
      checkInterval: CHECK_INTERVAL,
      checkFall: CHECK_FALL,
      checkRise: CHECK_RISE,
      onLog: (line) => log(`haproxy: ${line}`),
    });
    stops.push(() => haproxy.stop());
    const url = `http://127.0.0.1:${haproxy.port}`;
    log(`HAProxy on ${url} -> ${switchboards.map((s) => `${s.name} (admin ${s.adminUrl})`).join(', ')} -> ${names.join(', ')}, Redis ${redisUrl}`);
    return { url, port: haproxy.port, haproxy, switchboards, nodes, redisUrl, dir, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function main(): Promise<void> {
  const raw = process.env['PORT'];
  const port = raw === undefined || raw === '' ? DEFAULT_PORT : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be an integer from 0 to 65535, got ${raw}`);
    process.exitCode = 1;
    return;
  }
  let fleet: Fleet;
  try {
    fleet = await startFleet({ port, ...(process.env['REDIS_URL'] ? { redisUrl: process.env['REDIS_URL'] } : {}) });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    if (err instanceof Error && err.message.includes('cannot start haproxy')) console.error('Install HAProxy (apt-get install haproxy) or point HAPROXY at its binary.');
    if (err instanceof Error && err.message.includes('cannot start redis-server')) console.error('Install redis-server (apt-get install redis-server) or point REDIS_URL at a running Redis.');
    process.exitCode = 1;
    return;
  }
  console.log(`Open ${fleet.url} in two browser tabs; kill a Switchboard (kill -9 ${fleet.switchboards[0]!.process.pid}) and watch the page reconnect. Ctrl-C stops.`);
  stopOnSignals(() => fleet.close());
}

if (require.main === module) void main();
