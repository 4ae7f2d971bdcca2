/**
 * HAProxy as the L4 balancer in front of Switchboards: its configuration (TCP mode, `send-proxy-v2`, health
 * checks on each Switchboard's admin port), the process, and its runtime API (`show stat` on the stats socket).
 * docs/deployment.md explains the configuration line by line.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort, spawnOwned, type OwnedChild } from './child';

/** The binary; `HAPROXY` overrides it. Debian's package installs it in /usr/sbin, often not on a user's PATH. */
export const HAPROXY_BIN = process.env['HAPROXY'] || '/usr/sbin/haproxy';
/** How long HAProxy has to listen and see every Switchboard pass a check, in ms. */
const START_TIMEOUT = 10_000;
/** How often readiness is polled, in ms. */
const POLL_INTERVAL = 50;
/** Attempts when another process takes the free port between our check and HAProxy's bind. */
const PORT_ATTEMPTS = 3;

/** One Switchboard as HAProxy sees it. */
export interface SwitchboardServer {
  /** The server name in HAProxy (`sb-a`); its logs and `show stat` use it. */
  readonly name: string;
  /** Where Switchboard takes traffic (with a PROXY header first). */
  readonly port: number;
  /** Where its admin API answers the health check. */
  readonly adminPort: number;
}

/** What {@link haproxyConfig} needs. */
export interface HaproxyConfigInput {
  /** The public port on 127.0.0.1. */
  readonly port: number;
  readonly servers: readonly SwitchboardServer[];
  /** Local address HAProxy connects to the Switchboards from: the one address they trust for PROXY headers. */
  readonly sourceAddress: string;
  /** Path of the runtime API socket. */
  readonly statsSocket: string;
  /** Health check period per server, in ms. */
  readonly checkInterval: number;
  /** Failed checks in a row that take a server out. */
  readonly checkFall: number;
  /** Passed checks in a row that bring it back. */
  readonly checkRise: number;
}

/** The haproxy.cfg text for {@link HaproxyConfigInput}. */
export function haproxyConfig(c: HaproxyConfigInput): string {
  return `# HAProxy in TCP mode in front of ${c.servers.length} Switchboards (packages/examples/src/fleet-haproxy.ts;
# docs/deployment.md explains each line).
global
    stats socket ${c.statsSocket} mode 600 level admin
    log stdout format raw local0 notice

defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
    timeout client-fin 5s
    timeout server-fin 5s
    retries 2
    option redispatch 1

frontend chat
    bind 127.0.0.1:${c.port}
    default_backend switchboards

backend switchboards
    balance roundrobin
    option httpchk
    http-check send meth GET uri /api/backends
    http-check expect status 200
    default-server send-proxy-v2 source ${c.sourceAddress} inter ${c.checkInterval} fall ${c.checkFall} rise ${c.checkRise}
${c.servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port} check port ${s.adminPort}`).join('\n')}
`;
}

/** One server line of `show stat`. */
export interface ServerStat {
  readonly name: string;
  /** `UP`, `DOWN`, `UP 1/2` (going down), `DOWN 1/2` (coming up), `MAINT`, `no check` (checks disabled)... */
  readonly status: string;
  /** Result of the last check: `L7OK`, `L4CON` (refused), `L7STS` (bad status), `INI` (none yet), '' (disabled)... */
  readonly checkStatus: string;
  /** Connections that were to go to this server, failed to connect and were sent to another (`option redispatch`). */
  readonly redispatches: number;
  /** Sessions it carries now. */
  readonly sessions: number;
  /** Sessions it has carried in total. */
  readonly totalSessions: number;
}

/** Sends one command to HAProxy's runtime API and resolves with its whole answer. */
export async function haproxyCommand(socketPath: string, command: string): Promise<string> {
  const socket = createConnection({ path: socketPath });
  socket.on('error', () => undefined);
  try {
    await once(socket, 'connect');
    socket.end(`${command}\n`);
    let answer = '';
    for await (const chunk of socket) answer += (chunk as Buffer).toString();
    return answer;
  } finally {
    socket.destroy();
  }
}

/** The servers of `backend` as `show stat` reports them. */
export async function serverStats(socketPath: string, backend = 'switchboards'): Promise<ServerStat[]> {
  const csv = await haproxyCommand(socketPath, 'show stat');
  const [header, ...rows] = csv.split('\n').filter((line) => line !== '');
  if (header === undefined || !header.startsWith('# ')) throw new Error(`show stat answered ${JSON.stringify(csv.slice(0, 200))}`);
  const columns = header.slice(2).split(',');
  const at = (name: string): number => columns.indexOf(name);
  return rows
    .map((row) => row.split(','))
    .filter((f) => f[at('pxname')] === backend && f[at('svname')] !== 'BACKEND' && f[at('svname')] !== 'FRONTEND')
    .map((f) => ({
      name: f[at('svname')]!,
      status: f[at('status')]!,
      // `* ` marks a check in progress; the result shown is the last one.
      checkStatus: f[at('check_status')]!.replace(/^\* /, ''),
      redispatches: Number(f[at('wredis')]),
      sessions: Number(f[at('scur')]),
      totalSessions: Number(f[at('stot')]),
    }));
}

export interface RunningHaproxy {
  readonly port: number;
  readonly configFile: string;
  readonly statsSocket: string;
  readonly process: OwnedChild;
  /** Its servers, now. */
  servers(): Promise<ServerStat[]>;
  stop(): Promise<void>;
}

export interface StartHaproxyOptions extends Omit<HaproxyConfigInput, 'port' | 'statsSocket'> {
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Directory for haproxy.cfg and the stats socket (the caller removes it). */
  readonly dir: string;
  /** Receives each line HAProxy logs (server state changes). */
  readonly onLog?: (line: string) => void;
}

async function startOnce(options: StartHaproxyOptions, port: number): Promise<RunningHaproxy> {
  const statsSocket = join(options.dir, 'haproxy.sock');
  const configFile = join(options.dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig({ ...options, port, statsSocket }));
  // -db: stay in the foreground, no daemon, so the process we hold is the one that serves.
  const child = await spawnOwned('haproxy', HAPROXY_BIN, ['-db', '-f', configFile], options.onLog);
  const servers = (): Promise<ServerStat[]> => serverStats(statsSocket);
  const deadline = Date.now() + START_TIMEOUT;
  for (;;) {
    const stats = await servers().catch(() => []);
    if (stats.length === options.servers.length && stats.every((s) => s.status === 'UP' && s.checkStatus === 'L7OK')) break;
    if (!child.isRunning() || Date.now() > deadline) {
      await child.stop();
      throw new Error(`haproxy did not start with every Switchboard passing its check (${JSON.stringify(stats)}):\n${child.output()}`);
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL));
  }
  return { port, configFile, statsSocket, process: child, servers, stop: () => child.stop() };
}

/** Writes the configuration, starts HAProxy and resolves once it listens and every Switchboard passed a check. */
export async function startHaproxy(options: StartHaproxyOptions): Promise<RunningHaproxy> {
  if (options.port !== 0) return startOnce(options, options.port);
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (err) {
      // Most likely the port was taken between freePort() and HAProxy's bind; try another.
      lastError = err;
      if (err instanceof Error && err.message.startsWith('cannot start')) break;
    }
  }
  throw lastError;
}
