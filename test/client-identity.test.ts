/**
 * Who the client is: trustProxy (X-Forwarded-For / Forwarded believed only from trusted peers) and the PROXY
 * protocol v1/v2 from trusted balancers, as seen by the connection table, the backends and ip-hash placement.
 * The test client is always 127.0.0.1; trusting 'loopback' makes it a balancer, anything else makes it a client.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Proxy } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { startCountingBackend, type CountingBackend } from './helpers/counting-backend';
import { proxyV1, proxyV2 } from './helpers/proxy-header';
import { WS_HEADERS, bodyOf, head, rawExchange, type RawStep } from './helpers/raw';
import { proxySuite, Resources, openWs, startBackend, waitFor } from './helpers/servers';

const HOST = 'Host: 127.0.0.1';

/** The JSON the echo backend answers: its id and the request headers it received. */
interface Echo {
  id: string;
  headers: Record<string, string | undefined>;
}

/** One request on a fresh raw connection (optionally behind a PROXY header); resolves with the echo. */
async function rawEcho(port: number, prefix: string | Buffer, ...extraHeaders: string[]): Promise<Echo> {
  const request = Buffer.concat([Buffer.from(prefix), Buffer.from(head('GET /who HTTP/1.1', HOST, ...extraHeaders, 'Connection: close'))]);
  const answer = await rawExchange(port, request);
  expect(answer.status).toBe(200);
  return JSON.parse(bodyOf(answer)) as Echo;
}

/** Opens a raw connection, writes `bytes` (a WebSocket handshake), and resolves once the 101 head has arrived. */
async function rawUpgrade(res: Resources, port: number, steps: readonly RawStep[]): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  res.add(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  for (const s of steps) {
    if (typeof s === 'string' || Buffer.isBuffer(s)) socket.write(s);
    else if ('wait' in s) await new Promise((r) => setTimeout(r, s.wait));
  }
  let got = '';
  while (!got.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    got += chunk.toString('latin1');
  }
  expect(got.startsWith('HTTP/1.1 101 ')).toBe(true);
  return socket;
}

function wsHandshake(...extra: string[]): string {
  return head('GET /ws HTTP/1.1', HOST, ...WS_HEADERS, ...extra);
}

async function closeAndDrain(proxy: Proxy, socket: Socket): Promise<void> {
  socket.destroy();
  await waitFor(() => proxy.connections().length === 0, 3000, 'an empty table');
}

