/**
 * Issue 15: WebSockets over HTTP/2 (RFC 8441 extended CONNECT), from Node's http2 client over TLS to real `ws`
 * backends speaking HTTP/1.1. Each spec ends with every proxy's connection table empty.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { constants } from 'node:http2';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxy, type Proxy, type ProxyOptions, type SwitchboardError } from '@switchboard/proxy';
import { connectH2, h2RoundTrip, listenH2, openH2WebSocket, wsConnectHeaders, type H2WebSocket } from './helpers/h2-websocket';
import { Resources, listenLocal, startBackend, waitFor } from './helpers/servers';
import { makeTestPki } from './helpers/tls';

const pki = makeTestPki();

describe('WebSockets over HTTP/2 (RFC 8441)', () => {
  const res = new Resources();
  const errors: SwitchboardError[] = [];
  const proxies: Proxy[] = [];

  afterEach(async () => {
    try {
      await waitFor(() => proxies.every((p) => p.connections().length === 0), 3000, 'empty tables');
    } finally {
      proxies.length = 0;
      errors.length = 0;
      await res.cleanup();
    }
  });

  /** A proxy behind an HTTP/2 TLS front; its errors are collected and its table checked after the spec. */
  async function start(options: ProxyOptions): Promise<{ proxy: Proxy; port: number }> {
    const proxy = createProxy(options);
    proxy.on('error', (e) => errors.push(e));
    proxies.push(proxy);
    const port = await listenH2(res, proxy, pki);
    return { proxy, port };
  }

  /** A valid extended CONNECT on a new session; expects the WebSocket to open. */
  async function openWs(port: number, path = '/', extra: Record<string, string> = {}): Promise<H2WebSocket> {
    const session = await connectH2(res, port, pki);
    const ws = await openH2WebSocket(session, { ...wsConnectHeaders(port, path), ...extra });
    expect(ws.status).toBe(200);
    return ws;
  }

  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, answers :status 200 and echoes text and binary messages', async () => {
    const backend = await startBackend(res, 'a');
    const seen: IncomingMessage[] = [];
    backend.wss.on('connection', (_s, req: IncomingMessage) => seen.push(req));
    const { proxy, port } = await start({ backends: [backend.url] });
    const ws = await openWs(port, '/chat?room=1');
    // No HTTP/1.1 handshake header leaks into the HTTP/2 answer.
    for (const name of ['upgrade', 'connection', 'sec-websocket-accept']) expect(ws.headers[name]).toBeUndefined();

    expect(await h2RoundTrip(ws, 'hello over h2')).toBe('hello over h2');
    const big = Buffer.alloc(200_000, 7);
    ws.send(big);
    const echoed = await ws.next();
    expect(echoed.kind === 'message' && echoed.binary && echoed.data.equals(big)).toBe(true);

    // The backend saw an ordinary HTTP/1.1 upgrade: the path, Host from :authority, a key of the proxy's making.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/chat?room=1');
    expect(seen[0]!.headers.host).toBe(`localhost:${port}`);
    expect(seen[0]!.headers['x-forwarded-proto']).toBe('https');
    expect(seen[0]!.headers['sec-websocket-key']).toMatch(/^[+/0-9A-Za-z]{22}==$/);

    const [record] = proxy.connections();
    expect(record).toMatchObject({ protocol: 'websocket', dataPlane: 'js', http2Stream: ws.stream.id, backend: { id: backend.url.slice('http://'.length) } });

    ws.close(1000, 'bye');
    const reply = await ws.next();
    expect(reply).toEqual({ kind: 'close', code: 1000, reason: 'bye' });
    ws.stream.end();
    expect(await ws.ended).toBe(constants.NGHTTP2_NO_ERROR);
    await waitFor(() => proxy.connections().length === 0);
    expect(errors).toEqual([]);
  });
});

// Silence unused imports while the spec grows.
void once; void spawn; void join; void createServer; void listenLocal; void WebSocket; void WebSocketServer;
export type { Duplex };
