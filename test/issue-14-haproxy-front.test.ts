/**
 * Issue 14, "the seed's architecture, end to end" (docs/deployment.md), on real processes: HAProxy in TCP mode
 * with `send-proxy-v2` balancing round-robin over two `switchboard` processes (ip-hash, PROXY headers trusted from
 * HAProxy's source address only) in front of three chat nodes sharing messages over a real redis-server. It is the
 * `npm run start:fleet` example, started with startFleet().
 *
 * Clients bind their own 127.0.0.x source addresses, so each is a distinct client to every layer.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { ServerFrame } from '../packages/examples/src/chat/protocol';
import { HAPROXY_BIN, haproxyCommand } from '../packages/examples/src/fleet/haproxy';
import { startFleet, type ConnectionRow, type Fleet, type SwitchboardProcess } from '../packages/examples/src/fleet-haproxy';
import { proxyV1, proxyV2 } from './helpers/proxy-header';
import { head, rawExchange, WS_HEADERS } from './helpers/raw';
import { hasRedisServer, isProcessAlive } from './helpers/redis';
import { Resources, waitFor } from './helpers/servers';

type MessageFrame = Extract<ServerFrame, { type: 'message' }>;

/** Client source addresses: distinct clients to HAProxy, the Switchboards and the nodes alike. */
const ADDRESSES = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14', '127.0.0.15', '127.0.0.16', '127.0.0.17', '127.0.0.18'];
/** How long HAProxy may take to mark a dead Switchboard down: 2 failed checks 500 ms apart, plus slack for a loaded machine. */
const MARK_DOWN_BOUND = 5000;

const IS_CI = process.env['CI'] === 'true';

