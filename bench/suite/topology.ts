/**
 * Starts one configuration (backend + optional proxy) for a suite row and stops all of it.
 * direct: the client talks to the backend; switchboard / http-proxy: our proxy children from
 * bench/ws-echo; nginx: 1 worker (bench/ws-echo/nginx.ts).
 */
import { join } from 'node:path';
import { forkChild, stopChild, waitForMessage, type Child } from '../lib/children';
import type { Message } from '../lib/ipc';
import { startNginx, type NginxHandle } from '../ws-echo/nginx';

export const CONFIGS = ['direct', 'switchboard', 'http-proxy', 'nginx'] as const;
export type Config = (typeof CONFIGS)[number];
export const LABEL: Record<Config, string> = {
  direct: 'direct',
  switchboard: 'Switchboard',
  'http-proxy': 'http-proxy',
  nginx: 'nginx (1 worker)',
};

export interface TopologyOptions {
  /** Descriptor limit for backend and proxy (bash `ulimit -n`). */
  nofile?: number;
  /** Source addresses for proxy -> backend connections (Switchboard `sourceAddresses`, http-proxy `localAddress`, nginx `proxy_bind`). */
  sourceAddresses?: string[];
  /** nginx worker_connections. */
  workerConnections?: number;
}

export interface Topology {
  port: number;
  /** Proxy pids (empty for direct; master + worker for nginx). */
  proxyPids: number[];
  backendPid: number;
  /** Full garbage collections in a Node proxy (started with --expose-gc); false where there is none (nginx, direct). */
  collectGarbage(): Promise<boolean>;
  stop(): Promise<void>;
}

const ECHO_DIR = join(__dirname, '..', 'ws-echo');

export async function startTopology(config: Config, nginxBinary: string | undefined, opts: TopologyOptions = {}): Promise<Topology> {
  let backend: Child | undefined;
  let proxy: Child | undefined;
  let nginx: NginxHandle | undefined;
  const stop = async (): Promise<void> => {
    if (nginx !== undefined) await nginx.stop();
    await stopChild(proxy);
    await stopChild(backend);
  };
  try {
    backend = forkChild('backend', join(__dirname, 'backend.js'), [], [], {}, opts.nofile);
    const { port: backendPort } = await waitForMessage<Message & { port: number }>(backend, 'ready', 10_000);
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    let port = backendPort;
    let proxyPids: number[] = [];
    const src = opts.sourceAddresses ?? [];
    if (config === 'switchboard') {
      const extra = src.length > 0 ? { sourceAddresses: src } : {};
      proxy = forkChild(config, join(ECHO_DIR, 'proxy-switchboard.js'), [backendUrl, JSON.stringify(extra)], ['--expose-gc'], {}, opts.nofile);
    } else if (config === 'http-proxy') {
      proxy = forkChild(config, join(ECHO_DIR, 'proxy-http-proxy.js'), [backendUrl, JSON.stringify({ localAddresses: src })], ['--expose-gc'], {}, opts.nofile);
    } else if (config === 'nginx') {
      if (nginxBinary === undefined) throw new Error('nginx not available');
      const nopts: Parameters<typeof startNginx>[2] = { sourceAddresses: src };
      if (opts.nofile !== undefined) nopts.nofile = opts.nofile;
      if (opts.workerConnections !== undefined) nopts.workerConnections = opts.workerConnections;
      nginx = await startNginx(nginxBinary, backendPort, nopts);
      port = nginx.port;
      proxyPids = nginx.pids;
    }
    if (proxy !== undefined) {
      port = (await waitForMessage<Message & { port: number }>(proxy, 'ready', 10_000)).port;
      proxyPids = [proxy.pid];
    }
    const node = proxy;
    const collectGarbage = async (): Promise<boolean> => {
      if (node === undefined) return false;
      const done = waitForMessage<Message & { collected: boolean }>(node, 'gc-done', 10_000);
      node.proc.send({ type: 'gc' });
      return (await done).collected;
    };
    return { port, proxyPids, backendPid: backend.pid, collectGarbage, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
