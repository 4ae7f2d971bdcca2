/**
 * Connects a proxy to its shared state: the host interface {@link SharedState} works through, built
 * from the proxy's public methods and the few internals it is handed, and the subscription to the
 * proxy's own backend events that publishes local changes.
 * @internal
 */
import type { AddressInfo } from 'node:net';
import type { Proxy } from '../create-proxy';
import type { Route } from '../routing/route';
import type { BackendState } from '../strategies/strategy';
import { SharedState } from './shared-state';
import type { ResolvedSharedState } from './shared-state-options';

/** @internal */
export interface ProxyInternals {
  readonly routes: ReadonlyMap<string, Route>;
  setState(route: Route, id: string, state: BackendState, reason: string): void;
  connectionCount(): number;
  /** Each listen() server's address. */
  addresses(): (AddressInfo | string | null)[];
}

function hostPort(address: AddressInfo | string | null): string | undefined {
  if (address === null) return undefined;
  if (typeof address === 'string') return address;
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

/** Starts sharing `proxy`'s state as `options` say. @internal */
export function startSharedState(proxy: Proxy, options: ResolvedSharedState, internals: ProxyInternals): SharedState {
  const { routes } = internals;
  const backend = (route: string, id: string) => routes.get(route)?.pool.get(id)?.snapshot();
  // A change from the fleet that cannot be applied here (unknown route, bad spec) is left out: this
  // proxy keeps its own view, and the next record for that backend tries again.
  const attempt = (fn: () => unknown): void => {
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // See above.
    }
  };
  const shared = new SharedState(options, {
    backend,
    routeBackends: (route) => routes.get(route)?.pool.all().map((b) => b.snapshot()) ?? [],
    add: (route, spec) => attempt(() => proxy.addBackend(spec, { route })),
    remove: (route, id) => attempt(() => proxy.removeBackend(id, { route })),
    setWeight: (route, id, weight) => attempt(() => proxy.setWeight(id, weight, { route })),
    drain: (route, id) => attempt(() => proxy.drain(id, { route })),
    undrain: (route, id) => attempt(() => proxy.undrain(id, { route })),
    setState: (route, id, state, reason) => {
      const r = routes.get(route);
      if (r !== undefined) internals.setState(r, id, state, reason);
    },
    healthState: (route, id) => routes.get(route)?.health?.state(id) ?? 'up',
    strategies: () => [...routes.values()].map((r) => [r.id, r.options.strategy] as const),
    backends: () => proxy.backends(),
    connectionCount: () => internals.connectionCount(),
    addresses: () => internals.addresses().map(hostPort).filter((a): a is string => a !== undefined),
    changed: (change) => proxy.emit('sharedStateChange', change),
  });
  proxy.on('backendAdd', (b) => shared.backendChanged(b));
  proxy.on('backendWeightChange', (b) => shared.backendChanged(b));
  proxy.on('backendStateChange', (b, _previous, reason) => shared.backendChanged(b, reason));
  proxy.on('backendRemove', (b) => shared.backendRemoved(b));
  return shared;
}
