import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { DIAGNOSTICS_CHANNELS, type DiagnosticsMessages, type Proxy } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { histogramCount, parseExposition, sampleValue, type ParsedFamily } from './helpers/prometheus';
import { CheckedProxies, listenLocal, openWs, Resources, startBackend, waitFor } from './helpers/servers';

/** Checks every gauge against connections() and backends() read in the same tick as the scrape. */
function expectGaugesMatchTable(proxy: Proxy, families: Map<string, ParsedFamily>): void {
  const conns = proxy.connections();
  const backends = proxy.backends();
  for (const b of backends) {
    for (const protocol of ['http', 'websocket'] as const) {
      const live = conns.filter((c) => c.route === b.route && c.backend.id === b.id && c.protocol === protocol).length;
      expect({ route: b.route, backend: b.id, protocol, value: sampleValue(families, 'switchboard_connections', { route: b.route, backend: b.id, protocol }) }).toEqual({ route: b.route, backend: b.id, protocol, value: live });
    }
    expect(sampleValue(families, 'switchboard_connections', { route: b.route, backend: b.id })).toBe(b.activeConnections);
    expect(sampleValue(families, 'switchboard_backend_up', { route: b.route, backend: b.id })).toBe(b.state === 'up' ? 1 : 0);
    expect(sampleValue(families, 'switchboard_backend_state', { route: b.route, backend: b.id, state: b.state })).toBe(1);
  }
  expect(sampleValue(families, 'switchboard_connections')).toBe(conns.length);
}