describe('client identity', () => {
  // Every test ends by checking that the proxies' tables are empty.
  const { res, proxies } = proxySuite();

  describe('trustProxy and forwarding headers', () => {
    it('believes X-Forwarded-For from a trusted peer: the table shows the client, the backend gets the chain extended by the peer', async () => {
      const backend = await startBackend(res, 'a');
      const upgrades: (string | undefined)[] = [];
      backend.server.prependListener('upgrade', (req) => upgrades.push(req.headers['x-forwarded-for'] as string | undefined));
      const { proxy, url, wsUrl } = await proxies.start({ backends: [backend.url], trustProxy: ['loopback'] });

      const echo = JSON.parse((await httpRequest(`${url}/`, { headers: { 'X-Forwarded-For': '203.0.113.7' } })).body) as Echo;
      expect(echo.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');

      const ws = await openWs(res, wsUrl, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
      const localPort = (ws as unknown as { _socket: Socket })._socket.localPort;
      expect(proxy.connections().map((c) => c.client)).toEqual([{ address: '203.0.113.7', port: localPort }]);
      expect(upgrades).toEqual(['203.0.113.7, 127.0.0.1']);
      ws.close();
      await waitFor(() => proxy.connections().length === 0);
    });

    it('walks the chain right to left past trusted hops (CIDR list) and stops at the first untrusted address', async () => {
      const backend = await startBackend(res, 'a');
      const { proxy, url, wsUrl } = await proxies.start({ backends: [backend.url], trustProxy: ['loopback', '10.0.0.0/8'] });
      const echo = JSON.parse((await httpRequest(`${url}/`, { headers: { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.1.2.3' } })).body) as Echo;
      // Nothing is dropped from the chain the backend gets; the proxy only decides who the client is.
      expect(echo.headers['x-forwarded-for']).toBe('6.6.6.6, 203.0.113.7, 10.1.2.3, 127.0.0.1');
      const ws = await openWs(res, wsUrl, { headers: { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.1.2.3' } });
      expect(proxy.connections().map((c) => c.client.address)).toEqual(['203.0.113.7']);
      ws.close();
      await waitFor(() => proxy.connections().length === 0);
    });

    it('believes RFC 7239 Forwarded for= (IPv6 with port) from a trusted peer', async () => {
      const backend = await startBackend(res, 'a');
      const { proxy, wsUrl } = await proxies.start({ backends: [backend.url], trustProxy: ['loopback'] });
      const ws = await openWs(res, wsUrl, { headers: { Forwarded: 'for="[2001:DB8::7]:4711";proto=https' } });
      expect(proxy.connections().map((c) => c.client.address)).toEqual(['2001:db8::7']);
      ws.close();
      await waitFor(() => proxy.connections().length === 0);
    });

    it('trusts nobody when X-Forwarded-For and Forwarded disagree (one of them is forged): the peer stands', async () => {
      const backend = await startBackend(res, 'a');
      const { proxy, wsUrl } = await proxies.start({ backends: [backend.url], trustProxy: ['loopback'] });
      const ws = await openWs(res, wsUrl, { headers: { 'X-Forwarded-For': '203.0.113.7', Forwarded: 'for=198.51.100.1' } });
      expect(proxy.connections().map((c) => c.client.address)).toEqual(['127.0.0.1']);
      ws.close();
      await waitFor(() => proxy.connections().length === 0);
    });

    it.each([
      ['the default (trust nobody)', undefined],
      ['a CIDR list that does not hold the peer', ['10.0.0.0/8', '192.168.0.0/16', '::1/128']],
    ])('overwrites forwarding headers from an untrusted peer: %s', async (_name, trustProxy) => {
      const backend = await startBackend(res, 'a');
      const { proxy, url, wsUrl } = await proxies.start({ backends: [backend.url], ...(trustProxy === undefined ? {} : { trustProxy }) });
      const echo = JSON.parse(
        (await httpRequest(`${url}/`, { headers: { 'X-Forwarded-For': '203.0.113.7', Forwarded: 'for=203.0.113.7', 'X-Forwarded-Proto': 'https' } })).body,
      ) as Echo;
      expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(echo.headers['x-forwarded-proto']).toBe('http');
      expect(echo.headers['forwarded']).toBeUndefined();
      const ws = await openWs(res, wsUrl, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
      expect(proxy.connections().map((c) => c.client.address)).toEqual(['127.0.0.1']);
      ws.close();
      await waitFor(() => proxy.connections().length === 0);
    });
  });

  describe('ip-hash places by the resolved client IP', () => {
    const CLIENTS = Array.from({ length: 24 }, (_, i) => `198.51.100.${i + 1}`);

    async function threeBackends(): Promise<CountingBackend[]> {
      return Promise.all(['a', 'b', 'c'].map((id) => startCountingBackend(res, id)));
    }

    it('the same forwarded client always lands on the same backend; different clients spread out', async () => {
      const backends = await threeBackends();
      const { url } = await proxies.start({ backends: backends.map((b) => b.url), strategy: 'ip-hash', trustProxy: ['loopback'] });
      const placement = new Map<string, string>();
      for (const ip of CLIENTS) {
        for (let round = 0; round < 2; round++) {
          const { id } = JSON.parse((await httpRequest(`${url}/`, { headers: { 'X-Forwarded-For': ip } })).body) as Echo;
          if (round === 0) placement.set(ip, id);
          else expect(id).toBe(placement.get(ip));
        }
      }
      expect(new Set(placement.values()).size).toBeGreaterThan(1);
    });

    it('ignores forged addresses from an untrusted peer: every request lands where 127.0.0.1 hashes', async () => {
      const backends = await threeBackends();
      const { url } = await proxies.start({ backends: backends.map((b) => b.url), strategy: 'ip-hash' });
      const ids = new Set<string>();
      for (const ip of CLIENTS) ids.add((JSON.parse((await httpRequest(`${url}/`, { headers: { 'X-Forwarded-For': ip } })).body) as Echo).id);
      expect(ids.size).toBe(1);
    });

    it('a client announced by a PROXY header lands where the same client named in X-Forwarded-For does', async () => {
      const backends = await threeBackends();
      const urls = backends.map((b) => b.url);
      const viaXff = await proxies.start({ backends: urls, strategy: 'ip-hash', trustProxy: ['loopback'] });
      const viaPp = await proxies.start({ backends: urls, strategy: 'ip-hash', trustProxy: ['loopback'], proxyProtocol: true });
      for (const [i, ip] of CLIENTS.slice(0, 12).entries()) {
        const a = (JSON.parse((await httpRequest(`${viaXff.url}/`, { headers: { 'X-Forwarded-For': ip } })).body) as Echo).id;
        const b = (await rawEcho(viaPp.port, i % 2 === 0 ? proxyV1(ip, '10.0.0.1', 40000 + i, 80) : proxyV2({ src: ip, dst: '10.0.0.1', srcPort: 40000 + i, dstPort: 80 }))).id;
        expect(b).toBe(a);
      }
    });
  });

  describe('PROXY protocol (proxyProtocol: true)', () => {
    async function setup(trustProxy: string[]): Promise<{ backend: CountingBackend; proxy: Proxy; port: number; upgrades: string[] }> {
      const backend = await startCountingBackend(res, 'a');
      const upgrades: string[] = [];
      backend.inner.server.prependListener('upgrade', (req) => upgrades.push(String(req.headers['x-forwarded-for'])));
      const { proxy, port } = await proxies.start({ backends: [backend.url], trustProxy, proxyProtocol: true, clientHeadersTimeout: 300 });
      return { backend, proxy, port, upgrades };
    }

    it.each([
      ['v1 TCP4', () => proxyV1('203.0.113.7', '10.0.0.1', 51234, 443), { address: '203.0.113.7', port: 51234 }],
      ['v1 TCP6', () => proxyV1('2001:db8::7', '2001:db8::1', 51234, 443), { address: '2001:db8::7', port: 51234 }],
      ['v2 INET', () => proxyV2({ src: '203.0.113.7', dst: '10.0.0.1', srcPort: 51234, dstPort: 443 }), { address: '203.0.113.7', port: 51234 }],
      ['v2 INET6', () => proxyV2({ src: '2001:db8::7', dst: '2001:db8::1', srcPort: 65535, dstPort: 443 }), { address: '2001:db8::7', port: 65535 }],
      [
        'v2 INET with AWS NLB TLVs (VPC endpoint id) and a CRC TLV',
        () =>
          proxyV2({
            src: '203.0.113.7',
            dst: '10.0.0.1',
            srcPort: 51234,
            dstPort: 443,
            tlvs: [
              { type: 0xea, value: Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-0123456789abcdef0')]) },
              { type: 0x03, value: Buffer.from([0, 0, 0, 0]) },
            ],
          }),
        { address: '203.0.113.7', port: 51234 },
      ],
    ])('%s from a trusted peer: the announced ip:port is in the table and the backend X-Forwarded-For', async (_name, header, client) => {
      const { proxy, port, upgrades } = await setup(['loopback']);
      // A forged X-Forwarded-For after a trusted PROXY header is not believed and not extended.
      const echo = await rawEcho(port, header(), 'X-Forwarded-For: 6.6.6.6');
      expect(echo.headers['x-forwarded-for']).toBe(client.address);
      const socket = await rawUpgrade(res, port, [header(), wsHandshake('X-Forwarded-For: 6.6.6.6')]);
      expect(proxy.connections().map((c) => ({ ...c.client, protocol: c.protocol }))).toEqual([{ ...client, protocol: 'websocket' }]);
      expect(upgrades).toEqual([client.address]);
      await closeAndDrain(proxy, socket);
    });

    it('accepts a PROXY header split over several writes, and keeps the client for every request on that connection', async () => {
      const { port } = await setup(['loopback']);
      const header = proxyV2({ src: '203.0.113.9', dst: '10.0.0.1', srcPort: 1000, dstPort: 80 });
      const answer = await rawExchange(port, [
        header.subarray(0, 5),
        { wait: 20 },
        header.subarray(5, 17),
        { wait: 20 },
        Buffer.concat([header.subarray(17), Buffer.from(head('GET /1 HTTP/1.1', HOST))]),
        { wait: 50 },
        head('GET /2 HTTP/1.1', HOST, 'Connection: close'),
      ]);
      const text = answer.data.toString('latin1');
      expect(text.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
      expect(text.match(/"x-forwarded-for":"203\.0\.113\.9"/g)).toHaveLength(2);
    });

    it.each([
      ['v2 LOCAL (a balancer health check)', () => proxyV2({ command: 'local' })],
      ['v1 UNKNOWN', () => 'PROXY UNKNOWN\r\n'],
    ])('%s: the connection is served as the peer itself', async (_name, header) => {
      const { proxy, port } = await setup(['loopback']);
      expect((await rawEcho(port, header())).headers['x-forwarded-for']).toBe('127.0.0.1');
      const socket = await rawUpgrade(res, port, [header(), wsHandshake()]);
      expect(proxy.connections().map((c) => c.client.address)).toEqual(['127.0.0.1']);
      await closeAndDrain(proxy, socket);
    });

    it.each([
      ['v1', () => proxyV1('203.0.113.7', '10.0.0.1', 51234, 443)],
      ['v2', () => proxyV2({ src: '203.0.113.7', dst: '10.0.0.1', srcPort: 51234, dstPort: 443 })],
    ])('refuses a %s PROXY header from an untrusted peer with 400, and nothing reaches the backend', async (_name, header) => {
      const { backend, proxy, port } = await setup(['10.0.0.0/8']);
      const answer = await rawExchange(port, [header(), head('GET / HTTP/1.1', HOST)]);
      expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(answer.closed).toBe(true);
      await new Promise((r) => setTimeout(r, 30));
      expect([backend.connections, backend.bytes]).toEqual([0, 0]);
      expect(proxy.connections()).toEqual([]);
    });

    it('refuses (400) a second PROXY header that a client behind the trusted balancer sent itself: only the first is believed', async () => {
      const { backend, proxy, port } = await setup(['loopback']);
      const answer = await rawExchange(port, [
        proxyV2({ src: '203.0.113.7', dst: '10.0.0.1', srcPort: 51234, dstPort: 443 }),
        proxyV1('6.6.6.6', '10.0.0.1', 4444, 80) + head('GET / HTTP/1.1', HOST),
      ]);
      expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
      await new Promise((r) => setTimeout(r, 30));
      expect([backend.connections, backend.bytes]).toEqual([0, 0]);
      expect(proxy.connections()).toEqual([]);
    });

    it.each<[string, RawStep[]]>([
      ['plain HTTP with no PROXY header', [head('GET / HTTP/1.1', HOST)]],
      ['a WebSocket handshake with no PROXY header', [wsHandshake()]],
      ['a malformed v1 header (address out of range)', ['PROXY TCP4 999.0.0.1 10.0.0.1 1 2\r\n' + head('GET / HTTP/1.1', HOST)]],
      ['a v1 header longer than 107 bytes', [`PROXY TCP4 ${'1'.repeat(120)}\r\n`]],
      ['a v2 header with version 3', [Buffer.concat([proxyV2({ src: '203.0.113.7', srcPort: 1 }).subarray(0, 12), Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12)])]],
      ['a v2 DGRAM header on a stream', [Buffer.concat([proxyV2({ src: '203.0.113.7', srcPort: 1 }).subarray(0, 12), Buffer.from([0x21, 0x12, 0, 12]), Buffer.alloc(12)])]],
      ['a FIN before the header is complete', ['PROXY TCP4 203.0.113.7', { end: true }]],
    ])('drops a trusted peer that sends %s: closed without an answer, nothing reaches the backend', async (_name, steps) => {
      const { backend, proxy, port } = await setup(['loopback']);
      const answer = await rawExchange(port, steps);
      expect(answer.closed).toBe(true);
      expect(answer.data.length).toBe(0);
      await new Promise((r) => setTimeout(r, 30));
      expect([backend.connections, backend.bytes]).toEqual([0, 0]);
      expect(proxy.connections()).toEqual([]);
    });

    it('drops a trusted peer that sends nothing once clientHeadersTimeout has passed', async () => {
      const { backend, port } = await setup(['loopback']);
      const answer = await rawExchange(port, [], 3000);
      expect(answer.closed).toBe(true);
      expect(answer.data.length).toBe(0);
      expect(answer.elapsed).toBeGreaterThanOrEqual(250);
      expect(answer.elapsed).toBeLessThan(1500);
      expect(backend.connections).toBe(0);
    });

    it('serves untrusted peers as plain HTTP on the same listener (their own address, forwarding headers overwritten)', async () => {
      const { proxy, port } = await setup(['10.0.0.0/8']);
      const echo = await rawEcho(port, '', 'X-Forwarded-For: 203.0.113.7');
      expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      res.add(() => ws.terminate());
      await once(ws, 'open');
      expect(proxy.connections().map((c) => c.client.address)).toEqual(['127.0.0.1']);
      ws.close();
      await waitFor(() => proxy.connections().length === 0);
    });
  });
});
