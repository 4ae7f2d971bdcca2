/**
 * One chat backend node: node:http + ws, with two Redis connections (ioredis). Every text frame a
 * local client sends is published on the channel; every channel message, whoever published it, is
 * delivered to this node's own clients. That is what lets a user on node A reach a user on node B.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Redis } from 'ioredis';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { chatPage } from './page';
import { cleanName, forwardedClient, MAX_MESSAGE_BYTES, parseChannelMessage, type ChannelMessage, type ServerFrame } from './protocol';

const HOST = '127.0.0.1';
/** A client whose unsent backlog exceeds this many bytes is too slow to keep up and is closed with 1013. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How long `close()` waits for clients to answer its close frame before cutting them off, in ms. */
const CLIENT_CLOSE_TIMEOUT = 1000;
/** How long `close()` waits for Redis to answer QUIT before dropping the connection, in ms. */
const REDIS_QUIT_TIMEOUT = 1000;
/** How long ioredis waits for a dropped connection's socket to close before destroying it, in ms (its default: 2000). */
const REDIS_DISCONNECT_TIMEOUT = 500;
/** Longest wait between two reconnection attempts once the node runs, in ms. */
const REDIS_MAX_RETRY_DELAY = 2000;
/** WebSocket close codes this module sends (RFC 6455 section 7.4). */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_TRY_AGAIN_LATER = 1013;

export interface ChatNodeOptions {
  /** The node's name: its backend id in the proxy, shown to clients with every line. */
  readonly name: string;
  /** Where Redis is, e.g. `redis://127.0.0.1:6379`. */
  readonly redisUrl: string;
  /** The Redis channel all nodes share. */
  readonly channel: string;
  readonly log: (line: string) => void;
}

/** A running chat node. */
export interface ChatNode {
  readonly name: string;
  /** Where the proxy reaches it (never shown to clients). */
  readonly url: string;
  /** WebSocket clients connected to this node right now. */
  clientCount(): number;
  /**
   * Sends 1001 to its clients (they then reconnect through the proxy, to another node), stops
   * listening and quits both Redis connections. Idempotent.
   */
  close(): Promise<void>;
}

/** `redis://user:secret@host` -> `redis://user:***@host`, for log lines and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}

/**
 * Stops a client now. Skipped once it has ended: ioredis's `disconnect()` on an already closed socket
 * leaves a {@link REDIS_DISCONNECT_TIMEOUT} timer behind that holds the process open.
 */
function dropRedis(client: Redis): void {
  if (client.status !== 'end') client.disconnect();
}

/** Connects a lazily created ioredis client; on failure rejects with the underlying cause (the client has ended). */
async function connectRedis(client: Redis, what: string, redisUrl: string): Promise<void> {
  let lastError: Error | undefined;
  const onError = (err: Error): void => {
    lastError = err;
  };
  client.on('error', onError);
  try {
    await client.connect();
  } catch (err) {
    dropRedis(client);
    const cause = lastError ?? err;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`${what}: cannot reach Redis at ${redactRedisUrl(redisUrl)} (${detail})`, { cause });
  } finally {
    client.off('error', onError);
  }
}

/** QUIT, or drop the connection if Redis does not answer in time (e.g. it is down and ioredis is reconnecting). */
async function quitRedis(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    dropRedis(client);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), REDIS_QUIT_TIMEOUT);
  });
  const quit = client.quit().then(
    () => false,
    () => true,
  );
  const failed = await Promise.race([quit, timedOut]);
  clearTimeout(timer);
  if (failed) dropRedis(client);
}

function closeSlowClient(ws: WebSocket): void {
  ws.close(CLOSE_TRY_AGAIN_LATER, 'too slow, reconnect');
}

/**
 * Starts one node on 127.0.0.1 (a free port): `/` (the chat page), `/healthz` (200 while both Redis
 * connections are ready, else 503) and WebSockets at `/chat?name=…`. Resolves once it listens and is
 * subscribed; rejects, having released what it opened, if Redis cannot be reached.
 */
