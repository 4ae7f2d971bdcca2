import type { IncomingMessage } from 'node:http';
import type { BackendPool } from './backend-pool';
import { clientKey, type ConnectionEntry, type ConnectionTable } from '../connection-table';
import type { Opened } from '../context';
import type { EdgeGuard } from '../edge/edge-guard';
import { NoBackendError, ProxyFullError, type SwitchboardError } from '../errors';
import type { ResolvedOptions } from '../resolve-options';
import type { ConnectionProtocol, PickContext } from '../strategies/strategy';

/**
 * Places a connection: proxy-wide limit, per-client slot, strategy pick over
 * the candidates, then the table entry. The one place a connection is admitted.
 *
 * @remarks
 * A retry passes the backends already tried as `exclude`: they leave the
 * candidates and reach the strategy as `avoid`, and no new per-client slot is
 * taken (the caller moves the failed attempt's slot). A strategy may only
 * return one of the live backends it was given, and custom strategies are not
 * trusted to honour state and limits, so the choice is checked again here.
 * @internal
 */
export function placeConnection(
  deps: { options: ResolvedOptions; pool: BackendPool; table: ConnectionTable; edge: EdgeGuard },
  req: IncomingMessage,
  protocol: ConnectionProtocol,
  exclude: ReadonlySet<string> | undefined,
): Opened | SwitchboardError {
  const { options, pool, table, edge } = deps;
  const client = edge.clientOf(req);
  // Built only when a refusal needs it: placing a connection allocates no error context.
  const context = (): { clientAddress: string } => ({ clientAddress: clientKey(client.address, client.port) });
  // A retry replaces its failed attempt's entry, which still counts here.
  if (exclude === undefined && table.size >= options.maxConnections) return new ProxyFullError('proxy is at maxConnections', context());
  let release: (() => void) | undefined;
  if (exclude === undefined) {
    const slot = edge.acquire(client.address, protocol);
    if (typeof slot !== 'function') return slot;
    release = slot;
  }
  let candidates = pool.candidates();
  if (exclude !== undefined) candidates = candidates.filter((b) => !exclude.has(b.id));
  const pick: PickContext = exclude === undefined ? { req, client, protocol } : { req, client, protocol, avoid: exclude };
  const chosen = candidates.length === 0 ? undefined : options.strategy.pick(pick, candidates);
  const backend = chosen === undefined ? undefined : pool.get(chosen.id);
  if (backend === undefined || backend.state !== 'up' || table.loadFor(backend.id, backend.route) >= backend.maxConnections || exclude?.has(backend.id)) {
    release?.();
    return new NoBackendError(candidates.length === 0 ? 'no backend available' : `strategy ${options.strategy.name} found no backend`, context());
  }
  const entry: ConnectionEntry = table.add(client.address, client.port, backend.id, protocol, backend.route);
  entry.release = release;
  options.strategy.onConnectionOpen?.(backend, pick);
  return { backend, entry, pick };
}
