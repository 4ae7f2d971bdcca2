/**
 * Command-line arguments of the `switchboard` bin: parsed into {@link CliArgs}, nothing checked beyond
 * the flags' own syntax (the option values are checked with the config file, by resolveOptions).
 * @internal
 * @module
 */
import { parseArgs } from 'node:util';

/** What the user typed; every field absent when its flag was not given. @internal */
export interface CliArgs {
  readonly help: boolean;
  readonly version: boolean;
  readonly listen?: string;
  readonly backends: readonly string[];
  readonly strategy?: string;
  readonly admin?: string;
  readonly adminToken?: string;
  readonly config?: string;
  readonly workers?: string;
}

/** A mistake in how the bin was called (exit code 2) or in its config (exit code 1). @internal */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = 2) {
    super(message);
    this.name = 'CliError';
  }
}

export const USAGE = `Usage: switchboard [options]

Runs a Switchboard reverse proxy (HTTP and WebSockets) in front of one or more backends.

Options:
  --listen HOST:PORT     where the proxy listens (default 127.0.0.1:8080; a bare PORT means 127.0.0.1)
  --backend URL          a backend (http:, https:, ws: or wss:); repeat for more
  --strategy NAME        round-robin (default), weighted-round-robin, least-connections,
                         power-of-two-choices, ip-hash, hash, sticky-cookie
  --admin HOST:PORT      serve the admin API and dashboard there (a bare PORT means 127.0.0.1)
  --admin-token T        require "Authorization: Bearer T" on the admin API
  --config FILE          a JSON file with any createProxy() option plus listen, admin, adminToken,
                         workers; reloaded on SIGHUP and when it changes; flags override it
  --workers N            run N proxy processes on the one port (node:cluster); the admin API and
                         metrics of the primary cover them all
  --help                 print this and exit
  --version              print the version and exit

Signals: SIGHUP reloads the config file (in every worker); SIGTERM/SIGINT drain (WebSockets get
1001) within closeTimeout, a second one exits at once. With --workers, SIGUSR2 to the primary
replaces the workers one at a time (WebSockets get 1012 and reconnect): a rolling restart.
Docs: docs/getting-started.md and docs/operations.md ("Running the CLI") in the repository
`;

/** Parses argv (without node and the script). Throws {@link CliError} on unknown flags or missing values. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        listen: { type: 'string' },
        backend: { type: 'string', multiple: true },
        strategy: { type: 'string' },
        admin: { type: 'string' },
        'admin-token': { type: 'string' },
        config: { type: 'string', short: 'c' },
        workers: { type: 'string' },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun switchboard --help for the options.`);
  }
  const v = parsed.values;
  return {
    help: v.help === true,
    version: v.version === true,
    backends: v.backend ?? [],
    ...(v.listen !== undefined && { listen: v.listen }),
    ...(v.strategy !== undefined && { strategy: v.strategy }),
    ...(v.admin !== undefined && { admin: v.admin }),
    ...(v['admin-token'] !== undefined && { adminToken: v['admin-token'] }),
    ...(v.config !== undefined && { config: v.config }),
    ...(v.workers !== undefined && { workers: v.workers }),
  };
}

/** Where to listen: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT`; the host defaults to 127.0.0.1. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses a listen address; `where` names the flag or config key in the error. */
export function parseHostPort(value: unknown, where: string): HostPort {
  const text = typeof value === 'number' ? String(value) : value;
  const bad = (): never => {
    throw new CliError(`${where} must be "HOST:PORT" or a port number (0-65535), got ${JSON.stringify(text)}`, 1);
  };
  if (typeof text !== 'string') return bad();
  const m = /^\d+$/.test(text) ? ['', '', text] : /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]*):(\d+)$/.exec(text);
  if (m === null) return bad();
  const port = Number(m[2]);
  if (!(port <= 65535)) return bad();
  const host = m[1] === '' || m[1] === undefined ? '127.0.0.1' : m[1];
  return { host, port };
}
