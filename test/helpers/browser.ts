import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium; the binary behind the /usr/bin wrapper skips a harmless wrapper warning. */
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
/** No sandbox as root, and nothing that reaches for the network (this machine's is closed). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * `describe` for files that drive a real browser. Locally a missing browser skips the file; in CI (.ci/run installs
 * chromium) it runs, and {@link launchChromium} fails instead.
 */
export const describeWithBrowser =
  CHROMIUM !== undefined || process.env['CI'] === 'true'
    ? describe
    : describe.skip; // reason: off CI, Debian's chromium is absent; the test drives a real browser, never a stand-in

/** Launches headless Debian chromium through playwright-core; throws when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (CHROMIUM === undefined) throw new Error('chromium is not installed (apt-get install -y chromium); CI requires it');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