function hasHaproxy(): boolean {
  const result = spawnSync(HAPROXY_BIN, ['-v'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/**
 * `describe` for this suite: locally a missing haproxy or redis-server skips it with a printed note; with `CI=true`
 * it runs and startFleet() fails it, so a broken install step in CI cannot hide behind a skip.
 */
function describeWithFleet(name: string, fn: () => void): void {
  const missing = [...(hasHaproxy() ? [] : [`${HAPROXY_BIN} (apt-get install -y haproxy)`]), ...(hasRedisServer() ? [] : ['redis-server (apt-get install -y redis-server)'])];
  if (missing.length === 0 || IS_CI) {
    describe(name, fn);
    return;
  }
  console.warn(`skipping "${name}": ${missing.join(' and ')} not installed; .ci/run installs them. CI=true turns this skip into a failure.`);
  describe.skip(name, fn); // reason: off CI, haproxy or redis-server is missing; this suite runs the real programs, never fakes
}

/** A chat user, connected from its own source address. */
interface FleetClient {
  readonly name: string;
  /** The 127.0.0.x it bound. */
  readonly address: string;
  readonly ws: WebSocket;
  /** Its side of the TCP connection: HAProxy's PROXY header carries this port to the Switchboard. */
  readonly localPort: number;
  /** `ip:port` as a Switchboard's connection table shows it. */
  readonly key: string;
  readonly welcome: Extract<ServerFrame, { type: 'welcome' }>;
  readonly messages: MessageFrame[];
  readonly closed: Promise<number>;
}

async function join(res: Resources, url: string, address: string, name: string, headers: Record<string, string> = {}): Promise<FleetClient> {
  const ws = new WebSocket(`${url}/chat?name=${encodeURIComponent(name)}`, { localAddress: address, headers });
  res.add(async () => {
    if (ws.readyState === WebSocket.CLOSED) return;
    const gone = once(ws, 'close');
    ws.terminate();
    await gone;
  });
  let localPort = 0;
  ws.once('upgrade', (response: IncomingMessage) => {
    localPort = response.socket.localPort ?? 0;
  });
  const frames: ServerFrame[] = [];
  const messages: MessageFrame[] = [];
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    frames.push(frame);
    if (frame.type === 'message') messages.push(frame);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  await once(ws, 'open');
  await waitFor(() => frames.length > 0, 5000, `welcome for ${name}`);
  const welcome = frames[0]!;
  if (welcome.type !== 'welcome') throw new Error(`first frame for ${name} was ${welcome.type}`);
  return { name, address, ws, localPort, key: `${address}:${localPort}`, welcome, messages, closed };
}

/** Sends a unique line and waits until every client got it: Redis orders the channel, so what came before has arrived too. */
async function fence(sender: FleetClient, clients: readonly FleetClient[], tag: string): Promise<void> {
  const text = `fence:${tag}`;
  sender.ws.send(text);
  await waitFor(() => clients.every((c) => c.messages.some((m) => m.text === text)), 10_000, `fence ${tag} to reach every client`);
}

/** Which Switchboard carries each client connection (`ip:port` -> name), from their admin APIs. */
async function carriers(switchboards: readonly SwitchboardProcess[]): Promise<Map<string, { switchboard: string; row: ConnectionRow }>> {
  const out = new Map<string, { switchboard: string; row: ConnectionRow }>();
  for (const s of switchboards) {
    for (const row of await s.connections()) {
      if (out.has(row.client)) throw new Error(`${row.client} is in two connection tables`);
      out.set(row.client, { switchboard: s.name, row });
    }
  }
  return out;
}

async function waitForEmptyTables(switchboards: readonly SwitchboardProcess[]): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = (await Promise.all(switchboards.map((s) => s.connections()))).flat();
    if (rows.length === 0) return;
    if (Date.now() > deadline) throw new Error(`connection tables still hold ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Opens two connections per address, one after another so that HAProxy's round-robin alternates: a first pass in
 * address order, then a second in reverse order. With an odd number of connections between an address's two, they
 * reach different Switchboards; and their positions in each Switchboard's own sequence differ, so a strategy that
 * follows arrival order (round-robin) would put them on different nodes: only hashing the address keeps them together.
 */
async function joinAll(res: Resources, fleet: Fleet, prefix: string): Promise<FleetClient[]> {
  const url = fleet.url.replace('http:', 'ws:');
  const clients: FleetClient[] = [];
  for (const [pass, order] of [ADDRESSES, [...ADDRESSES].reverse()].entries()) {
    for (const address of order) clients.push(await join(res, url, address, `${prefix}-${address.split('.')[3]}-${pass}`));
  }
  return clients;
}

describeWithFleet('issue 14: HAProxy (TCP, send-proxy-v2) -> two Switchboards (ip-hash) -> three chat nodes over Redis', () => {
  let fleet: Fleet | undefined;
  const res = new Resources();
  const logLines: string[] = [];

  beforeAll(async () => {
    fleet = await startFleet({ port: 0, log: (line) => logLines.push(line) });
  }, 20_000);

  afterEach(() => res.cleanup());

  afterAll(async () => {
    await res.cleanup();
    const f = fleet;
    if (f === undefined) return;
    await f.close();
    // Every process is gone and the temporary directory (haproxy.cfg, the stats socket, config files) removed.
    for (const child of [f.haproxy.process, ...f.switchboards.map((s) => s.process)]) expect(isProcessAlive(child.pid)).toBe(false);
    expect(existsSync(f.dir)).toBe(false);
  }, 20_000);

  it('chats across both Switchboards; ip-hash keeps each client address on one node whichever Switchboard carries it; nodes see the real addresses', async () => {
    const f = fleet!;
    const clients = await joinAll(res, f, 'user');

    // Every connection is in exactly one Switchboard's table, under the address and port the client bound (the
    // PROXY header was believed), placed on the node its welcome frame names.
    const carried = await carriers(f.switchboards);
    expect(carried.size).toBe(clients.length);
    for (const c of clients) {
      expect(carried.get(c.key)).toMatchObject({ row: { backend: c.welcome.node, protocol: 'websocket' } });
    }

    // Round-robin put each address's two connections on different Switchboards, and ip-hash sent both to one node.
    for (const address of ADDRESSES) {
      const mine = clients.filter((c) => c.address === address);
      expect(new Set(mine.map((c) => carried.get(c.key)!.switchboard))).toEqual(new Set(['sb-a', 'sb-b']));
      expect(new Set(mine.map((c) => c.welcome.node)).size).toBe(1);
    }
    // The addresses spread over all three nodes (the hash is deterministic: same ids, same addresses, same table).
    expect(new Set(clients.map((c) => c.welcome.node))).toEqual(new Set(['node-1', 'node-2', 'node-3']));

    // The nodes see each client's own address (X-Forwarded-For written from the PROXY header), never HAProxy's
    // source address nor the Switchboards' 127.0.0.1.
    for (const c of clients) expect(c.welcome.client).toBe(c.address);

    // A line from a client entering through sb-a reaches a client entering through sb-b on another node, via Redis.
    const sender = clients.find((c) => carried.get(c.key)!.switchboard === 'sb-a')!;
    const receiver = clients.find((c) => carried.get(c.key)!.switchboard === 'sb-b' && c.welcome.node !== sender.welcome.node)!;
    expect(receiver).toBeDefined();
    sender.ws.send('hello across the fleet');
    await fence(receiver, clients, 'across');
    for (const c of clients) {
      expect(c.messages.filter((m) => !m.text.startsWith('fence:'))).toEqual([
        expect.objectContaining({ from: sender.name, node: sender.welcome.node, text: 'hello across the fleet' }),
      ]);
    }

    // HAProxy's own counters agree: both Switchboards carry live sessions.
    const stats = await f.haproxy.servers();
    expect(stats.map((s) => [s.name, s.status, s.sessions])).toEqual([
      ['sb-a', 'UP', clients.length / 2],
      ['sb-b', 'UP', clients.length / 2],
    ]);

    await res.cleanup();
    await waitForEmptyTables(f.switchboards);
  });

  it('believes no address a client chooses: a forged PROXY header or X-Forwarded-For, sent directly to a Switchboard or through HAProxy', async () => {
    const f = fleet!;
    const [sbA] = f.switchboards;
    const wsUrl = f.url.replace('http:', 'ws:');

    // Straight to a Switchboard, bypassing HAProxy: the peer is not HAProxy's address, so its bytes are plain HTTP and
    // a PROXY header (v1 text or v2 binary) is a malformed request.
    const upgrade = head('GET /chat?name=forger HTTP/1.1', 'Host: chat', ...WS_HEADERS);
    const v1 = await rawExchange(sbA!.port, proxyV1('203.0.113.7', '127.0.0.1', 4242, 80) + upgrade);
    expect(v1.status).toBe(400);
    const v2 = await rawExchange(sbA!.port, Buffer.concat([proxyV2({ src: '203.0.113.7', dst: '127.0.0.1', srcPort: 4242, dstPort: 80 }), Buffer.from(upgrade)]));
    expect(v2.status).toBe(400);

    // Through HAProxy, a second PROXY header after HAProxy's own is request bytes, and malformed ones.
    const smuggled = await rawExchange(f.port, proxyV1('203.0.113.7', '127.0.0.1', 4242, 80) + upgrade);
    expect(smuggled.status).toBe(400);

    // A forged X-Forwarded-For is replaced, whichever way the client comes in.
    const direct = await join(res, `ws://127.0.0.1:${sbA!.port}`, '127.0.0.21', 'direct', { 'X-Forwarded-For': '203.0.113.7' });
    expect(direct.welcome.client).toBe('127.0.0.21');
    const fronted = await join(res, wsUrl, '127.0.0.22', 'fronted', { 'X-Forwarded-For': '203.0.113.7' });
    expect(fronted.welcome.client).toBe('127.0.0.22');
    const carried = await carriers(f.switchboards);
    expect(carried.get(direct.key)?.switchboard).toBe('sb-a');
    expect([...carried.keys()].sort()).toEqual([direct.key, fronted.key].sort());

    await res.cleanup();
    await waitForEmptyTables(f.switchboards);
  });

  it('after a SIGKILL of one Switchboard, its clients reconnect through the other onto the same nodes, and HAProxy marks it down', async () => {
    const f = fleet!;
    const [sbA, sbB] = f.switchboards as [SwitchboardProcess, SwitchboardProcess];
    const clients = await joinAll(res, f, 'kill');
    const carried = await carriers(f.switchboards);
    const orphans = clients.filter((c) => carried.get(c.key)!.switchboard === 'sb-a');
    const survivors = clients.filter((c) => carried.get(c.key)!.switchboard === 'sb-b');
    expect(orphans).toHaveLength(clients.length / 2);

    // Two mechanisms bring the clients back, and each is shown alone. First, with sb-a's checks paused (so HAProxy
    // keeps offering it), `option redispatch`: a connection refused by the dead process is retried on sb-b.
    const stats = f.haproxy.statsSocket;
    await haproxyCommand(stats, 'disable health switchboards/sb-a');
    process.kill(sbA.process.pid, 'SIGKILL');
    expect((await sbA.process.exited).signal).toBe('SIGKILL');
    // The kernel closed the dead process's sockets: HAProxy closes each of its clients' connections (no close frame).
    for (const o of orphans) expect(await o.closed).toBe(1006);

    const back: FleetClient[] = [];
    for (const o of orphans) back.push(await join(res, f.url.replace('http:', 'ws:'), o.address, o.name));
    const now = await carriers([sbB]);
    for (const [i, b] of back.entries()) {
      expect(b.welcome.node).toBe(orphans[i]!.welcome.node);
      expect(b.welcome.client).toBe(b.address);
      expect(now.get(b.key)).toMatchObject({ switchboard: 'sb-b', row: { backend: b.welcome.node } });
    }
    expect(now.size).toBe(clients.length);
    const whileUnchecked = (await f.haproxy.servers()).find((s) => s.name === 'sb-a')!;
    expect(whileUnchecked.status).toBe('no check');
    expect(whileUnchecked.redispatches).toBeGreaterThan(0);

    // Then the health checks: resumed, they take sb-a out within two check periods (500 ms apart).
    const resumedAt = Date.now();
    await haproxyCommand(stats, 'enable health switchboards/sb-a');
    let downAfter = 0;
    for (;;) {
      const sbAStat = (await f.haproxy.servers()).find((s) => s.name === 'sb-a')!;
      if (sbAStat.status === 'DOWN') {
        downAfter = Date.now() - resumedAt;
        expect(sbAStat.checkStatus).toBe('L4CON');
        break;
      }
      if (Date.now() - resumedAt > MARK_DOWN_BOUND) throw new Error(`sb-a still ${sbAStat.status} ${MARK_DOWN_BOUND} ms after its checks resumed`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(downAfter).toBeLessThan(MARK_DOWN_BOUND);
    expect(logLines.some((l) => /haproxy: .*sb-a is DOWN/.test(l))).toBe(true);
    expect((await f.haproxy.servers()).find((s) => s.name === 'sb-b')).toMatchObject({ status: 'UP', sessions: clients.length });

    // The survivors never noticed; everyone still chats across the nodes.
    for (const s of survivors) expect(s.ws.readyState).toBe(WebSocket.OPEN);
    const everyone = [...survivors, ...back];
    const from = back.find((b) => b.welcome.node !== survivors[0]!.welcome.node)!;
    from.ws.send('back through sb-b');
    await fence(survivors[0]!, everyone, 'after-kill');
    for (const c of everyone) expect(c.messages.map((m) => m.text)).toContain('back through sb-b');

    await res.cleanup();
    await waitForEmptyTables([sbB]);
  });
});