describe('proxy.metrics()', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('parses as Prometheus text and its gauges match the connection table while WebSockets and HTTP requests are live', async () => {
    const held: ServerResponse[] = [];
    const a = await startBackend(res, 'a', (_req, response) => void held.push(response));
    const b = await startBackend(res, 'b', (_req, response) => void held.push(response));
    const { proxy, url, wsUrl } = await proxies.start({ backends: [{ url: a.url, id: 'a' }, { url: b.url, id: 'b' }], strategy: 'round-robin', healthCheck: false });

    const sockets = [await openWs(res, wsUrl), await openWs(res, wsUrl), await openWs(res, wsUrl)];
    const requests = [httpRequest(`${url}/slow/1`), httpRequest(`${url}/slow/2`)];
    await waitFor(() => held.length === 2, 5000, 'both requests at their backends');

    const text = proxy.metrics();
    const live = parseExposition(text);
    expectGaugesMatchTable(proxy, live);
    expect(sampleValue(live, 'switchboard_connections', { protocol: 'websocket' })).toBe(3);
    expect(sampleValue(live, 'switchboard_connections', { protocol: 'http' })).toBe(2);
    expect(live.get('switchboard_connections')?.type).toBe('GAUGE');
    expect(live.get('switchboard_connections_opened_total')?.type).toBe('COUNTER');
    expect(sampleValue(live, 'switchboard_connections_opened_total')).toBe(5);
    expect(histogramCount(text, 'switchboard_websocket_handshake_seconds', { route: 'default' })).toBe(3);
    expect(live.get('switchboard_websocket_handshake_seconds')?.type).toBe('HISTOGRAM');

    // Drain b while its connections are live: the scrape follows the state change at once.
    const draining = proxy.drain('b', { timeout: 2000 });
    expectGaugesMatchTable(proxy, parseExposition(proxy.metrics()));

    for (const r of held) r.end('done');
    const answers = await Promise.all(requests);
    expect(answers.map((x) => x.status)).toEqual([200, 200]);
    for (const ws of sockets) ws.close();
    await waitFor(() => proxy.connections().length === 0, 5000, 'table empty');
    await draining;

    const afterText = proxy.metrics();
    const after = parseExposition(afterText);
    expectGaugesMatchTable(proxy, after);
    expect(sampleValue(after, 'switchboard_connections')).toBe(0);
    expect(sampleValue(after, 'switchboard_connections_closed_total')).toBe(5);
    expect(sampleValue(after, 'switchboard_http_requests_total', { route: 'default', status_class: '2xx' })).toBe(2);
    expect(histogramCount(afterText, 'switchboard_upstream_latency_seconds', { route: 'default' })).toBe(2);
    // Bytes of closed connections stay counted: each request and handshake went in, each answer came out.
    expect(sampleValue(after, 'switchboard_bytes_total', { direction: 'in' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'switchboard_bytes_total', { direction: 'out' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'switchboard_backend_up', { backend: 'b' })).toBe(0);
  });

  it('labels every series with its route; the same backend id in two routes is two series', async () => {
    const a = await startBackend(res, 'a');
    const { proxy, wsUrl } = await proxies.start({ backends: [{ url: a.url, id: 'a' }], routes: [{ id: 'chat', path: '/chat', backends: [{ url: a.url, id: 'a' }] }], healthCheck: false });
    const plain = await openWs(res, `${wsUrl}/`);
    const chat = [await openWs(res, `${wsUrl}/chat`), await openWs(res, `${wsUrl}/chat/room`)];
    const text = proxy.metrics();
    const families = parseExposition(text);
    expectGaugesMatchTable(proxy, families);
    expect(sampleValue(families, 'switchboard_connections', { route: 'chat', backend: 'a', protocol: 'websocket' })).toBe(2);
    expect(sampleValue(families, 'switchboard_connections', { route: 'default', backend: 'a', protocol: 'websocket' })).toBe(1);
    expect(sampleValue(families, 'switchboard_backend_up', { route: 'chat', backend: 'a' })).toBe(1);
    expect(histogramCount(text, 'switchboard_websocket_handshake_seconds', { route: 'chat' })).toBe(2);
    await proxy.drain('a', { route: 'chat', timeout: 2000 });
    const after = parseExposition(proxy.metrics());
    expect(sampleValue(after, 'switchboard_connections_closed_total', { route: 'chat', reason: 'ERR_BACKEND_DRAINING' })).toBe(2);
    expect(sampleValue(after, 'switchboard_backend_up', { route: 'chat', backend: 'a' })).toBe(0);
    expect(sampleValue(after, 'switchboard_backend_up', { route: 'default', backend: 'a' })).toBe(1);
    expectGaugesMatchTable(proxy, after);
    plain.close();
    await once(plain, 'close');
    expect(chat.every((ws) => ws.readyState === ws.CLOSED || ws.readyState === ws.CLOSING)).toBe(true);
  });

  it('counts bytes of live WebSockets at the scrape, never less than the table shows', async () => {
    const a = await startBackend(res, 'a');
    const { proxy, wsUrl } = await proxies.start({ backends: [{ url: a.url, id: 'a' }], healthCheck: false });
    const ws = await openWs(res, wsUrl);
    ws.send(randomBytes(10_000)); // incompressible: the connection may use permessage-deflate
    await once(ws, 'message');
    const families = parseExposition(proxy.metrics());
    const [entry] = proxy.connections();
    expect(sampleValue(families, 'switchboard_bytes_total', { backend: 'a', direction: 'in' })).toBeGreaterThanOrEqual(entry!.bytesIn);
    expect(entry!.bytesIn).toBeGreaterThan(10_000);
    ws.close();
    await once(ws, 'close');
    await waitFor(() => proxy.connections().length === 0);
    expect(sampleValue(parseExposition(proxy.metrics()), 'switchboard_bytes_total', { backend: 'a', direction: 'in' })).toBeGreaterThan(10_000);
  });

  it('counts retries, errors by code and the proxy\'s own error answers', async () => {
    const dead = createServer();
    const deadPort = await listenLocal(res, dead);
    await res.cleanup(); // the port is now closed: connecting to it is refused
    const good = await startBackend(res, 'good');
    const { proxy, url } = await proxies.start({ backends: [{ url: `http://127.0.0.1:${deadPort}`, id: 'dead' }, { url: good.url, id: 'good' }], strategy: 'round-robin', retries: 1, healthCheck: false, outlierDetection: false });
    // Round-robin starts at the dead backend: the request fails there once and is retried on the good one.
    expect((await httpRequest(`${url}/1`)).status).toBe(200);
    let families = parseExposition(proxy.metrics());
    expect(sampleValue(families, 'switchboard_retries_total', { backend: 'dead', protocol: 'http' })).toBe(1);
    expect(sampleValue(families, 'switchboard_errors_total', { code: 'ERR_BACKEND_CONNECT' })).toBe(1);
    expect(sampleValue(families, 'switchboard_connections_closed_total', { backend: 'dead', reason: 'ERR_BACKEND_CONNECT' })).toBe(1);
    expect(sampleValue(families, 'switchboard_http_requests_total', { backend: 'good', status_class: '2xx' })).toBe(1);

    await proxy.drain('good', { timeout: 0 });
    await proxy.drain('dead', { timeout: 0 });
    expect((await httpRequest(`${url}/3`)).status).toBe(503);
    families = parseExposition(proxy.metrics());
    expect(sampleValue(families, 'switchboard_http_requests_total', { backend: '', status_class: '5xx' })).toBe(1);
    expect(sampleValue(families, 'switchboard_errors_total', { code: 'ERR_NO_BACKEND' })).toBe(1);
  });

  it('counts an outlier ejection and shows the ejected backend down', async () => {
    const dead = createServer();
    const deadPort = await listenLocal(res, dead);
    await res.cleanup();
    const good = await startBackend(res, 'good');
    const { proxy, url } = await proxies.start({
      backends: [{ url: `http://127.0.0.1:${deadPort}`, id: 'dead' }, { url: good.url, id: 'good' }],
      healthCheck: false,
      outlierDetection: { consecutiveFailures: 2, baseEjectionTime: 60_000 },
    });
    for (let i = 0; i < 6; i++) expect((await httpRequest(`${url}/`)).status).toBe(200);
    const families = parseExposition(proxy.metrics());
    expect(sampleValue(families, 'switchboard_ejections_total', { backend: 'dead' })).toBe(1);
    expect(sampleValue(families, 'switchboard_backend_state', { backend: 'dead', state: 'down' })).toBe(1);
    expectGaugesMatchTable(proxy, families);
  });

  it('adds its metrics to a prom-client registry next to the user\'s own', async () => {
    const a = await startBackend(res, 'a');
    const { proxy, wsUrl } = await proxies.start({ backends: [{ url: a.url, id: 'a' }], healthCheck: false });
    const registry = new Registry();
    const mine = new Counter({ name: 'app_jobs_total', help: 'Jobs done.', registers: [registry] });
    mine.inc(3);
    proxy.registerMetrics(registry);
    const ws = await openWs(res, wsUrl);

    const text = await registry.metrics();
    const families = parseExposition(text);
    expect(sampleValue(families, 'app_jobs_total')).toBe(3);
    expect(sampleValue(families, 'switchboard_connections', { backend: 'a', protocol: 'websocket' })).toBe(1);
    expect(histogramCount(text, 'switchboard_websocket_handshake_seconds', { backend: 'a' })).toBe(1);
    expectGaugesMatchTable(proxy, families);
    // A registry reset is the registry's business: the proxy's counters keep their values.
    registry.resetMetrics();
    expect(sampleValue(parseExposition(await registry.metrics()), 'switchboard_connections_opened_total')).toBe(1);
    ws.close();
    await once(ws, 'close');
  });
});

describe('diagnostics channels', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('publish opens, closes, handshakes and state changes to subscribers, with the proxy that sent them', async () => {
    const a = await startBackend(res, 'a');
    const { proxy, wsUrl } = await proxies.start({ backends: [{ url: a.url, id: 'a' }], healthCheck: false });
    const seen: string[] = [];
    const onOpen = (m: unknown): void => {
      const { connection, route, proxy: from } = m as DiagnosticsMessages['connectionOpen'];
      if (from === proxy) seen.push(`open ${route} ${connection.backend.id} ${connection.protocol}`);
    };
    const onHandshake = (m: unknown): void => {
      const msg = m as DiagnosticsMessages['websocketHandshake'];
      if (msg.proxy === proxy) seen.push(`handshake ${msg.backendId} ${msg.durationMs >= 0}`);
    };
    const onClose = (m: unknown): void => {
      const msg = m as DiagnosticsMessages['connectionClose'];
      if (msg.proxy === proxy) seen.push(`close ${msg.connection.backend.id} ${msg.connection.bytesIn > 0} ${msg.reason?.code ?? 'normal'}`);
    };
    const onState = (m: unknown): void => {
      const msg = m as DiagnosticsMessages['backendState'];
      if (msg.proxy === proxy) seen.push(`state ${msg.backend.id} ${msg.previous}->${msg.backend.state}`);
    };
    subscribe(DIAGNOSTICS_CHANNELS.connectionOpen, onOpen);
    subscribe(DIAGNOSTICS_CHANNELS.websocketHandshake, onHandshake);
    subscribe(DIAGNOSTICS_CHANNELS.connectionClose, onClose);
    subscribe(DIAGNOSTICS_CHANNELS.backendState, onState);
    try {
      const ws = await openWs(res, wsUrl);
      ws.close();
      await once(ws, 'close');
      await waitFor(() => proxy.connections().length === 0);
      await proxy.drain('a', { timeout: 0 });
      expect(seen).toEqual(['open default a websocket', 'handshake a true', 'close a true normal', 'state a up->draining']);
    } finally {
      unsubscribe(DIAGNOSTICS_CHANNELS.connectionOpen, onOpen);
      unsubscribe(DIAGNOSTICS_CHANNELS.websocketHandshake, onHandshake);
      unsubscribe(DIAGNOSTICS_CHANNELS.connectionClose, onClose);
      unsubscribe(DIAGNOSTICS_CHANNELS.backendState, onState);
    }
  });
});
