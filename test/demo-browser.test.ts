import type { Browser } from 'playwright-core';
import { describeWithBrowser, launchChromium } from './helpers/browser';
import { startDemo, type Demo } from '../packages/examples/src/demo';
import { waitFor } from './helpers/servers';

describeWithBrowser('the npm start demo in a real browser', () => {
  let browser: Browser | undefined;
  let demo: Demo | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    await demo?.close();
    demo = undefined;
  });

  it('loads the page through the proxy, opens its WebSocket through it and echoes a typed message', async () => {
    const d = (demo = await startDemo({ port: 0, log: () => undefined }));
    const page = await browser!.newPage();
    try {
      await page.goto(`${d.url}/`);
      expect(await page.textContent('#page-node')).toMatch(/^node-[123]$/);
      await page.waitForFunction(() => /^node-[123]$/.test(globalThis.document.getElementById('ws-node')?.textContent ?? ''));
      const wsNode = await page.textContent('#ws-node');
      expect(await page.textContent('#status')).toBe('open');
      expect(d.proxy.connections()).toContainEqual(expect.objectContaining({ protocol: 'websocket', backend: { id: wsNode } }));

      await page.fill('#input', 'hello from chromium');
      await page.press('#input', 'Enter');
      await page.waitForSelector(`#log li:has-text("${wsNode}: hello from chromium")`);
    } finally {
      await page.close();
    }
    await waitFor(() => d.proxy.connections().length === 0, 5000, 'table to empty after the page closed');
  });
});