export async function startChatNode(options: ChatNodeOptions): Promise<ChatNode> {
  const { name, redisUrl, channel, log } = options;
  // Once started, ioredis reconnects (and re-subscribes) by itself; before that, a failure to connect
  // is the rejection of startChatNode(), with no retries.
  let started = false;
  const redisOptions = {
    lazyConnect: true,
    disconnectTimeout: REDIS_DISCONNECT_TIMEOUT,
    retryStrategy: (attempt: number): number | null => (started ? Math.min(attempt * 50, REDIS_MAX_RETRY_DELAY) : null),
  };
  // A connection in subscriber mode can only (un)subscribe, so publishing needs a second one.
  const sub = new Redis(redisUrl, { ...redisOptions, connectionName: `switchboard-chat:${name}:sub` });
  // No offline queue on the publisher: while Redis is away a line fails at once and its sender is told,
  // instead of being published minutes later to whichever subscribers happen to be back.
  const pub = new Redis(redisUrl, { ...redisOptions, enableOfflineQueue: false, connectionName: `switchboard-chat:${name}:pub` });
  // Report each new kind of Redis trouble once, not at every reconnection attempt.
  let lastRedisError = '';
  const redisOnError = (role: string) => (err: Error) => {
    if (!started || err.message === lastRedisError) return;
    lastRedisError = err.message;
    log(`${name}: Redis ${role} error: ${err.message}`);
  };
  sub.on('error', redisOnError('subscriber'));
  pub.on('error', redisOnError('publisher'));
  sub.on('ready', () => {
    if (started && lastRedisError !== '') log(`${name}: Redis subscriber ready again`);
    lastRedisError = '';
  });
  const connected = await Promise.allSettled([connectRedis(sub, `${name} subscriber`, redisUrl), connectRedis(pub, `${name} publisher`, redisUrl)]);
  const failed = connected.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed !== undefined) {
    // A client that failed has ended by itself (no retries yet); the other may be connected.
    dropRedis(sub);
    dropRedis(pub);
    throw failed.reason;
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => nodeOnRequest(req, res));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ server, path: '/chat', maxPayload: MAX_MESSAGE_BYTES });
  let sequence = 0;
  let guests = 0;

  function nodeOnRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(chatPage(name));
    } else if (path === '/healthz') {
      const ready = sub.status === 'ready' && pub.status === 'ready';
      res.statusCode = ready ? 200 : 503;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ node: name, redis: ready ? 'ready' : 'unavailable' }));
    } else if (path === '/favicon.ico') {
      res.statusCode = 204;
      res.end();
    } else {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('not found\n');
    }
  }

  function send(ws: WebSocket, frame: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) closeSlowClient(ws);
    else ws.send(frame);
  }

  wss.on('connection', (ws, req) => {
    // ws closes the connection itself on a bad frame (1009 for one over MAX_MESSAGE_BYTES, 1002 for a
    // protocol error) or a socket error; the listener only keeps the error from being thrown.
    ws.on('error', () => undefined);
    const query = new URL(req.url ?? '/', 'http://chat.invalid').searchParams;
    const clientName = cleanName(query.get('name'), `guest-${++guests}`);
    const client = forwardedClient(req.headers['x-forwarded-for'], req.socket.remoteAddress);
    const welcome: ServerFrame = { type: 'welcome', node: name, name: clientName, client };
    ws.send(JSON.stringify(welcome));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        ws.close(CLOSE_UNSUPPORTED_DATA, 'text frames only');
        return;
      }
      const text = data.toString();
      if (text === '') return;
      const message: ChannelMessage = { id: `${name}-${++sequence}`, from: clientName, node: name, text, sentAt: Date.now() };
      // One publisher connection per node, so Redis sees this node's messages in the order they arrived.
      pub.publish(channel, JSON.stringify(message)).catch((err: unknown) => {
        log(`${name}: publish failed: ${err instanceof Error ? err.message : String(err)}`);
        const error: ServerFrame = { type: 'error', text: 'message not delivered: chat relay unavailable, try again' };
        send(ws, JSON.stringify(error));
      });
    });
  });

  sub.on('message', (from: string, payload: string) => {
    if (from !== channel) return;
    const message = parseChannelMessage(payload);
    if (message === undefined) {
      log(`${name}: ignored a malformed message on ${channel}`);
      return;
    }
    // Serialised once, sent to every local client: the sender's own node included, so senders see their line come back.
    const frame = JSON.stringify({ type: 'message', ...message } satisfies ServerFrame);
    for (const ws of wss.clients) send(ws, frame);
  });

  try {
    await sub.subscribe(channel);
    server.listen(0, HOST);
    await once(server, 'listening');
  } catch (err) {
    server.close();
    dropRedis(sub);
    dropRedis(pub);
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${HOST}:${port}`;
  started = true;

  let closed: Promise<void> | undefined;
  return {
    name,
    url,
    clientCount: () => wss.clients.size,
    close() {
      closed ??= (async () => {
        // Not events.once(): it would reject on an 'error' that a closing socket may emit before 'close'.
        const gone = [...wss.clients].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
        for (const ws of wss.clients) ws.close(CLOSE_GOING_AWAY, 'node shutting down');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(gone), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLIENT_CLOSE_TIMEOUT)))]);
        clearTimeout(timer);
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        await Promise.all([quitRedis(sub), quitRedis(pub)]);
      })();
      return closed;
    },
  };
}
