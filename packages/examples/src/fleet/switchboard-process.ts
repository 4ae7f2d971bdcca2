/**
 * One Switchboard of the fleet, run as an operator would: the `switchboard` command with a JSON config file, in
 * its own process (so it can die on its own), with its admin API on a second port for HAProxy's health check and
 * for reading its connection table.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProxyOptions } from '@switchboard/proxy';
import { spawnOwned, type OwnedChild } from './child';

/** How long the command has to print its listening line, in ms. */
const START_TIMEOUT = 10_000;

/** The `switchboard` bin of the installed @switchboard/proxy (resolved from its main file: the bin is not an export). */
export function switchboardBin(): string {
  return join(dirname(require.resolve('@switchboard/proxy')), '..', 'bin', 'switchboard.js');
}

/** A row of `GET /api/connections`. */
export interface ConnectionRow {
  readonly id: number;
  /** `ip:port` of the client, as the PROXY header named it. */
  readonly client: string;
  readonly backend: string;
  readonly protocol: string;
}

export interface SwitchboardProcess {
  /** Its name in HAProxy and in log lines. */
  readonly name: string;
  /** Where it takes traffic (PROXY header first, from the trusted address only). */
  readonly port: number;
  /** `http://127.0.0.1:<admin port>`: the admin API and dashboard. */
  readonly adminUrl: string;
  readonly adminPort: number;
  readonly process: OwnedChild;
  /** Its connection table, from the admin API. */
  connections(): Promise<ConnectionRow[]>;
  /** SIGTERM (it drains its WebSockets with 1001), SIGKILL if it hangs. Idempotent. */
  stop(): Promise<void>;
}

export interface StartSwitchboardOptions {
  readonly name: string;
  /** Directory for its config file (the caller removes it). */
  readonly dir: string;
  /** Everything else is a createProxy() option, as in any config file. */
  readonly options: ProxyOptions;
  readonly onLine?: (line: string) => void;
}

/** Writes `<dir>/<name>.json` and starts `switchboard --config` on it; resolves once it listens. */
export async function startSwitchboard(o: StartSwitchboardOptions): Promise<SwitchboardProcess> {
  const configFile = join(o.dir, `${o.name}.json`);
  // Port 0 for both: the command prints what it got.
  writeFileSync(configFile, JSON.stringify({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', ...o.options }, null, 2));
  const child = await spawnOwned(o.name, process.execPath, [switchboardBin(), '--config', configFile], o.onLine);
  let m: RegExpMatchArray;
  try {
    m = await child.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+) .*admin on http:\/\/127\.0\.0\.1:(\d+)/, START_TIMEOUT);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const port = Number(m[1]);
  const adminPort = Number(m[2]);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  return {
    name: o.name,
    port,
    adminPort,
    adminUrl,
    process: child,
    async connections() {
      const res = await fetch(`${adminUrl}/api/connections?limit=1000`);
      if (res.status !== 200) throw new Error(`${o.name}: /api/connections answered ${res.status}`);
      return ((await res.json()) as { connections: ConnectionRow[] }).connections;
    },
    stop: () => child.stop(),
  };
}
