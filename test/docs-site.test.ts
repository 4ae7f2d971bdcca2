/**
 * The API docs site renders in a real browser: typedoc builds it (link validation on, warnings are
 * errors) into a temporary directory, then Chromium opens the landing page and the createProxy page
 * from file:// URLs and finds the title, the grouped sidebar and a code example on each.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { describeWithBrowser, launchChromium } from './helpers/browser';

const ROOT = resolve(__dirname, '..');
/** Where the screenshots go, to look at by eye: DOCS_SCREENSHOTS=dir, else the temp build directory. */
const SHOTS = process.env['DOCS_SCREENSHOTS'];


describeWithBrowser('the docs site (typedoc) in Chromium', () => {
  let out = '';
  let browser: Browser | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'switchboard-docs-'));
    // typedoc exits non-zero on any warning (treatWarningsAsErrors), so a broken link fails here.
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], { cwd: ROOT });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (out !== '' && SHOTS === undefined) rmSync(out, { recursive: true, force: true });
  });

  async function open(file: string, shot: string): Promise<Page> {
    const p = page!;
    await p.goto(pathToFileURL(join(out, file)).href);
    // The sidebar is filled in by typedoc's script from its compressed navigation data.
    await p.waitForSelector('.site-menu .tsd-navigation a', { timeout: 10_000 });
    await p.screenshot({ path: join(SHOTS ?? out, shot), fullPage: false });
    return p;
  }

  /** The sidebar's entries (links and group headings), in order, folded or not. */
  async function sidebar(p: Page): Promise<string[]> {
    const texts = await p.locator('.site-menu .tsd-navigation').first().locator('a, summary').allTextContents();
    return texts.map((t) => t.trim()).filter((t) => t !== '');
  }

  test('the landing page shows the project, a Getting started path, the grouped API and an example', async () => {
    const p = await open('index.html', 'docs-index.png');
    expect(await p.title()).toMatch(/Switchboard/);
    await expect(p.locator('h1, h2').filter({ hasText: 'Quick start' }).count()).resolves.toBeGreaterThan(0);
    expect(await p.locator('a', { hasText: 'Getting started' }).count()).toBeGreaterThan(0);
    expect(await p.locator('.tsd-panel pre code').count()).toBeGreaterThan(0);

    const entries = await sidebar(p);
    const guides = ['Getting started', 'Frameworks', 'Strategies', 'Operations', 'Security', 'Errors', 'Benchmarks', 'Architecture'];
    // Guides first, in reading order, each once.
    const positions = guides.map((g) => entries.indexOf(g));
    expect(positions.every((i) => i >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // The API module is named for the package, and its groups come in this order.
    expect(entries).toContain('@switchboard/proxy');
    expect(entries).not.toContain('index');
    await p.goto(pathToFileURL(join(out, 'modules', '_switchboard_proxy.html')).href);
    await p.waitForSelector('.tsd-page-title h1');
    expect(await p.locator('.tsd-page-title h1').innerText()).toMatch(/@switchboard\/proxy/);
    const groups = await p.locator('.col-content h2').allInnerTexts();
    const order = ['Proxy', 'Options', 'Strategies', 'Events', 'Errors', 'Constants'];
    const at = order.map((g) => groups.findIndex((h) => h.trim() === g));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // No error class opens the list: the first group is the proxy itself.
    expect(groups[0]?.trim()).toBe('Proxy');
    await p.screenshot({ path: join(SHOTS ?? out, 'docs-module.png') });
  }, 30_000);

  test('the createProxy page shows its signature, an example and links back to the guides', async () => {
    const p = await open('functions/_switchboard_proxy.createProxy.html', 'docs-createProxy.png');
    expect(await p.title()).toMatch(/createProxy/);
    expect(await p.locator('.tsd-page-title h1').innerText()).toMatch(/createProxy/);
    const example = p.locator('.col-content pre code').filter({ hasText: 'createProxy(' }).first();
    expect(await example.innerText()).toMatch(/backends:/);
    const entries = await sidebar(p);
    expect(entries).toContain('Getting started');
    // From the API back into the guides, and on to the options.
    const guide = p.locator('.col-content a', { hasText: 'Getting started' }).first();
    expect(await guide.getAttribute('href')).toMatch(/documents\/Getting_started\.html$/);
    await guide.click();
    await p.waitForSelector('.tsd-page-title h1, .col-content h1');
    expect(await p.title()).toMatch(/Getting started/);
    // ...and from the guide into the API.
    expect(await p.locator('.col-content a[href*="createProxy.html"]').count()).toBeGreaterThan(0);
    await p.screenshot({ path: join(SHOTS ?? out, 'docs-getting-started.png') });
  }, 30_000);
});
