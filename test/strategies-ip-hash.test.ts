import { request } from 'node:http';
import { IpHashStrategy, type Proxy } from '@switchboard/proxy';
import { Resources, startBackend, startProxy, waitFor } from './helpers/servers';

/** GET `url` on a fresh connection from `localAddress`; resolves with the backend id the echo server reports. */
function backendIdFrom(url: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id));
    });
    req.on('error', reject);
    req.end();
  });
}

/** 127.1.0.0/16 is loopback on Linux: each address is a distinct client IP to the proxy. */
function clientIp(i: number): string {
  return `127.1.${(i >> 8) & 255}.${i & 255}`;
}

const CLIENTS = 500;
const BATCH = 50;

describe.each(['maglev', 'ring'] as const)('ip-hash (%s) through two independent proxies', (hash) => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it(`sends each of ${CLIENTS} client IPs to the same backend through either proxy`, async () => {
    const backends = await Promise.all(['a', 'b', 'c', 'd'].map((id) => startBackend(res, id)));
    const specs = backends.map((b) => ({ url: b.url, id: b.id }));
    // Same ids, different configured order: tables are built from sorted ids.
    const first = await startProxy(res, { backends: specs, strategy: new IpHashStrategy({ hash }) });
    const second = await startProxy(res, { backends: [...specs].reverse(), strategy: new IpHashStrategy({ hash }) });

    const viaFirst: string[] = [];
    const viaSecond: string[] = [];
    for (let start = 0; start < CLIENTS; start += BATCH) {
      const ips = Array.from({ length: BATCH }, (_, k) => clientIp(start + k));
      viaFirst.push(...(await Promise.all(ips.map((ip) => backendIdFrom(first.url, ip)))));
      viaSecond.push(...(await Promise.all(ips.map((ip) => backendIdFrom(second.url, ip)))));
    }
    expect(viaSecond).toEqual(viaFirst);
    expect(new Set(viaFirst)).toEqual(new Set(['a', 'b', 'c', 'd']));
    // Asking again gives the same answer: the choice is a function of the IP.
    expect(await backendIdFrom(first.url, clientIp(7))).toBe(viaFirst[7]);

    for (const proxy of [first.proxy, second.proxy] as Proxy[]) {
      await waitFor(() => proxy.connections().length === 0, 5000, 'the table to empty');
      expect(proxy.connections().length).toBe(0);
    }
  }, 60_000);
});
