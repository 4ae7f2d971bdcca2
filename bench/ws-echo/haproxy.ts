/**
 * HAProxy (Debian package, 2.6) as a WebSocket and HTTP reverse proxy: config in a temp dir, loopback only,
 * one process with one thread (`-db` keeps it in the foreground without master-worker, so the spawned pid is
 * the whole proxy for CPU and RSS accounting).
 */
import { hardNofile } from '../lib/children';
import { startExternal, type ExternalProxy, type ProgramSpec } from '../lib/external';

export const HAPROXY: ProgramSpec = {
  name: 'haproxy',
  candidates: ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy', '/usr/local/bin/haproxy'],
  aptPackage: 'haproxy',
  installEnv: 'BENCH_INSTALL_HAPROXY',
  versionArgs: ['-v'],
  versionPattern: /HA-?Proxy version (\S+)/,
};

export interface HaproxyOptions {
  /** Client connections held at once (`maxconn`, global and frontend; default 4096); each proxied one takes 2 descriptors. */
  maxConnections?: number;
  /** Descriptor limit (`ulimit -n` in the spawning shell); `maxconn` is capped to fit in it. */
  nofile?: number;
  /** Local addresses for backend connections: one `server` line per address (`source`), balanced round-robin. */
  sourceAddresses?: readonly string[];
}

/** Room for listeners, the backend's pollers and stdio next to 2 descriptors per proxied connection. */
const SPARE_FDS = 100;

function maxconnFor(opts: HaproxyOptions): number {
  const wanted = opts.maxConnections ?? 4096;
  // HAProxy raises its soft limit to what maxconn needs; past the hard limit it would only warn and then fail accepts.
  const limit = opts.nofile ?? hardNofile() ?? Number.POSITIVE_INFINITY;
  return Math.max(64, Math.min(wanted, Math.floor((limit - SPARE_FDS) / 2)));
}

function servers(backendPort: number, addrs: readonly string[]): string {
  if (addrs.length === 0) return `  server s0 127.0.0.1:${backendPort}`;
  return addrs.map((a, i) => `  server s${i} 127.0.0.1:${backendPort} source ${a}`).join('\n');
}

function haproxyConf(port: number, backendPort: number, opts: HaproxyOptions): string {
  const maxconn = maxconnFor(opts);
  return `
global
  nbthread 1
  maxconn ${maxconn}

defaults
  mode http
  maxconn ${maxconn}
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  # After a 101 the connection is a tunnel: this is the WebSocket idle timeout (nginx: proxy_read_timeout 3600s).
  timeout tunnel 1h
  # Keep-alive on both sides (HAProxy's default, spelled out; no http-server-close), and idle backend
  # connections shared by every client, like nginx's upstream keepalive pool.
  option http-keep-alive
  http-reuse always

frontend bench
  bind 127.0.0.1:${port} backlog 4096
  default_backend bench_backend

backend bench_backend
  balance roundrobin
${servers(backendPort, opts.sourceAddresses ?? [])}
`;
}

export function startHaproxy(binary: string, backendPort: number, opts: HaproxyOptions = {}): Promise<ExternalProxy> {
  return startExternal({
    name: 'haproxy',
    binary,
    confName: 'haproxy.cfg',
    config: (_dir, port) => haproxyConf(port, backendPort, opts),
    args: (_dir, conf) => ['-db', '-f', conf],
    // In the foreground (-db), SIGTERM is HAProxy's immediate stop; SIGUSR1 would wait for the 1 h tunnels.
    stopSignal: 'SIGTERM',
    nofile: opts.nofile,
    hasWorkers: false,
  });
}
