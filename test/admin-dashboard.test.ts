import { once } from 'node:events';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithBrowser, launchChromium } from './helpers/browser';
import type { WebSocket } from 'ws';
import { CheckedProxies, listenLocal, openWs, Resources, roundTrip, startBackend, waitFor } from './helpers/servers';

const TOKEN = 'dashboard-test-token';
/** Set to write docs/images/dashboard.png (the run then lasts ~15 s longer, to fill the chart). */
const SCREENSHOT = process.env['SWITCHBOARD_DASHBOARD_SCREENSHOT'] === '1';


/** Visible rows of the live connection table, as "client backend" strings. */
async function visibleRows(page: Page): Promise<string[]> {
  return page.$$eval('#rows tr:not([hidden])', (trs) => trs.map((tr) => `${tr.children[0]!.textContent} ${tr.children[2]!.textContent}`));
}

async function waitRows(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => globalThis.document.querySelectorAll('#rows tr:not([hidden])').length === n, count, { timeout: 5000 });
}

function clientOf(ws: WebSocket): string {
  return `127.0.0.1:${(ws as unknown as { _socket: { localPort: number } })._socket.localPort}`;
}

describeWithBrowser('the admin dashboard in Chromium', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('asks for the token, shows rows appearing and vanishing as WebSockets open and close, filters them, and drains a backend (1012)', async () => {
    const a = await startBackend(res, 'api-1');
    const b = await startBackend(res, 'api-2');
    const { proxy, wsUrl, url } = await proxies.start({ backends: [{ url: a.url, id: 'api-1' }, { url: b.url, id: 'api-2' }], strategy: 'round-robin', healthCheck: false });
    const handler = proxy.admin({ token: TOKEN });
    res.add(() => handler.close());
    const admin = `http://127.0.0.1:${await listenLocal(res, createServer(handler))}`;
    const page = await browser!.newPage({ viewport: { width: 1200, height: 760 } });
    res.add(() => page.close());

    await page.goto(`${admin}/`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', 'wrong');
    await page.click('#login button');
    await page.waitForFunction(() => globalThis.document.getElementById('error')?.textContent === 'Token refused.');
    expect(await page.content()).not.toContain(a.url.replace('http://', ''));
    await page.fill('#token', TOKEN);
    await page.click('#login button');
    await page.waitForSelector('.backend[data-backend="api-1"] .state.up');
    await page.waitForSelector('#live.on');

    const sockets: WebSocket[] = [];
    for (let i = 0; i < 4; i++) sockets.push(await openWs(res, wsUrl));
    await waitRows(page, 4);
    expect((await visibleRows(page)).sort()).toEqual(sockets.map((ws, i) => `${clientOf(ws)} ${i % 2 === 0 ? 'api-1' : 'api-2'}`).sort());

    sockets[1]!.close();
    await once(sockets[1]!, 'close');
    await waitRows(page, 3);
    expect(await visibleRows(page)).not.toContain(`${clientOf(sockets[1]!)} api-2`);

    await page.fill('#filter', 'api-2');
    await waitRows(page, 1);
    expect(await visibleRows(page)).toEqual([`${clientOf(sockets[3]!)} api-2`]);
    await page.fill('#filter', '');
    await waitRows(page, 3);

    if (SCREENSHOT) {
      // A few more connections over some seconds so the chart shows a history.
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 2500));
        sockets.push(await openWs(res, wsUrl));
        await fetch(`${url}/page/${i}`).then((r) => r.text());
      }
      for (const [i, ws] of sockets.entries()) if (ws.readyState === ws.OPEN) await roundTrip(ws, 'm'.repeat(150 * (i + 1)));
      await new Promise((r) => setTimeout(r, 2500));
      await page.screenshot({ path: join(__dirname, '..', 'docs', 'images', 'dashboard.png') });
    }

    const onApi1 = sockets.filter((_, i) => i % 2 === 0 && sockets[i]!.readyState === sockets[i]!.OPEN);
    const codes = onApi1.map((ws) => once(ws, 'close').then(([code]) => code as number));
    await page.click('.backend[data-backend="api-1"] button[data-action="drain"]');
    expect(await Promise.all(codes)).toEqual(onApi1.map(() => 1012));
    await page.waitForSelector('.backend[data-backend="api-1"] .state.draining');
    await page.waitForSelector('.backend[data-backend="api-1"] button[data-action="undrain"]');
    expect(proxy.backends().find((x) => x.id === 'api-1')?.state).toBe('draining');
    await waitRows(page, sockets.filter((ws) => ws.readyState === ws.OPEN).length);
    expect((await visibleRows(page)).every((r) => r.endsWith('api-2'))).toBe(true);

    await page.click('.backend[data-backend="api-1"] button[data-action="undrain"]');
    await page.waitForSelector('.backend[data-backend="api-1"] .state.up');
    for (const ws of sockets) ws.close();
    await waitFor(() => proxy.connections().length === 0, 5000, 'table empty');
    await waitRows(page, 0);
  });
});
