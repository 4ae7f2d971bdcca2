/**
 * Issue 10, item 4 (HTTP part): once a response head has gone to the client, a later failure cuts the connection;
 * the proxy never writes an error head of its own into the body.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { SwitchboardError } from '@switchboard/proxy';
import { rawExchange, head } from './helpers/raw';
import { CheckedProxies, Resources } from './helpers/servers';

/** A backend speaking raw bytes: `answer` gets each accepted socket after its first read. */
async function rawBackend(res: Resources, answer: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', () => answer(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  res.add(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('issue 10: no proxy error head inside a relayed HTTP body', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  const request = head('GET /x HTTP/1.1', 'Host: a.test');

  it('cuts the client connection when the backend sends a malformed chunk after the head', async () => {
    const url = await rawBackend(res, (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZZ\r\n'));
    const { proxy, port } = await proxies.start({ backends: [url] });
    const errors: SwitchboardError[] = [];
    proxy.on('error', (e) => errors.push(e));
    const answer = await rawExchange(port, request, 3000);
    const text = answer.data.toString('latin1');
    expect(answer.status).toBe(200);
    expect(answer.closed).toBe(true);
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(text).not.toMatch(/HTTP\/1\.1 50[24]/);
    expect(errors.map((e) => e.code)).toContain('ERR_BACKEND_PROTOCOL');
  });

  it('cuts the client connection when the body stalls past bodyTimeout after the head', async () => {
    const url = await rawBackend(res, (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'));
    const { proxy, port } = await proxies.start({ backends: [url], bodyTimeout: 300 });
    const errors: SwitchboardError[] = [];
    proxy.on('error', (e) => errors.push(e));
    const answer = await rawExchange(port, request, 3000);
    const text = answer.data.toString('latin1');
    expect(answer.status).toBe(200);
    expect(answer.closed).toBe(true);
    expect(answer.elapsed).toBeLessThan(2500);
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(text).not.toMatch(/HTTP\/1\.1 50[24]/);
    expect(errors.map((e) => e.code)).toContain('ERR_BACKEND_TIMEOUT');
  });

  it('cuts the connection, not the next pipelined answer, when the first answer fails mid-body', async () => {
    const url = await rawBackend(res, (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZZ\r\n'));
    const { port } = await proxies.start({ backends: [url] });
    const answer = await rawExchange(port, request + request, 3000);
    const text = answer.data.toString('latin1');
    expect(answer.closed).toBe(true);
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});
