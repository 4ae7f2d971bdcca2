/**
 * The configurations bench/ws-echo and bench/suite measure, in the order they alternate within a round:
 * direct, the Switchboard variants, http-proxy, then the native peers (Debian's nginx and HAProxy).
 */
import type { ExternalProxy } from '../lib/external';
import { programsForRun } from '../lib/external';
import { HAPROXY, startHaproxy } from './haproxy';
import { NGINX, startNginx } from './nginx';

interface SwitchboardVariant {
  label: string;
  /** Extra `createProxy` options, passed as JSON to proxy-switchboard.ts. */
  options: Record<string, unknown>;
  /** Measured when BENCH_CONFIGS is not set; otherwise only on request. */
  byDefault: boolean;
}

/** One line per Switchboard configuration. */
export const SWITCHBOARD_VARIANTS = {
  // The default data plane: the native relay on Linux when the addon is built (the JS splice otherwise).
  switchboard: { label: 'Switchboard (native data plane)', options: {}, byDefault: true },
  // What the frame tracker costs: run it with BENCH_CONFIGS=switchboard,switchboard-untracked.
  'switchboard-untracked': { label: 'Switchboard, frameTracking: false', options: { frameTracking: false }, byDefault: false },
  // Issue 11: the JS data plane next to the native one in every row.
  'switchboard-js': { label: 'Switchboard, dataPlane: js', options: { dataPlane: 'js' }, byDefault: true },
} satisfies Record<string, SwitchboardVariant>;
export type Variant = keyof typeof SWITCHBOARD_VARIANTS;
const VARIANTS = Object.keys(SWITCHBOARD_VARIANTS) as Variant[];

export const PEERS = ['nginx', 'haproxy'] as const;
export type Peer = (typeof PEERS)[number];

export type Config = 'direct' | Variant | 'http-proxy' | Peer;
export const CONFIGS: readonly Config[] = ['direct', ...VARIANTS, 'http-proxy', ...PEERS];

export function isVariant(c: string): c is Variant {
  return (VARIANTS as readonly string[]).includes(c);
}

export function isPeer(c: string): c is Peer {
  return (PEERS as readonly string[]).includes(c);
}

export const DEFAULT_CONFIGS: readonly Config[] = CONFIGS.filter((c) => !isVariant(c) || SWITCHBOARD_VARIANTS[c].byDefault);

export const LABEL: Record<Config, string> = {
  direct: 'direct',
  ...(Object.fromEntries(VARIANTS.map((v) => [v, SWITCHBOARD_VARIANTS[v].label])) as Record<Variant, string>),
  'http-proxy': 'http-proxy',
  nginx: 'nginx (1 worker)',
  haproxy: 'HAProxy (1 thread)',
};

/** BENCH_CONFIGS (comma list) or the default set, in table order. */
export function configsFromEnv(): Config[] {
  const raw = process.env.BENCH_CONFIGS;
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_CONFIGS];
  const asked = raw.split(',').map((s) => s.trim());
  return CONFIGS.filter((c) => asked.includes(c));
}

/** The wanted configurations minus the peers whose program is missing (each gets a note), and the peers' binaries. */
export function peersForRun(wanted: readonly Config[], notes: string[]): { configs: Config[]; binaries: Partial<Record<Peer, string>>; versions: Partial<Record<Peer, string>> } {
  return programsForRun(wanted, notes, [NGINX, HAPROXY]);
}

/** "nginx 1.22.1, HAProxy 2.6.12" (or "not run") for a results header. */
export function peerVersions(versions: Partial<Record<Peer, string>>): string {
  return `nginx ${versions.nginx ?? 'not run'}, HAProxy ${versions.haproxy ?? 'not run'}`;
}

export interface PeerOptions {
  /** Client connections the proxy must hold at once (nginx: 2 worker_connections each; HAProxy: maxconn). */
  maxConnections?: number;
  /** Descriptor limit of the proxy process(es). */
  nofile?: number;
  /** Local addresses for the proxy's backend connections. */
  sourceAddresses?: readonly string[];
}

export function startPeer(peer: Peer, binaries: Partial<Record<Peer, string>>, backendPort: number, opts: PeerOptions = {}): Promise<ExternalProxy> {
  const binary = binaries[peer];
  if (binary === undefined) return Promise.reject(new Error(`${peer} not available`));
  const src = opts.sourceAddresses ?? [];
  if (peer === 'nginx') {
    const workerConnections = opts.maxConnections === undefined ? undefined : 2 * opts.maxConnections + 100;
    return startNginx(binary, backendPort, { workerConnections, nofile: opts.nofile, sourceAddresses: src });
  }
  return startHaproxy(binary, backendPort, { maxConnections: opts.maxConnections, nofile: opts.nofile, sourceAddresses: src });
}
