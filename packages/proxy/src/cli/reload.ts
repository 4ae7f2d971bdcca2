/**
 * Reload: the difference between the running settings and newly read ones, as a list of changes
 * that apply live (one {@link LiveSection} per kind: backends today, routes to come) and the
 * option keys that only a restart can change.
 * @internal
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { Proxy } from '../create-proxy';
import type { BackendSpec, ProxyOptions } from '../options';
import { resolveOptions, type ResolvedBackendSpec } from '../resolve-options';
import { loadSettings, type Settings } from './config';
import type { CliArgs } from './args';
import { DEFAULT_ROUTE } from '../connection-table';
import { resolveRoutes } from '../routing/resolve-routes';

/** One change applied to the running proxy; `describe` is what the log line says. @internal */
export interface LiveChange {
  readonly describe: string;
  apply(proxy: Proxy): Promise<void> | void;
}

/**
 * A group of options that can change without a restart. `keys` are the option keys it owns (not
 * compared for restart); `diff` turns old and new settings into changes. A routes section plugs in
 * here with `keys: ['routes']`.
 * @internal
 */
export interface LiveSection {
  readonly keys: readonly (keyof ProxyOptions)[];
  diff(prev: Settings, next: Settings): LiveChange[];
}

/** The outcome of comparing two settings. @internal */
export interface ReloadPlan {
  readonly changes: readonly LiveChange[];
  /** Keys whose new value is ignored until a restart (listen, admin, timeouts, strategy...). */
  readonly restartNeeded: readonly string[];
}

function specOf(backends: ProxyOptions['backends'], id: string, resolved: readonly ResolvedBackendSpec[]): string | BackendSpec {
  const i = resolved.findIndex((b) => b.id === id);
  return backends![i] as string | BackendSpec;
}

/**
 * One pool's backends by id: new ids join (addBackend), missing ids drain then leave (removeBackend
 * with drain, bounded by drainTimeout), a changed weight is set in place. A changed url or
 * maxConnections under the same id is a restart matter: give the backend a new id to swap it live.
 */
function diffBackends(
  before: readonly ResolvedBackendSpec[],
  after: readonly ResolvedBackendSpec[],
  specs: ProxyOptions['backends'],
  drainTimeout: number,
  route: string | undefined,
): LiveChange[] {
  const old = new Map(before.map((b) => [b.id, b]));
  const now = new Map(after.map((b) => [b.id, b]));
  const where = route === undefined ? '' : ` (route ${route})`;
  const selector = route === undefined ? {} : { route };
  const changes: LiveChange[] = [];
  for (const [id, b] of now) {
    const was = old.get(id);
    if (was === undefined) {
      const spec = specOf(specs, id, after);
      changes.push({ describe: `backend ${id}${where} added`, apply: (proxy) => void proxy.addBackend(spec, selector) });
    } else if (was.url.href !== b.url.href || was.maxConnections !== b.maxConnections) {
      changes.push({ describe: `backend ${id}${where}: url/maxConnections change ignored (restart, or give it a new id)`, apply: () => undefined });
    } else if (was.weight !== b.weight) {
      changes.push({ describe: `backend ${id}${where} weight ${was.weight} -> ${b.weight}`, apply: (proxy) => proxy.setWeight(id, b.weight, selector) });
    }
  }
  for (const id of old.keys()) {
    if (now.has(id)) continue;
    changes.push({ describe: `backend ${id}${where} draining, then removed`, apply: (proxy) => proxy.removeBackend(id, { drain: true, timeout: drainTimeout, ...selector }) });
  }
  return changes;
}

/** The top-level backends (the `default` route). */
export const backendsSection: LiveSection = {
  keys: ['backends'],
  diff(prev, next) {
    return diffBackends(prev.resolved.backends, next.resolved.backends, next.options.backends, next.resolved.drainTimeout, undefined);
  },
};

/**
 * Routes by id: a route in both keeps serving and its backends change as above; a route added or
 * removed, or whose host, path or stripPrefix changed, needs a restart (the route table is built once).
 */
