import { createProxy, type ProxyOptions } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { CheckedProxies, Resources, startBackend } from './helpers/servers';

/** createProxy with options a caller brought from elsewhere (untyped JavaScript, a config file). */
function createUntyped(options: Record<string, unknown>): unknown {
  return createProxy(options as unknown as ProxyOptions);
}

function invalid(options: Record<string, unknown>): { code: string; message: string } {
  try {
    createUntyped(options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('createProxy accepted the options');
}

describe('strict top-level options', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('refuses an unknown option, naming it', () => {
    const err = invalid({ backends: ['http://127.0.0.1:9001'], conectTimeout: 100 });
    expect(err.code).toBe('ERR_INVALID_OPTION');
    expect(err.message).toMatch(/options\.conectTimeout is not a Switchboard option/);
  });

  it.each([
    ['target', /use backends:/],
    ['ws', /WebSocket upgrades are always proxied/],
    ['pathRewrite', /stripPrefix or rewrite/],
    ['router', /use routes:/],
    ['on', /proxy\.on\(/],
    ['secure', /backendTls: \{ rejectUnauthorized \}/],
    ['xfwd', /xForwarded/],
    ['onProxyReq', /onRequest/],
    ['onProxyRes', /onResponse/],
    ['logLevel', /logger/],
  ])('tells an http-proxy user what to use instead of %s', (name, hint) => {
    const err = invalid({ backends: ['http://127.0.0.1:9001'], [name]: true });
    expect(err.code).toBe('ERR_INVALID_OPTION');
    expect(err.message).toContain(`options.${name} is an http-proxy / http-proxy-middleware option`);
    expect(err.message).toMatch(hint);
  });

  it.each([
    ['credentials', 'http://user:pw@127.0.0.1:9001', /credentials/],
    ['a query string', 'http://127.0.0.1:9001/?v=1', /query string/],
    ['a fragment', 'http://127.0.0.1:9001/#x', /fragment/],
  ])('refuses a backend URL with %s, which cannot be honoured', (_what, url, message) => {
    const err = invalid({ backends: [url] });
    expect(err.code).toBe('ERR_INVALID_OPTION');
    expect(err.message).toMatch(message);
  });

  it('still serves traffic with only known options', async () => {
    const backend = await startBackend(res, 'a');
    const { url } = await proxies.start({ backends: [backend.url], connectTimeout: 1000 });
    const r = await httpRequest(`${url}/x`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).url).toBe('/x');
  });
});
