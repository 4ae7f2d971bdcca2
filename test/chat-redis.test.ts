import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startChat, type Chat, type ServerFrame } from '../packages/examples/src/chat-redis';
import { describeWithRedis, isProcessAlive, redisCommand, startRedisServer, type RedisServer, type RespValue } from './helpers/redis';
import { Resources, waitFor } from './helpers/servers';

type MessageFrame = Extract<ServerFrame, { type: 'message' }>;

const CHANNEL = 'switchboard:chat';
const NODE_COUNT = 3;
const CLIENT_COUNT = 6;

/** A chat user connected through the proxy. */
interface ChatClient {
  readonly name: string;
  readonly ws: WebSocket;
  /** The node its welcome frame named. */
  readonly node: string;
  /** Its side of the TCP connection to the proxy: the proxy's table knows it by this port. */
  readonly localPort: number;
  /** Every chat line received, in arrival order. */
  readonly messages: MessageFrame[];
  /** Texts of the error frames received (lines that were not delivered). */
  readonly errors: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
}

async function join(res: Resources, port: number, name: string): Promise<ChatClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat?name=${encodeURIComponent(name)}`);
  res.add(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  let localPort = 0;
  ws.once('upgrade', (response: IncomingMessage) => {
    localPort = response.socket.localPort ?? 0;
  });
  const frames: ServerFrame[] = [];
  const messages: MessageFrame[] = [];
  const errors: string[] = [];
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    frames.push(frame);
    if (frame.type === 'message') messages.push(frame);
    if (frame.type === 'error') errors.push(frame.text);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  await once(ws, 'open');
  await waitFor(() => frames.length > 0, 5000, `welcome for ${name}`);
  const welcome = frames[0]!;
  if (welcome.type !== 'welcome') throw new Error(`first frame for ${name} was ${welcome.type}, not welcome`);
  expect(welcome.name).toBe(name);
  return { name, ws, node: welcome.node, localPort, messages, errors, closed };
}

/**
 * Sends a unique line from `sender` and waits until every client got it. Redis delivers one channel's
 * messages to all subscribers in one order, so whatever was published before the fence has arrived
 * everywhere once the fence has: counts checked after it are final, no sleep needed.
 */
async function fence(sender: ChatClient, clients: readonly ChatClient[], tag: string): Promise<void> {
  const text = `fence:${tag}`;
  sender.ws.send(text);
  await waitFor(() => clients.every((c) => c.messages.some((m) => m.text === text)), 10_000, `fence ${tag} to reach every client`);
}

/** Chat lines a client received, fences left out. */
function lines(client: ChatClient): MessageFrame[] {
  return client.messages.filter((m) => !m.text.startsWith('fence:'));
}

function chatConnectionNames(clientList: RespValue): string[] {
  if (typeof clientList !== 'string') throw new Error(`CLIENT LIST answered ${String(clientList)}`);
  return clientList
    .split('\n')
    .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith('switchboard-chat:'))
    .sort();
}

async function subscriberCount(redis: RedisServer): Promise<number> {
  const reply = await redisCommand(redis.port, 'PUBSUB', 'NUMSUB', CHANNEL);
  if (!Array.isArray(reply) || typeof reply[1] !== 'number') throw new Error(`PUBSUB NUMSUB answered ${JSON.stringify(reply)}`);
  return reply[1];
}

/** Polls an async `read()` until `done(value)` (Redis frees a connection just after answering QUIT); returns the last value. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    value = await read();
  }
  return value;
}

/** Joins `count` clients one after another, so least-connections spreads them evenly. */
async function joinAll(res: Resources, chat: Chat, count: number, prefix = 'user'): Promise<ChatClient[]> {
  const clients: ChatClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await join(res, chat.port, `${prefix}-${i}`));
  return clients;
}

describeWithRedis('chat example: nodes behind the proxy share messages through Redis pub/sub', () => {
  const res = new Resources();
  let redis: RedisServer;
  let chat: Chat;
  const logLines: string[] = [];

  beforeEach(async () => {
    logLines.length = 0;
    redis = await startRedisServer();
    res.add(() => redis.stop());
    chat = await startChat({ port: 0, redisUrl: redis.url, nodes: NODE_COUNT, log: (line) => logLines.push(line) });
    res.add(() => chat.close());
  });

  afterEach(() => res.cleanup());

  it('spreads 6 clients over 3 nodes; every line reaches every client exactly once, in one order; close() releases everything', async () => {
    // Each node holds one subscriber and one publisher connection to Redis.
    expect(await subscriberCount(redis)).toBe(NODE_COUNT);
    expect(chatConnectionNames(await redisCommand(redis.port, 'CLIENT', 'LIST'))).toEqual(
      ['node-1', 'node-2', 'node-3'].flatMap((n) => [`switchboard-chat:${n}:pub`, `switchboard-chat:${n}:sub`]),
    );

    const clients = await joinAll(res, chat, CLIENT_COUNT);
    const byNode = new Map<string, ChatClient[]>();
    for (const c of clients) byNode.set(c.node, [...(byNode.get(c.node) ?? []), c]);
    expect([...byNode.keys()].sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect([...byNode.values()].map((cs) => cs.length)).toEqual([2, 2, 2]);
    expect(chat.nodes.map((n) => n.clientCount())).toEqual([2, 2, 2]);

    // The proxy's own view agrees: two WebSockets per backend, each client on the node its welcome named.
    expect(chat.proxy.backends().map((b) => [b.id, b.activeConnections])).toEqual([
      ['node-1', 2],
      ['node-2', 2],
      ['node-3', 2],
    ]);
    const table = chat.proxy.connections();
    expect(table).toHaveLength(CLIENT_COUNT);
    for (const c of clients) {
      expect(table).toContainEqual(expect.objectContaining({ protocol: 'websocket', client: { address: '127.0.0.1', port: c.localPort }, backend: { id: c.node } }));
    }

    // One line from a client on node A reaches both clients on B and both on C (and A's own two).
    const [a] = byNode.get('node-1')!;
    a!.ws.send('hello from node A');
    await fence(a!, clients, 'single');
    for (const c of clients) {
      expect(lines(c)).toEqual([expect.objectContaining({ type: 'message', from: a!.name, node: 'node-1', text: 'hello from node A', id: 'node-1-1' })]);
    }

    // 50 lines from 4 senders on all three nodes (two share node-1), sent without waiting.
    const senders = [byNode.get('node-1')![0]!, byNode.get('node-2')![0]!, byNode.get('node-3')![0]!, byNode.get('node-1')![1]!];
    const sent = new Map<string, string[]>(senders.map((s) => [s.name, []]));
    for (let i = 0; i < 50; i++) {
      const sender = senders[i % senders.length]!;
      const text = `${sender.name} #${i}`;
      sent.get(sender.name)!.push(text);
      sender.ws.send(text);
    }
    await waitFor(() => clients.every((c) => lines(c).length >= 51), 10_000, '50 lines to reach every client');
    await fence(senders[1]!, clients, 'sequence');

    const reference = lines(clients[0]!).map((m) => m.id);
    for (const c of clients) {
      const got = lines(c).slice(1);
      // Exactly once: 50 lines, 50 distinct ids, nothing extra before the fence.
      expect(got).toHaveLength(50);
      expect(new Set(got.map((m) => m.id)).size).toBe(50);
      // Per sender: in the order sent, attributed to the sender's node.
      for (const s of senders) {
        const mine = got.filter((m) => m.from === s.name);
        expect(mine.map((m) => m.text)).toEqual(sent.get(s.name));
        expect(new Set(mine.map((m) => m.node))).toEqual(new Set([s.node]));
      }
      // Across senders: Redis orders the channel once, so every client sees the same interleaving.
      expect(lines(c).map((m) => m.id)).toEqual(reference);
    }

    // close(): clients are told 1001, the proxy's table empties, every Redis connection is gone.
    const closes = clients.map((c) => c.closed);
    await chat.close();
    for (const { code } of await Promise.all(closes)) expect(code).toBe(1001);
    expect(chat.proxy.connections()).toEqual([]);
    expect(chat.proxy.backends().every((b) => b.activeConnections === 0)).toBe(true);
    const clientList = async (): Promise<string[]> => chatConnectionNames(await redisCommand(redis.port, 'CLIENT', 'LIST'));
    expect(await eventually(clientList, (names) => names.length === 0)).toEqual([]);
    expect(await subscriberCount(redis)).toBe(0);
    await expect(fetch(`${chat.url}/`)).rejects.toThrow();

    // And the throwaway redis-server stops: its process is gone, its port closed, its directory removed.
    await redis.stop();
    expect(isProcessAlive(redis.pid)).toBe(false);
    await expect(redisCommand(redis.port, 'PING')).rejects.toThrow();
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('when a node dies, its clients get 1001, reconnect through the proxy to the other nodes and keep chatting', async () => {
    const clients = await joinAll(res, chat, CLIENT_COUNT);
    const victim = chat.nodes.find((n) => n.name === clients[0]!.node)!;
    const orphans = clients.filter((c) => c.node === victim.name);
    const survivors = clients.filter((c) => c.node !== victim.name);
    expect(orphans).toHaveLength(2);

    await victim.close();
    for (const o of orphans) expect(await o.closed).toEqual({ code: 1001, reason: 'node shutting down' });
    await waitFor(() => chat.proxy.connections().every((c) => c.backend.id !== victim.name), 5000, `the proxy to drop ${victim.name}'s connections`);
    expect(chat.proxy.connections()).toHaveLength(survivors.length);
    expect(survivors.every((s) => s.ws.readyState === WebSocket.OPEN)).toBe(true);
    // The dead node let go of Redis; the others are still subscribed.
    expect(await eventually(() => subscriberCount(redis), (n) => n === NODE_COUNT - 1)).toBe(NODE_COUNT - 1);

    // Reconnecting lands elsewhere: least-connections tries the empty dead node first, is refused, retries on a live one.
    const back: ChatClient[] = [];
    for (const o of orphans) back.push(await join(res, chat.port, o.name));
    for (const b of back) expect(b.node).not.toBe(victim.name);
    const everyone = [...survivors, ...back];
    expect(chat.proxy.connections()).toHaveLength(CLIENT_COUNT);
    expect(chat.proxy.backends().find((b) => b.id === victim.name)!.activeConnections).toBe(0);

    // A reconnected client reaches everyone; a survivor reaches the reconnected ones.
    back[0]!.ws.send('I am back');
    survivors[0]!.ws.send('welcome back');
    await fence(back[1]!, everyone, 'after-reconnect');
    for (const c of everyone) {
      const got = lines(c);
      expect(got.map((m) => m.text).sort()).toEqual(['I am back', 'welcome back']);
      expect(got.find((m) => m.text === 'I am back')).toMatchObject({ from: back[0]!.name, node: back[0]!.node });
      expect(got.find((m) => m.text === 'welcome back')).toMatchObject({ from: survivors[0]!.name, node: survivors[0]!.node });
    }

    await chat.close();
    expect(chat.proxy.connections()).toEqual([]);
  });

  it('survives a Redis restart: lines sent meanwhile are refused, not queued; the nodes re-subscribe and chat resumes', async () => {
    const clients = await joinAll(res, chat, NODE_COUNT);
    expect(new Set(clients.map((c) => c.node)).size).toBe(NODE_COUNT);
    const healthOf = async (url: string): Promise<number> => (await fetch(`${url}/healthz`)).status;

    await redis.stop();
    for (const n of chat.nodes) expect(await eventually(() => healthOf(n.url), (s) => s === 503)).toBe(503);
    clients[0]!.ws.send('lost while Redis is down');
    await waitFor(() => clients[0]!.errors.length === 1, 5000, 'the sender to be told');
    expect(clients[0]!.errors[0]).toMatch(/not delivered/);

    const restarted = await startRedisServer({ port: redis.port });
    res.add(() => restarted.stop());
    expect(await eventually(() => subscriberCount(restarted), (n) => n === NODE_COUNT, 10_000)).toBe(NODE_COUNT);
    for (const n of chat.nodes) expect(await eventually(() => healthOf(n.url), (s) => s === 200, 10_000)).toBe(200);

    clients[1]!.ws.send('Redis is back');
    await fence(clients[2]!, clients, 'after-restart');
    for (const c of clients) {
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      expect(lines(c).map((m) => m.text)).toEqual(['Redis is back']);
    }
    await chat.close();
    expect(chat.proxy.connections()).toEqual([]);
  });

  it('closes a client that sends a binary frame (1003) or a frame over 8 KiB (1009); others are unaffected', async () => {
    const [binary, huge, bystander] = await joinAll(res, chat, 3);
    binary!.ws.send(Buffer.from([1, 2, 3]));
    huge!.ws.send('x'.repeat(8 * 1024 + 1));
    expect((await binary!.closed).code).toBe(1003);
    expect((await huge!.closed).code).toBe(1009);
    bystander!.ws.send('still here');
    await fence(bystander!, [bystander!], 'bystander');
    expect(lines(bystander!).map((m) => m.text)).toEqual(['still here']);
    await waitFor(() => chat.proxy.connections().length === 1, 5000, 'the closed clients to leave the table');
  });

  it('serves the chat page and a Redis-aware /healthz through the proxy', async () => {
    const page = await fetch(`${chat.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("'/chat?name='");
    expect(html).toMatch(/served by <span id="page-node">node-[123]<\/span>/);
    for (const n of chat.nodes) expect(html).not.toContain(n.url);

    const health = await fetch(`${chat.nodes[0]!.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ node: 'node-1', redis: 'ready' });
    await waitFor(() => chat.proxy.connections().length === 0, 5000, 'HTTP requests to leave the table');
  });

  it('rejects with a clear error and leaves nothing running when Redis cannot be reached', async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    await expect(startChat({ port: 0, redisUrl: `redis://127.0.0.1:${port}`, log: () => undefined })).rejects.toThrow(
      new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`),
    );
  });
});