export const routesSection: LiveSection = {
  keys: ['routes'],
  diff(prev, next) {
    const before = new Map(resolveRoutes(prev.options, prev.resolved).routes.map((r) => [r.id, r]));
    const after = resolveRoutes(next.options, next.resolved).routes;
    const specs = new Map((next.options.routes ?? []).map((r) => [r.id, r.backends]));
    const changes: LiveChange[] = [];
    for (const r of after) {
      if (r.id === DEFAULT_ROUTE) continue;
      const was = before.get(r.id);
      before.delete(r.id);
      if (was === undefined || was.host !== r.host || was.path !== r.path || was.strip !== r.strip) {
        changes.push({ describe: `route ${r.id} ${was === undefined ? 'added' : 'host/path changed'}: ignored until a restart`, apply: () => undefined });
        continue;
      }
      changes.push(...diffBackends(was.options.backends, r.options.backends, specs.get(r.id), r.options.drainTimeout, r.id));
    }
    for (const id of before.keys()) {
      if (id !== DEFAULT_ROUTE) changes.push({ describe: `route ${id} removed: ignored until a restart`, apply: () => undefined });
    }
    return changes;
  },
};

/** Sections in the order their changes apply. */
export const LIVE_SECTIONS: readonly LiveSection[] = [backendsSection, routesSection];

/** Compares running and new settings. Pure: touches neither proxy nor file. */
export function planReload(prev: Settings, next: Settings, sections: readonly LiveSection[] = LIVE_SECTIONS): ReloadPlan {
  const live = new Set<string>(sections.flatMap((s) => s.keys));
  const restartNeeded: string[] = [];
  const keys = new Set([...Object.keys(prev.options), ...Object.keys(next.options)]);
  for (const key of keys) {
    if (live.has(key)) continue;
    if (!isDeepStrictEqual((prev.options as unknown as Record<string, unknown>)[key], (next.options as unknown as Record<string, unknown>)[key])) restartNeeded.push(key);
  }
  if (prev.listen.host !== next.listen.host || prev.listen.port !== next.listen.port) restartNeeded.push('listen');
  if (!isDeepStrictEqual(prev.admin, next.admin)) restartNeeded.push('admin');
  if (prev.adminToken !== next.adminToken) restartNeeded.push('adminToken');
  return { changes: sections.flatMap((s) => s.diff(prev, next)), restartNeeded };
}

/**
 * What runs after a reload: the new values of the keys the live sections own, the previous ones for
 * everything else, so a change that needs a restart keeps being reported until there is one and the
 * process keeps acting on the values it started with (closeTimeout on shutdown, for one).
 */
export function runningAfter(prev: Settings, next: Settings, sections: readonly LiveSection[] = LIVE_SECTIONS): Settings {
  const options: Record<string, unknown> = { ...prev.options };
  for (const key of sections.flatMap((s) => s.keys)) {
    const value = (next.options as unknown as Record<string, unknown>)[key];
    if (value === undefined) delete options[key];
    else options[key] = value;
  }
  const merged = options as unknown as ProxyOptions;
  return { ...prev, options: merged, resolved: resolveOptions(merged) };
}

/**
 * Applies a plan's changes in order, logging each; one that fails is logged and the rest still
 * apply. Removals (drains) run in the background and log when done.
 */
export function applyReload(proxy: Proxy, plan: ReloadPlan, why: string, log: (line: string) => void): void {
  for (const change of plan.changes) {
    try {
      const done = change.apply(proxy);
      log(`reload (${why}): ${change.describe}`);
      if (done instanceof Promise) {
        done.then(
          () => log(`reload (${why}): ${change.describe}: done`),
          (err: unknown) => log(`reload (${why}): ${change.describe} failed: ${(err as Error).message}`),
        );
      }
    } catch (err) {
      log(`reload (${why}): ${change.describe} failed: ${(err as Error).message}`);
    }
  }
  if (plan.restartNeeded.length > 0) log(`reload (${why}): changed, needs a restart to take effect: ${plan.restartNeeded.join(', ')}`);
  if (plan.changes.length === 0 && plan.restartNeeded.length === 0) log(`reload (${why}): no changes`);
}

/**
 * Reads the config again for a reload (`why`: SIGHUP, file changed). A file that no longer loads is logged and
 * changes nothing; otherwise the plan and the settings that run from now on. Shared by the single process and the
 * cluster primary, so both refuse and report a bad file alike.
 * @internal
 */
export function rereadSettings(args: CliArgs, running: Settings, why: string, log: (line: string) => void): { plan: ReloadPlan; settings: Settings } | undefined {
  let next: Settings;
  try {
    next = loadSettings(args);
  } catch (err) {
    log(`reload (${why}) rejected, still running the previous config: ${(err as Error).message}`);
    return undefined;
  }
  return { plan: planReload(running, next), settings: runningAfter(running, next) };
}
