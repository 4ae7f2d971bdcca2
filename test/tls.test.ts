import { once } from 'node:events';
import { request as httpsRequest, createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxy } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { Resources, expectRefusal, listenLocal, roundTrip, startBackend, startProxy } from './helpers/servers';
import { listenHttps, makeTestPki, type TestPki } from './helpers/tls';

async function startTlsBackend(res: Resources, pki: TestPki): Promise<string> {
  const server: HttpsServer = createHttpsServer({ cert: pki.cert, key: pki.key }, (req, r) => {
    r.end(JSON.stringify({ tls: true, proto: req.headers['x-forwarded-proto'] }));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`tls:${m.toString()}`)));
  return `https://127.0.0.1:${await listenLocal(res, server, { wss })}`;
}

describe('TLS', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });

  it('forwards HTTP and WebSocket to an https backend verified against a private CA', async () => {
    const url = await startTlsBackend(res, pki);
    const { url: proxyUrl, wsUrl } = await startProxy(res, { backends: [url], backendTls: { ca: pki.ca } });
    const r = await httpRequest(`${proxyUrl}/`);
    expect(JSON.parse(r.body)).toEqual({ tls: true, proto: 'http' });
    const ws = new WebSocket(wsUrl);
    res.add(() => ws.terminate());
    await once(ws, 'open');
    expect(await roundTrip(ws, 'hi')).toBe('tls:hi');
  });

  it('checks the certificate against backendTls.servername', async () => {
    const url = await startTlsBackend(res, pki);
    const good = await startProxy(res, { backends: [url], backendTls: { ca: pki.ca, servername: 'backend.internal' } });
    expect((await httpRequest(`${good.url}/`)).status).toBe(200);
    const wrong = await startProxy(res, { backends: [url], backendTls: { ca: pki.ca, servername: 'evil.example' }, retries: 0 });
    wrong.proxy.on('error', () => undefined);
    expect((await httpRequest(`${wrong.url}/`)).status).toBe(502);
    expect((await expectRefusal(wrong.wsUrl)).status).toBe(502);
  });

  it('refuses (502) a backend whose certificate the CA did not sign', async () => {
    const url = await startTlsBackend(res, pki);
    const { url: proxyUrl, wsUrl, proxy } = await startProxy(res, { backends: [url], retries: 0 });
    const codes: string[] = [];
    proxy.on('error', (e) => codes.push(e.code));
    const r = await httpRequest(`${proxyUrl}/`);
    expect(r.status).toBe(502);
    expect((await expectRefusal(wsUrl)).status).toBe(502);
    expect(codes).toEqual(['ERR_BACKEND_CONNECT', 'ERR_BACKEND_CONNECT']);
  });

  it('serves https/wss in front when attached to an https server (X-Forwarded-Proto: https)', async () => {
    const backend = await startBackend(res, 'a');
    const proxy = createProxy({ backends: [backend.url] });
    const port = await listenHttps(res, proxy, pki);
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port, path: '/', ca: pki.ca, servername: 'localhost', agent: false }, (r) => {
        let data = '';
        r.on('data', (c: Buffer) => (data += c.toString()));
        r.on('end', () => resolve(data));
      })
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(body).headers['x-forwarded-proto']).toBe('https');
    const ws = new WebSocket(`wss://localhost:${port}/`, { ca: pki.ca });
    res.add(() => ws.terminate());
    await once(ws, 'open');
    expect(await roundTrip(ws, 'whoami')).toBe('a');
  });

  it('rejects malformed backendTls options', () => {
    expect(() => createProxy({ backends: ['https://127.0.0.1:1'], backendTls: { cert: 'x' } })).toThrow(/cert and options.backendTls.key go together/);
    expect(() => createProxy({ backends: ['https://127.0.0.1:1'], backendTls: { rejectUnauthorized: 'no' as unknown as boolean } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });
});
