/**
 * Starts one configuration (backend + optional proxy) for a suite row and stops all of it.
 * direct: the client talks to the backend; Switchboard variants / http-proxy: our proxy children from
 * bench/ws-echo; nginx (1 worker) and HAProxy (1 thread): bench/ws-echo/configs.ts startPeer().
 */
import { join } from 'node:path';
import { forkChild, stopChild, waitForMessage, type Child } from '../lib/children';
import type { ExternalProxy } from '../lib/external';
import type { Message } from '../lib/ipc';
import { SWITCHBOARD_VARIANTS, isPeer, isVariant, startPeer, type Config, type Peer } from '../ws-echo/configs';

export { CONFIGS, DEFAULT_CONFIGS, LABEL, type Config } from '../ws-echo/configs';

export interface TopologyOptions {
  /** Descriptor limit for backend and proxy (bash `ulimit -n`). */
  nofile?: number;
  /** Source addresses for proxy -> backend connections (Switchboard `sourceAddresses`, http-proxy `localAddress`, nginx `proxy_bind`, HAProxy `source`). */
  sourceAddresses?: string[];
  /** Client connections the proxy must hold at once (sizes nginx's worker_connections and HAProxy's maxconn). */
  maxConnections?: number;
}

export interface Topology {
  port: number;
  /** Proxy pids (empty for direct; master + worker for nginx). */
  proxyPids: number[];
  backendPid: number;
  /** The Node proxy's process (event-loop and GC requests), if the configuration has one. */
  node: Child | undefined;
  /** Full garbage collections in a Node proxy (started with --expose-gc); false where there is none (nginx, HAProxy, direct). */
  collectGarbage(): Promise<boolean>;
  stop(): Promise<void>;
}

const ECHO_DIR = join(__dirname, '..', 'ws-echo');

export async function startTopology(config: Config, binaries: Partial<Record<Peer, string>>, opts: TopologyOptions = {}): Promise<Topology> {
  let backend: Child | undefined;
  let proxy: Child | undefined;
  let peer: ExternalProxy | undefined;
  const stop = async (): Promise<void> => {
    if (peer !== undefined) await peer.stop();
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
    if (isVariant(config)) {
      const extra = { ...SWITCHBOARD_VARIANTS[config].options, ...(src.length > 0 ? { sourceAddresses: src } : {}) };
      proxy = forkChild(config, join(ECHO_DIR, 'proxy-switchboard.js'), [backendUrl, JSON.stringify(extra)], ['--expose-gc'], {}, opts.nofile);
    } else if (config === 'http-proxy') {
      proxy = forkChild(config, join(ECHO_DIR, 'proxy-http-proxy.js'), [backendUrl, JSON.stringify({ localAddresses: src })], ['--expose-gc'], {}, opts.nofile);
    } else if (isPeer(config)) {
      peer = await startPeer(config, binaries, backendPort, { nofile: opts.nofile, sourceAddresses: src, maxConnections: opts.maxConnections });
      port = peer.port;
      proxyPids = peer.pids;
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
    return { port, proxyPids, backendPid: backend.pid, node, collectGarbage, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
