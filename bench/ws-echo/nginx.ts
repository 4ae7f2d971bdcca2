/**
 * nginx (Debian package) as a WebSocket reverse proxy: config in a temp dir, 1 worker, loopback only,
 * `daemon off` so the spawned process is the master; workers are found under it and killed with it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, stopChild, type Child } from '../lib/children';
import { childPids } from '../lib/proc';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'];

function which(): string | undefined {
  for (const p of CANDIDATES) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8', timeout: 2000 });
  const p = (r.stdout ?? '').trim();
  return p !== '' ? p : undefined;
}

/**
 * The configurations a run can measure: nginx only when {@link findNginx} finds it (else its note is
 * printed and added to `notes`), with its binary and version for the run.
 */
export function nginxForRun<C extends string>(wanted: readonly C[], notes: string[]): { configs: C[]; binary: string | undefined; version: string | undefined } {
  if (!wanted.includes('nginx' as C)) return { configs: [...wanted], binary: undefined, version: undefined };
  const found = findNginx();
  if ('path' in found) return { configs: [...wanted], binary: found.path, version: found.version };
  console.log(found.note);
  notes.push(found.note);
  return { configs: wanted.filter((c) => c !== 'nginx'), binary: undefined, version: undefined };
}

/**
 * Finds nginx; installs it with apt-get only when BENCH_INSTALL_NGINX=1.
 * Returns the binary path or a note explaining why nginx is skipped.
 */
export function findNginx(): { path: string; version: string } | { note: string } {
  let path = which();
  if (path === undefined && process.env.BENCH_INSTALL_NGINX === '1') {
    console.log('nginx not found; BENCH_INSTALL_NGINX=1: apt-get install -y nginx');
    const opts = { stdio: 'inherit' as const, timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
    let r = spawnSync('apt-get', ['install', '-y', 'nginx'], opts);
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], opts);
      r = spawnSync('apt-get', ['install', '-y', 'nginx'], opts);
    }
    path = which();
    if (path === undefined) return { note: `nginx skipped: apt-get install -y nginx failed (exit ${r.status ?? r.signal})` };
  }
  if (path === undefined) return { note: 'nginx skipped: not installed (set BENCH_INSTALL_NGINX=1 to let the bench apt-get install it)' };
  const v = spawnSync(path, ['-v'], { encoding: 'utf8', timeout: 5000 });
  const version = /nginx\/(\S+)/.exec(`${v.stderr ?? ''}${v.stdout ?? ''}`)?.[1] ?? 'unknown';
  return { path, version };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

export interface NginxHandle {
  child: Child;
  port: number;
  /** Master + worker pids, for CPU accounting. */
  pids: number[];
  stop(): Promise<void>;
}

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

export async function startNginx(binary: string, backendPort: number, opts: NginxOptions = {}): Promise<NginxHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-nginx-'));
  // Also removed if the orchestrator exits early (Ctrl-C): children are SIGKILLed from the same 'exit' hook.
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const port = await freePort();
  const conf = `
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
  writeFileSync(join(dir, 'nginx.conf'), conf);
  // SIGQUIT = graceful shutdown of master and workers.
  const child = spawnChild('nginx', binary, ['-c', join(dir, 'nginx.conf'), '-p', `${dir}/`], 'SIGQUIT', opts.nofile);
  const stop = async (): Promise<void> => {
    child.extraPids = [...new Set([...child.extraPids, ...childPids(child.pid)])];
    await stopChild(child);
    removeDir();
    process.removeListener('exit', removeDir);
  };
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      if (child.proc.exitCode !== null) throw new Error(`nginx exited with code ${child.proc.exitCode}`);
      ready = await canConnect(port);
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    if (!ready) throw new Error('nginx did not accept connections within 5 s');
    let workers: number[] = [];
    for (let i = 0; i < 50 && workers.length === 0; i++) {
      workers = childPids(child.pid);
      if (workers.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    child.extraPids = workers;
    return { child, port, pids: [child.pid, ...workers], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
