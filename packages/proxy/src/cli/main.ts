#!/usr/bin/env node
/**
 * The `switchboard` bin: starts a proxy from flags and a config file, reloads on SIGHUP and on
 * file change, drains on SIGTERM/SIGINT (a second signal exits at once).
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProxy, type Proxy } from '../create-proxy';
import { CliError, parseCliArgs, USAGE } from './args';
import { startAdmin, type AdminListener } from './admin';
import { loadSettings, type Settings } from './config';
import { applyReload, rereadSettings } from './reload';
import { watchConfig } from './watch';
import { runClusterMode } from './cluster-mode';
import { describeListenError } from './listen-error';
import { stopOnSignals } from './stop-signals';

const log = (line: string): void => void process.stderr.write(`switchboard: ${line}\n`);

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function run(argv: readonly string[]): Promise<void> {
  const args = parseCliArgs(argv);
  if (args.help) return void process.stdout.write(USAGE);
  if (args.version) return void process.stdout.write(`${version()}\n`);

  let settings: Settings = loadSettings(args);
  if (settings.workers !== undefined) return runClusterMode(args, settings, log);
  const proxy: Proxy = createProxy(settings.options);
  proxy.on('error', () => undefined); // per-connection errors end that connection; the CLI does not log each one

  const listenAt = `${settings.listen.host}:${settings.listen.port}`;
  const address = await proxy.listen({ host: settings.listen.host, port: settings.listen.port }).catch(async (err: NodeJS.ErrnoException) => {
    await proxy.destroy();
    throw describeListenError(err, 'for traffic', listenAt);
  });
  let adminListener: AdminListener | undefined;
  let adminNote = '';
  if (settings.admin !== undefined) {
    const at = `${settings.admin.host}:${settings.admin.port}`;
    const admin = await startAdmin(proxy, settings.admin, settings.adminToken).catch(async (err: NodeJS.ErrnoException) => {
      await proxy.destroy();
      throw err instanceof CliError ? err : describeListenError(err, 'for the admin API', at);
    });
    adminListener = admin;
    adminNote = `, admin on http://${admin.address.address}:${admin.address.port}`;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const n = settings.resolved.backends.length;

  const reload = (why: string): void => {
    const reread = rereadSettings(args, settings, why, log);
    if (reread === undefined) return;
    settings = reread.settings;
    applyReload(proxy, reread.plan, why, log);
  };
  const stopWatching = settings.file === undefined ? () => undefined : watchConfig(settings.file, () => reload('file changed'), log);
  process.on('SIGHUP', () => reload('SIGHUP'));

  stopOnSignals({
    log,
    timeout: () => settings.resolved.closeTimeout,
    draining: () => 'draining',
    backstopMargin: 5000,
    beforeClose: stopWatching,
    close: (timeout) => Promise.all([proxy.close({ timeout }), adminListener?.close()]),
  });
  // The ready line comes last: whoever reads it (a test, a supervisor) may send SIGHUP at once, and a SIGHUP
  // before its handler is installed would end the process.
  process.stdout.write(`switchboard listening on http://${host}:${address.port} (${n} backend${n === 1 ? '' : 's'}, ${settings.options.strategy ?? 'round-robin'}${adminNote})\n`);
}

run(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError) {
    log(err.message);
    process.exit(err.exitCode);
  }
  log(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
