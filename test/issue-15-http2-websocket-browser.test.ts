/**
 * Issue 15: a real browser (Debian's Chromium) on an HTTP/2 front opens its WebSocket as an RFC 8441 extended CONNECT
 * on the page's own connection, and the proxy carries it to an HTTP/1.1 `ws` backend.
 */
import type { Browser } from 'playwright-core';
import { createProxy } from '@switchboard/proxy';
import { describeWithBrowser, launchChromium } from './helpers/browser';
import { listenH2 } from './helpers/h2-websocket';
import { Resources, startBackend, waitFor } from './helpers/servers';
import { makeTestPki } from './helpers/tls';

const pki = makeTestPki();

const PAGE = `<!doctype html><title>h2 ws</title><script>
window.result = new Promise((resolve, reject) => {
  const ws = new WebSocket('wss://' + location.host + '/ws');
  ws.onopen = () => ws.send('hello from the browser');
  ws.onmessage = (e) => resolve({ echo: e.data, protocol: performance.getEntriesByType('navigation')[0].nextHopProtocol });
  ws.onerror = () => reject(new Error('websocket error'));
});
</script>`;

describeWithBrowser('WebSockets over HTTP/2 in Chromium', () => {
  const res = new Resources();
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });
  afterEach(() => res.cleanup());

  it('the page loads over h2 and its WebSocket is an extended CONNECT stream on that connection', async () => {
    const backend = await startBackend(res, 'a', (_req, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(PAGE);
    });
    const proxy = createProxy({ backends: [backend.url] });
    const port = await listenH2(res, proxy, pki);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    res.add(() => context.close());
    const page = await context.newPage();
    await page.goto(`https://localhost:${port}/`);
    const result = await page.evaluate(() => (globalThis as unknown as { result: Promise<{ echo: string; protocol: string }> }).result);
    expect(result).toEqual({ echo: 'hello from the browser', protocol: 'h2' });
    const sockets = proxy.connections().filter((c) => c.protocol === 'websocket');
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.stream).toEqual(expect.any(Number));
    await page.close();
    await waitFor(() => proxy.connections().length === 0, 3000, 'empty table');
  });
});
