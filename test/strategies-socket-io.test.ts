/**
 * A socket.io cluster of 3 servers behind the proxy. socket.io (engine.io)
 * opens a session with HTTP long-polling (a handshake GET that returns a
 * session id, then POSTs and GETs carrying `?sid=`), then upgrades to a
 * WebSocket carrying the same sid. Each server keeps its sessions in memory,
 * so every one of those requests must reach the server that issued the sid.
 *
 * - round-robin sends the requests of one session to different servers; the
 *   second one gets HTTP 400 `{"code":1,"message":"Session ID unknown"}` and
 *   the client fails to connect. That is why socket.io documents sticky
 *   sessions as a requirement for multi-node deployments.
 * - ip-hash sends every request of a client IP to one server (L3 stickiness,
 *   no cookie needed).
 * - sticky-cookie sets an affinity cookie on the handshake response; the
 *   client sends it with every later request and with the upgrade.
 */
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server as IoServer } from 'socket.io';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { StickyCookieStrategy, type Proxy, type ProxyOptions } from '@switchboard/proxy';
import { Resources, startProxy, waitFor } from './helpers/servers';

interface IoBackend {
  readonly id: string;
  readonly url: string;
  /** Session ids this server issued. */
  readonly sessions: Set<string>;
  /** Messages of the requests this server refused (e.g. "Session ID unknown"). */
  readonly refusals: string[];
  /** Cookie headers of the WebSocket upgrades this server received. */
  readonly upgradeCookies: (string | undefined)[];
}

async function startIoBackend(res: Resources, id: string): Promise<IoBackend> {
  const server = createServer();
  const sockets = new Set<NetSocket>();
  server.on('connection', (s: NetSocket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const io = new IoServer(server, { transports: ['polling', 'websocket'] });
  const sessions = new Set<string>();
  const refusals: string[] = [];
  const upgradeCookies: (string | undefined)[] = [];
  io.engine.on('connection', (engineSocket: { id: string }) => sessions.add(engineSocket.id));
  io.engine.on('connection_error', (err: { message: string }) => refusals.push(err.message));
  server.prependListener('upgrade', (req: IncomingMessage) => upgradeCookies.push(req.headers.cookie));
  io.on('connection', (socket) => {
    socket.on('whoami', (ack: (id: string) => void) => ack(id));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  res.add(async () => {
    await new Promise<void>((resolve) => {
      io.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  });
  return { id, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sessions, refusals, upgradeCookies };
}

interface Client {
  readonly socket: ClientSocket;
  readonly agent: Agent;
}

/** A socket.io client starting with long-polling, from `localAddress` (any 127.x.y.z is loopback on Linux). */
function connectClient(res: Resources, url: string, localAddress: string, withCredentials: boolean): Client {
  const agent = new Agent({ keepAlive: true, localAddress });
  const socket = ioClient(url, {
    transports: ['polling', 'websocket'],
    reconnection: false,
    forceNew: true,
    withCredentials, // in Node: keep cookies in a jar and send them, upgrade included
    agent: agent as unknown as string, // typed as string | boolean for browsers; Node takes an http.Agent
    localAddress,
  } as Parameters<typeof ioClient>[1]);
  res.add(() => {
    socket.disconnect();
    agent.destroy();
  });
  return { socket, agent };
}

/** Resolves once connected and upgraded to WebSocket; rejects on connect_error. */
async function connectedAndUpgraded(client: Client): Promise<void> {
  const { socket } = client;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: Error) => reject(err));
  });
  const engine = socket.io.engine;
  if (engine.transport.name !== 'websocket') await new Promise<void>((resolve) => engine.once('upgrade', () => resolve()));
}

async function whoami(client: Client): Promise<string> {
  return (await client.socket.timeout(5000).emitWithAck('whoami')) as string;
}

async function startCluster(res: Resources, strategy: ProxyOptions['strategy']): Promise<{ proxy: Proxy; url: string; nodes: IoBackend[] }> {
  const nodes = await Promise.all(['io-1', 'io-2', 'io-3'].map((id) => startIoBackend(res, id)));
  const { proxy, url } = await startProxy(res, { backends: nodes.map((n) => ({ url: n.url, id: n.id })), strategy });
  return { proxy, url, nodes };
}

async function disconnectAll(proxy: Proxy, clients: readonly Client[]): Promise<void> {
  for (const { socket, agent } of clients) {
    socket.disconnect();
    agent.destroy();
  }
  await waitFor(() => proxy.connections().length === 0, 5000, 'the table to empty');
}

describe('a socket.io cluster of 3 servers behind the proxy', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('works with ip-hash: polling then upgrade, each client IP on one server', async () => {
    const { proxy, url, nodes } = await startCluster(res, 'ip-hash');
    const clients = Array.from({ length: 12 }, (_, i) => connectClient(res, url, `127.0.0.${i + 2}`, false));
    await Promise.all(clients.map(connectedAndUpgraded));

    const servedBy = await Promise.all(clients.map(whoami));
    for (const [i, client] of clients.entries()) {
      expect(client.socket.io.engine.transport.name).toBe('websocket');
      // The server answering over WebSocket is the one that issued the polling session.
      const issuer = nodes.find((n) => n.sessions.has(client.socket.io.engine.id));
      expect(issuer?.id).toBe(servedBy[i]);
      expect(await whoami(client)).toBe(servedBy[i]);
    }
    expect(new Set(servedBy).size).toBeGreaterThan(1);

    await disconnectAll(proxy, clients);
    expect(proxy.connections().length).toBe(0);
  }, 30_000);

  it('works with sticky-cookie: the handshake sets the cookie, later polls and the upgrade carry it', async () => {
    const { proxy, url, nodes } = await startCluster(res, new StickyCookieStrategy({ secret: 'socket-io-test-secret-0123456789' }));
    const clients: Client[] = [];
    // One at a time from one IP: the base strategy (least-connections) spreads the sessions.
    for (let i = 0; i < 9; i++) {
      const client = connectClient(res, url, '127.0.0.1', true);
      await connectedAndUpgraded(client);
      clients.push(client);
    }
    const servedBy = await Promise.all(clients.map(whoami));
    for (const [i, client] of clients.entries()) {
      expect(client.socket.io.engine.transport.name).toBe('websocket');
      const issuer = nodes.find((n) => n.sessions.has(client.socket.io.engine.id));
      expect(issuer?.id).toBe(servedBy[i]);
    }
    expect(new Set(servedBy)).toEqual(new Set(['io-1', 'io-2', 'io-3']));
    // Every upgrade carried the affinity cookie the handshake response set.
    const upgrades = nodes.flatMap((n) => n.upgradeCookies);
    expect(upgrades).toHaveLength(9);
    for (const cookie of upgrades) expect(cookie).toMatch(/(^|; )sb_affinity=[A-Za-z0-9_-]{22}(;|$)/);

    await disconnectAll(proxy, clients);
    expect(proxy.connections().length).toBe(0);
  }, 30_000);

  it('fails with round-robin: the second request of a session reaches another server, which answers "Session ID unknown"', async () => {
    const { proxy, url, nodes } = await startCluster(res, 'round-robin');
    const client = connectClient(res, url, '127.0.0.1', false);
    const error = await connectedAndUpgraded(client).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toEqual(expect.objectContaining({ type: 'TransportError', description: 400 }));
    expect(nodes.flatMap((n) => n.refusals)).toContain('Session ID unknown');
    await disconnectAll(proxy, [client]);
    expect(proxy.connections().length).toBe(0);
  }, 30_000);
});
