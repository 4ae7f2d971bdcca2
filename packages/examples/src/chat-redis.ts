/**
 * The `npm run start:chat` example: a chat served by several backend nodes behind one Switchboard
 * proxy, the nodes sharing every message through Redis pub/sub.
 *
 * An L7 balancer places each WebSocket on one node, so two users of one chat room are usually on
 * different nodes; a node only knows its own sockets. Each node therefore publishes what its
 * clients say on a Redis channel and delivers what the channel carries to its own clients.
 *
 * Start Redis first (`redis-server`), then `npm run start:chat` and open http://127.0.0.1:8080 in
 * two tabs. `REDIS_URL` (default `redis://127.0.0.1:6379`), `PORT` (default 8080, 0 picks a free
 * one) and `NODES` (default 3) change the setup. See docs/chat-example.md.
 */
import { createProxy, type Proxy, type SwitchboardError } from '@switchboard/proxy';
import { redactRedisUrl, startChatNode, type ChatNode } from './chat/node';
import { DEFAULT_CHANNEL } from './chat/protocol';
import { stopOnSignals } from './shutdown';

export type { ChatNode } from './chat/node';
export type { ChannelMessage, ServerFrame } from './chat/protocol';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 8080;
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_NODES = 3;
/** More nodes than this in one process is a mistake, not a demo. */
const MAX_NODES = 32;
/** How long `close()` lets the proxy's connections end cleanly, in ms. */
const CLOSE_TIMEOUT = 2000;
/** How often the proxy probes each node's `/healthz`, in ms. */
const HEALTH_CHECK_INTERVAL = 2000;
/** Deadline of one health probe, in ms. */
const HEALTH_CHECK_TIMEOUT = 1000;
/** Failed probes in a row that take a node out of rotation. */
const HEALTH_CHECK_FALL = 2;

export interface ChatOptions {
  /** Port for the proxy on 127.0.0.1; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** The Redis all nodes share. Default `redis://127.0.0.1:6379`. */
  readonly redisUrl?: string;
  /** How many chat nodes to start behind the proxy. Default 3. */
  readonly nodes?: number;
  /** The Redis channel the nodes publish to and subscribe to. Default `switchboard:chat`. */
  readonly channel?: string;
  /** Receives one line per event; default `console.log`. */
  readonly log?: (line: string) => void;
}

export interface Chat {
  /** The port the proxy listens on. */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly proxy: Proxy;
  /** The nodes, named `node-1` … `node-N` (their backend ids in the proxy). */
  readonly nodes: readonly ChatNode[];
  /** Closes the proxy (ending its connections with 1001), then the nodes and their Redis connections. Idempotent. */
  close(): Promise<void>;
}

async function closeAll(nodes: readonly ChatNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.close()));
}

/**
 * Starts `nodes` chat nodes, each subscribed to the Redis channel, and a proxy on 127.0.0.1:`port`
 * in front of them (least-connections, health-checked on `/healthz`). Resolves once everything
 * listens; if Redis cannot be reached or the port is taken it closes what it started and rejects.
 *
 * @example
 * ```ts
 * const chat = await startChat({ port: 0, redisUrl: 'redis://127.0.0.1:6379' });
 * console.log(`chat on ${chat.url}`);
 * await chat.close();
 * ```
 */
export async function startChat(options: ChatOptions = {}): Promise<Chat> {
  const log = options.log ?? ((line: string) => console.log(line));
  const redisUrl = options.redisUrl ?? DEFAULT_REDIS_URL;
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const count = options.nodes ?? DEFAULT_NODES;
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) throw new RangeError(`nodes must be an integer from 1 to ${MAX_NODES}, got ${String(count)}`);

  const names = Array.from({ length: count }, (_, i) => `node-${i + 1}`);
  const started = await Promise.allSettled(names.map((name) => startChatNode({ name, redisUrl, channel, log })));
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await closeAll(nodes);
    throw failed.reason;
  }

  const proxy = createProxy({
    backends: nodes.map((n) => ({ url: n.url, id: n.name })),
    // Chat sockets live for hours: balance what is open now, not what arrived.
    strategy: 'least-connections',
    closeTimeout: CLOSE_TIMEOUT,
    // A node that lost Redis cannot reach anyone else's users: take it out of rotation until it is back.
    healthCheck: { path: '/healthz', interval: HEALTH_CHECK_INTERVAL, timeout: HEALTH_CHECK_TIMEOUT, fall: HEALTH_CHECK_FALL },
  });
  const shownOnClose = new WeakSet<SwitchboardError>();
  proxy.on('connectionOpen', (c) => {
    if (c.protocol === 'websocket') log(`open  ${c.client.address}:${c.client.port} -> ${c.backend.id}`);
  });
  proxy.on('connectionClose', (c, reason) => {
    if (reason !== undefined) shownOnClose.add(reason);
    if (c.protocol === 'websocket') log(`close ${c.client.address}:${c.client.port} -> ${c.backend.id}${reason === undefined ? '' : ` ${reason.code}`}`);
  });
  proxy.on('backendStateChange', (backend, previous, reason) => log(`${backend.id}: ${previous} -> ${backend.state} (${reason})`));
  proxy.on('error', (err) => {
    if (!shownOnClose.has(err)) log(`refused ${err.clientAddress ?? '-'} ${err.code}: ${err.message}`);
  });

  let port: number;
  try {
    ({ port } = await proxy.listen({ port: options.port ?? DEFAULT_PORT, host: HOST }));
  } catch (err) {
    await proxy.destroy();
    await closeAll(nodes);
    throw err;
  }
  const url = `http://${HOST}:${port}`;
  log(`Switchboard chat on ${url} -> ${nodes.map((n) => n.name).join(', ')}, sharing messages on Redis ${redactRedisUrl(redisUrl)} channel ${channel}`);

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    proxy,
    nodes,
    close() {
      closing ??= (async () => {
        await proxy.close();
        await closeAll(nodes);
      })();
      return closing;
    },
  };
}

function intFromEnv(variable: string, fallback: number, min: number, max: number): number {
  const value = process.env[variable];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${variable} must be an integer from ${min} to ${max}, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  const redisUrl = process.env['REDIS_URL'] || DEFAULT_REDIS_URL;
  let chat: Chat;
  try {
    chat = await startChat({ port: intFromEnv('PORT', DEFAULT_PORT, 0, 65535), nodes: intFromEnv('NODES', DEFAULT_NODES, 1, MAX_NODES), redisUrl });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') console.error(`Port ${process.env['PORT'] ?? DEFAULT_PORT} is in use; try PORT=8081 npm run start:chat`);
    else console.error(err instanceof Error ? err.message : err);
    if (err instanceof Error && err.message.includes('cannot reach Redis')) {
      console.error('Start Redis first (e.g. `redis-server` in another terminal), or point REDIS_URL at one.');
    }
    process.exitCode = 1;
    return;
  }
  console.log(`Open ${chat.url} in two browser tabs. Ctrl-C stops.`);
  stopOnSignals(() => chat.close());
}

if (require.main === module) void main();
