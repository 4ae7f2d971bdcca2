/**
 * Issue 10, items 5 and 6: pipelined requests of one client connection go to the backend in order, one at a time,
 * with memory bounded whatever the client reads, and every exchange ends when its client leaves.
 */
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { SwitchboardError } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { CheckedProxies, Resources, startBackend, waitFor } from './helpers/servers';

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: pipelined.test\r\n\r\n`;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A raw client socket, destroyed at clean-up; `chunks` collects what it reads while it reads. */
async function rawClient(res: Resources, port: number): Promise<{ socket: Socket; received: () => Buffer; length: () => number }> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  res.add(() => void socket.destroy());
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  let length = 0;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    length += c.length;
  });
  return { socket, received: () => Buffer.concat(chunks), length: () => length };
}

describe('issue 10: pipelined requests on one client connection', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('forwards 2,000 GETs pipelined in one write in order over a bounded number of backend connections', async () => {
    let backendConnections = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const backend = await startBackend(res, 'a', (req, response) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      response.on('finish', () => inFlight--);
      response.end(`<${req.url}>`);
    });
    backend.server.on('connection', () => backendConnections++);
    const { port } = await proxies.start({ backends: [backend.url] });
    const client = await rawClient(res, port);
    const N = 2000;
    let batch = '';
    for (let i = 0; i < N; i++) batch += GET(`/r${i}`);
    client.socket.write(batch);
    const seen = (): string[] => client.received().toString('latin1').match(/<\/r\d+>/g) ?? [];
    await waitFor(() => seen().length >= N, 20_000, `${N} answers`);
    expect(seen()).toEqual(Array.from({ length: N }, (_, i) => `</r${i}>`));
    expect(backendConnections).toBeLessThanOrEqual(2);
    expect(maxInFlight).toBe(1);
    client.socket.destroy();
  });

  it('keeps each pipelined request body with its own request when a body waits its turn', async () => {
    const backend = await startBackend(res, 'a', (req, response) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      // The first answer is slow, so the next requests and their bodies wait behind it.
      req.on('end', () => setTimeout(() => response.end(`<${req.url}:${Buffer.concat(chunks).length}:${Buffer.concat(chunks).subarray(0, 1).toString()}>`), req.url === '/b0' ? 200 : 0));
    });
    const { port } = await proxies.start({ backends: [backend.url] });
    const client = await rawClient(res, port);
    const sizes = [10, 300_000, 5, 70_000];
    let batch = '';
    sizes.forEach((size, i) => {
      batch += `POST /b${i} HTTP/1.1\r\nHost: pipelined.test\r\nContent-Length: ${size}\r\n\r\n` + String.fromCharCode(97 + i).repeat(size);
    });
    client.socket.write(batch);
    const seen = (): string[] => client.received().toString('latin1').match(/<\/b\d+:\d+:\w>/g) ?? [];
    await waitFor(() => seen().length === sizes.length, 5000, 'every answer');
    expect(seen()).toEqual(sizes.map((size, i) => `</b${i}:${size}:${String.fromCharCode(97 + i)}>`));
    client.socket.destroy();
  });

  it('keeps memory bounded for 2,000 x 1 MiB answers to a client that never reads, and frees it when the client leaves', async () => {
    const MiB = Buffer.alloc(1024 * 1024, 0x61);
    let backendConnections = 0;
    const backend = await startBackend(res, 'a', (_req, response) => {
      response.writeHead(200, { 'content-length': MiB.length });
      response.end(MiB);
    });
    backend.server.on('connection', () => backendConnections++);
    const { proxy, port } = await proxies.start({ backends: [backend.url] });
    global.gc?.();
    const before = process.memoryUsage().rss;
    const client = await rawClient(res, port);
    client.socket.pause(); // never reads
    let batch = '';
    for (let i = 0; i < 2000; i++) batch += GET(`/big${i}`);
    client.socket.write(batch);
    await new Promise((r) => setTimeout(r, 3000));
    // One answer in flight (socket buffers and one backend read buffer), not 2,000 queued bodies.
    expect(proxy.connections().length).toBeLessThanOrEqual(1);
    expect(backendConnections).toBeLessThanOrEqual(2);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    client.socket.destroy();
    await waitFor(() => proxy.connections().length === 0, 3000, 'empty table after the client left');
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('ends every queued exchange when the client vanishes mid-pipeline: table empty, fds back, later clients served', async () => {
    const backend = await startBackend(res, 'a', (req, response) => {
      setTimeout(() => response.end(`<${req.url}>`), 30);
    });
    const { proxy, port, url } = await proxies.start({ backends: [{ url: backend.url, maxConnections: 60 }] });
    expect((await httpRequest(`${url}/warm`)).status).toBe(200);
    const baseline = openFds();
    for (let round = 0; round < 5; round++) {
      const client = await rawClient(res, port);
      let batch = '';
      for (let i = 0; i < 50; i++) batch += GET(`/q${round}-${i}`);
      client.socket.write(batch);
      await waitFor(() => client.received().includes('</q'), 3000, 'first answer');
      client.socket.destroy();
    }
    await waitFor(() => proxy.connections().length === 0, 3000, 'empty table');
    await waitFor(() => openFds() <= baseline + 2, 6000, `fds back to baseline (${baseline})`);
    const later = await httpRequest(`${url}/later`);
    expect(later.status).toBe(200);
    expect(later.body).toBe('</later>');
  });

  it('stops reading a client that pipelines without end while its first answer is pending', async () => {
    const held: (() => void)[] = [];
    let answerAtOnce = false;
    let backendRequests = 0;
    const backend = await startBackend(res, 'a', (req, response) => {
      backendRequests++;
      const answer = (): void => void response.end(`<${req.url}>`);
      if (answerAtOnce) answer();
      else held.push(answer);
    });
    const { proxy, port } = await proxies.start({ backends: [backend.url] });
    global.gc?.();
    const before = process.memoryUsage().rss;
    const client = await rawClient(res, port);
    let batch = '';
    for (let i = 0; i < 2000; i++) batch += GET(`/p${i}`);
    // 20 MB of requests (some 720,000): far more than the kernel buffers of a loopback connection hold.
    for (let i = 0; i < 360; i++) client.socket.write(batch);
    await waitFor(() => held.length === 1, 3000, 'first request at the backend');
    await new Promise((r) => setTimeout(r, 1000));
    // The proxy stopped reading: what the kernel could not take is still in the client's own buffer.
    expect(client.socket.writableLength).toBeGreaterThan(4 * 1024 * 1024);
    expect(backendRequests).toBe(1);
    expect(proxy.connections()).toHaveLength(1);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    held.shift()?.();
    await waitFor(() => client.received().includes('</p0>'), 3000, 'the first answer');
    client.socket.destroy();
    // A socket the proxy does not read learns of the client's departure on its next write: the answer in flight.
    answerAtOnce = true;
    for (const answer of held.splice(0)) answer();
    await waitFor(() => proxy.connections().length === 0, 3000, 'empty table once the answer in flight is written');
  });

  it('does not fail an exchange with a re-entrant backend resume when a queued answer is written while another waits for drain', async () => {
    const big = Buffer.alloc(16 * 1024 * 1024, 0x62);
    const piece = Buffer.alloc(1024, 0x63);
    const PIECES = 10;
    const backend = await startBackend(res, 'a', (req, response) => {
      if (req.url === '/big') {
        response.writeHead(200, { 'content-length': big.length });
        response.end(big);
        return;
      }
      // Small pieces, sent once the first answer is stuck behind a client that does not read: each one is a
      // write to an answer Node still holds queued, which makes it emit 'drain' on the first answer at once.
      response.writeHead(200, { 'content-length': piece.length * PIECES });
      let sent = 0;
      let ticks = 0;
      const timer = setInterval(() => {
        if (++ticks < 30) return;
        response.write(piece);
        if (++sent === PIECES) {
          clearInterval(timer);
          response.end();
        }
      }, 10);
      timer.unref();
    });
    const { proxy, port } = await proxies.start({ backends: [backend.url] });
    const errors: SwitchboardError[] = [];
    proxy.on('error', (e) => errors.push(e));
    const client = await rawClient(res, port);
    client.socket.pause();
    client.socket.write(GET('/big') + GET('/pieces') + GET('/big') + GET('/pieces'));
    await new Promise((r) => setTimeout(r, 1200));
    client.socket.resume();
    const expected = 2 * (big.length + piece.length * PIECES);
    const bodyBytes = (): number => {
      const data = client.received();
      let total = 0;
      let at = 0;
      for (;;) {
        const headEnd = data.indexOf('\r\n\r\n', at);
        if (headEnd < 0) return total;
        const m = /content-length: (\d+)/i.exec(data.subarray(at, headEnd).toString('latin1'));
        const len = m === null ? 0 : Number(m[1]);
        const have = Math.min(len, data.length - headEnd - 4);
        total += have;
        if (have < len) return total;
        at = headEnd + 4 + len;
      }
    };
    await waitFor(() => client.length() >= expected && bodyBytes() >= expected, 15_000, 'both answers complete');
    expect(bodyBytes()).toBe(expected);
    expect(errors.map((e) => `${e.code} ${e.message}`)).toEqual([]);
    client.socket.destroy();
  });
});
