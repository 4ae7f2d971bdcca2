/**
 * nginx (Debian package) as a WebSocket reverse proxy: config in a temp dir, 1 worker, loopback only,
 * `daemon off` so the spawned process is the master; workers are found under it and killed with it.
 */
import { startExternal, type ExternalProxy, type ProgramSpec } from '../lib/external';

export const NGINX: ProgramSpec = {
  name: 'nginx',
  candidates: ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'],
  aptPackage: 'nginx',
  installEnv: 'BENCH_INSTALL_NGINX',
  versionArgs: ['-v'],
  versionPattern: /nginx\/(\S+)/,
};

export interface NginxOptions {
  /** `worker_connections` (default 4096); each proxied connection takes 2. */
  workerConnections?: number;
  /** Descriptor limit for master and worker (`ulimit -n` in the spawning shell plus `worker_rlimit_nofile`). */
  nofile?: number;
  /** Local addresses for backend connections, spread by client address:port (`split_clients` + `proxy_bind`). */
  sourceAddresses?: readonly string[];
}

function splitClients(addrs: readonly string[]): string {
  if (addrs.length === 0) return '';
  const share = Math.floor(10000 / addrs.length) / 100;
  const lines = addrs.map((a, i) => (i === addrs.length - 1 ? `    * ${a};` : `    ${share.toFixed(2)}% ${a};`));
  return `  split_clients "$remote_addr:$remote_port" $bench_src {\n${lines.join('\n')}\n  }\n`;
}

function nginxConf(dir: string, port: number, backendPort: number, opts: NginxOptions): string {
  return `
daemon off;
master_process on;
worker_processes 1;
${opts.nofile !== undefined ? `worker_rlimit_nofile ${opts.nofile};` : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${opts.workerConnections ?? 4096}; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # Keep-alive toward the backend for plain HTTP (empty Connection header), Upgrade for WebSockets.
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream bench_backend {
    server 127.0.0.1:${backendPort};
    keepalive 128;
  }
${splitClients(opts.sourceAddresses ?? [])}  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://bench_backend;${(opts.sourceAddresses ?? []).length > 0 ? '\n      proxy_bind $bench_src;' : ''}
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}
`;
}

export function startNginx(binary: string, backendPort: number, opts: NginxOptions = {}): Promise<ExternalProxy> {
  return startExternal({
    name: 'nginx',
    binary,
    confName: 'nginx.conf',
    config: (dir, port) => nginxConf(dir, port, backendPort, opts),
    args: (dir, conf) => ['-c', conf, '-p', `${dir}/`],
    // SIGQUIT = graceful shutdown of master and workers.
    stopSignal: 'SIGQUIT',
    nofile: opts.nofile,
    hasWorkers: true,
  });
}
