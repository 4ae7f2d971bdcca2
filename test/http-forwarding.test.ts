import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import { createProxy } from '@switchboard/proxy';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { httpRequest } from './helpers/http';
import { Resources, startBackend, startProxy, waitFor } from './helpers/servers';

/** A readable of `size` deterministic bytes produced chunk by chunk, never held in memory. */
function patternStream(size: number, chunk = 64 * 1024): Readable {
  let sent = 0;
  const block = Buffer.alloc(chunk);
  for (let i = 0; i < chunk; i++) block[i] = (i * 31) & 0xff;
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(chunk, size - sent);
      sent += n;
      this.push(n === chunk ? block : block.subarray(0, n));
    },
  });
}

function patternDigest(size: number, chunk = 64 * 1024): string {
  const h = createHash('sha256');
  const block = Buffer.alloc(chunk);
  for (let i = 0; i < chunk; i++) block[i] = (i * 31) & 0xff;
  for (let sent = 0; sent < size; sent += chunk) h.update(block.subarray(0, Math.min(chunk, size - sent)));
  return h.digest('hex');
}

describe('HTTP forwarding', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('passes method, path, status and end-to-end headers, and drops hop-by-hop headers both ways', async () => {
    const backend = await startBackend(res, 'a', (req, response) => {
      response.writeHead(207, { 'x-app': 'yes', connection: 'x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=99' });
      response.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
    const { url } = await startProxy(res, { backends: [backend.url] });
    const r = await httpRequest(`${url}/items?x=1`, {
      method: 'PATCH',
      headers: { 'x-custom': 'v', connection: 'x-drop-me, keep-alive', 'x-drop-me': '1', 'proxy-connection': 'keep-alive', te: 'trailers' },
      body: 'hi',
    });
    expect(r.status).toBe(207);
    expect(r.headers['x-app']).toBe('yes');
    expect(r.headers['x-hop']).toBeUndefined();
    expect(r.headers['keep-alive']).not.toBe('timeout=99');
    const seen = JSON.parse(r.body) as { method: string; url: string; headers: Record<string, string> };
    expect(seen.method).toBe('PATCH');
    expect(seen.url).toBe('/items?x=1');
    expect(seen.headers['x-custom']).toBe('v');
    expect(seen.headers['x-drop-me']).toBeUndefined();
    expect(seen.headers['proxy-connection']).toBeUndefined();
    expect(seen.headers['te']).toBeUndefined();
  });

  it('sets X-Forwarded-For/-Proto/-Host, overwriting what the client sent, and Forwarded only when asked', async () => {
    const backend = await startBackend(res, 'a');
    const plain = await startProxy(res, { backends: [backend.url] });
    const r1 = await httpRequest(`${plain.url}/`, { headers: { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6', host: 'public.example:8443' } });
    const h1 = (JSON.parse(r1.body) as { headers: Record<string, string> }).headers;
    expect(h1['x-forwarded-for']).toBe('127.0.0.1');
    expect(h1['x-forwarded-proto']).toBe('http');
    expect(h1['x-forwarded-host']).toBe('public.example:8443');
    expect(h1['host']).toBe('public.example:8443');
    expect(h1['forwarded']).toBeUndefined();

    const rfc = await startProxy(res, { backends: [backend.url], forwarded: true, xForwarded: false });
    const r2 = await httpRequest(`${rfc.url}/`, { headers: { host: 'public.example' } });
    const h2 = (JSON.parse(r2.body) as { headers: Record<string, string> }).headers;
    expect(h2['forwarded']).toBe('for=127.0.0.1;proto=http;host="public.example"');
    expect(h2['x-forwarded-for']).toBeUndefined();
  });

  it('passes response trailers through', async () => {
    const backend = await startBackend(res, 'a', (_req, response) => {
      response.writeHead(200, { trailer: 'x-checksum' });
      response.write('part1;');
      response.addTrailers({ 'x-checksum': 'abc123' });
      response.end('part2');
    });
    const { url } = await startProxy(res, { backends: [backend.url] });
    const r = await httpRequest(`${url}/`);
    expect(r.body).toBe('part1;part2');
    expect(r.trailers['x-checksum']).toBe('abc123');
  });

  it('streams a 64 MiB upload and a 64 MiB download through with bounded proxy memory', async () => {
    const size = 64 * 1024 * 1024;
    const backend = await startBackend(res, 'a', (req, response) => {
      if (req.method === 'POST') {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          n += c.length;
          h.update(c);
        });
        req.on('end', () => response.end(JSON.stringify({ n, digest: h.digest('hex') })));
      } else {
        response.writeHead(200, { 'content-length': String(size) });
        patternStream(size).pipe(response);
      }
    });
    const { url, proxy } = await startProxy(res, { backends: [backend.url] });
    const expected = patternDigest(size);
    // Live memory, not garbage: a full collection before each reading (jest runs without --expose-gc), so the figure
    // does not depend on when V8 happens to collect on a loaded machine.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const liveBytes = (): number => {
      collect();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = liveBytes();

    const up = await httpRequest(`${url}/upload`, { method: 'POST', headers: { 'content-length': String(size) }, body: patternStream(size) });
    expect(JSON.parse(up.body)).toEqual({ n: size, digest: expected });

    // Download: consume it chunk by chunk, slowly at first, so backpressure must hold the backend.
    let peakHeap = 0;
    let nextReading = 0;
    const downloaded = await new Promise<{ n: number; digest: string }>((resolve, reject) => {
      const req = request(`${url}/download`, { agent: false }, (response) => {
        const h = createHash('sha256');
        let n = 0;
        response.on('data', (c: Buffer) => {
          n += c.length;
          h.update(c);
          // A reading every 4 MiB: 16 over the body, each after a full collection.
          if (n >= nextReading) {
            nextReading += 4 * 1024 * 1024;
            peakHeap = Math.max(peakHeap, liveBytes());
          }
        });
        response.on('end', () => resolve({ n, digest: h.digest('hex') }));
        response.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(downloaded).toEqual({ n: size, digest: expected });
    // The whole process (client, proxy and backend share it) stays far below one body size.
    const growth = peakHeap - before;
    // A buffered body would add at least its own 64 MiB; streaming stays well below it.
    expect(growth).toBeLessThan(size * 0.75);
    await waitFor(() => proxy.connections().length === 0);
  });

  it('aborts the backend request when the client aborts mid-upload, and removes the table entry', async () => {
    let backendSawAbort = false;
    let resolveStarted: () => void = () => undefined;
    const started = new Promise<void>((r) => (resolveStarted = r));
    const backend = await startBackend(res, 'a', (req) => {
      req.once('data', () => resolveStarted());
      req.on('close', () => {
        if (!req.complete) backendSawAbort = true;
      });
    });
    const { url, proxy } = await startProxy(res, { backends: [backend.url] });
    const req = request(`${url}/slow-upload`, { method: 'POST', agent: false, headers: { 'content-length': '1000000' } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1000));
    await started;
    expect(proxy.connections()).toHaveLength(1);
    expect(proxy.connections()[0]!.protocol).toBe('http');
    req.destroy();
    await waitFor(() => backendSawAbort, 5000, 'backend to see the abort');
    await waitFor(() => proxy.connections().length === 0, 5000, 'table to empty');
  });

  it('ends the client response (no hang) when the backend dies mid-response', async () => {
    const backend = await startBackend(res, 'a', (_req, response) => {
      response.writeHead(200, { 'content-length': '100000' });
      response.write(Buffer.alloc(1000));
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const { url, proxy } = await startProxy(res, { backends: [backend.url] });
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${url}/`, { agent: false }, (response) => {
        response.on('data', () => undefined);
        response.on('end', () => resolve('end'));
        response.on('error', () => resolve('error'));
        response.on('aborted', () => resolve('aborted'));
      });
      req.on('error', () => resolve('error'));
      req.end();
    });
    expect(['error', 'aborted']).toContain(outcome);
    await waitFor(() => proxy.connections().length === 0);
  });

  it('keeps an HTTP entry in the table only while the request is in flight', async () => {
    let release: (() => void) | undefined;
    const backend = await startBackend(res, 'a', (_req, response) => {
      release = () => response.end('done');
    });
    const { url, proxy } = await startProxy(res, { backends: [{ url: backend.url, id: 'only' }] });
    const pending = httpRequest(`${url}/`);
    // The entry exists before the backend sees the request: wait for both, or release() could come too early.
    await waitFor(() => proxy.connections().length === 1 && release !== undefined);
    const [entry] = proxy.connections();
    expect(entry).toMatchObject({ protocol: 'http', backend: { id: 'only' }, client: { address: '127.0.0.1' } });
    expect(proxy.backends()[0]!.activeConnections).toBe(1);
    release!();
    expect((await pending).body).toBe('done');
    await waitFor(() => proxy.connections().length === 0);
    expect(proxy.backends()[0]!.activeConnections).toBe(0);
  });

  it('closes and finishes connections with the proxy: requests after close() get 503', async () => {
    const backend = await startBackend(res, 'a');
    const server = createServer();
    const proxy = createProxy({ backends: [backend.url] });
    proxy.attach(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    res.add(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    expect((await httpRequest(`http://127.0.0.1:${port}/`)).status).toBe(200);
    await proxy.close();
    const after = await httpRequest(`http://127.0.0.1:${port}/`);
    expect(after.status).toBe(503);
    expect(after.headers['retry-after']).toBe('1');
  });
});
