import { once } from 'node:events';
import { connect, createSecureServer, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createProxy, type Proxy, type ProxyOptions } from '@switchboard/proxy';
import type { Resources } from './servers';
import type { TestPki } from './tls';

/**
 * A proxy serving HTTP/2 and HTTP/1.1 on one TLS port: `listen({ tls, http2: true })`, or `attach()` to a
 * node:http2 secure server made with `proxy.http2ServerOptions()`. Closed at clean-up.
 */
export async function startH2Proxy(res: Resources, options: ProxyOptions, pki: TestPki, how: 'listen' | 'attach' = 'listen'): Promise<{ proxy: Proxy; port: number; url: string }> {
  const proxy = createProxy(options);
  if (how === 'listen') {
    const addr = await proxy.listen({ port: 0, host: '127.0.0.1', tls: { key: pki.key, cert: pki.cert }, http2: true });
    res.add(() => proxy.close());
    return { proxy, port: addr.port, url: `https://127.0.0.1:${addr.port}` };
  }
  const server = createSecureServer({ ...proxy.http2ServerOptions(), key: pki.key, cert: pki.cert });
  const sockets = new Set<import('node:net').Socket>();
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  proxy.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  res.add(async () => {
    await proxy.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as AddressInfo).port;
  return { proxy, port, url: `https://127.0.0.1:${port}` };
}

/** An HTTP/2 client session to `url`, trusting the test CA; closed at clean-up. */
export async function openH2(res: Resources, url: string, pki: TestPki, settings?: ClientHttp2Session['localSettings']): Promise<ClientHttp2Session> {
  const session = connect(url, { ca: pki.ca, servername: 'localhost', ...(settings !== undefined && { settings }) });
  session.on('error', () => undefined);
  res.add(() => {
    if (!session.destroyed) session.destroy();
  });
  await once(session, 'remoteSettings');
  return session;
}

export interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
}

/** One request on `session`; resolves once the stream has ended. */
export function h2Request(
  session: ClientHttp2Session,
  request: { method?: string; path?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; trailers?: OutgoingHttpHeaders } = {},
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const hasTrailers = request.trailers !== undefined;
    const stream = session.request(
      { ':method': request.method ?? 'GET', ':path': request.path ?? '/', ...request.headers },
      { endStream: request.body === undefined && !hasTrailers, waitForTrailers: hasTrailers },
    );
    if (hasTrailers) stream.on('wantTrailers', () => stream.sendTrailers(request.trailers!));
    let head: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (head = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => {
      if (head === undefined) reject(new Error(`stream closed without a response (rstCode ${stream.rstCode})`));
      else resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), trailers });
    });
    if (request.body !== undefined) stream.end(request.body);
    else if (hasTrailers) stream.end();
  });
}
