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
import type { Settings } from './config';

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

function specOf(options: ProxyOptions, id: string, resolved: readonly ResolvedBackendSpec[]): string | BackendSpec {
  const i = resolved.findIndex((b) => b.id === id);
  return options.backends[i] as string | BackendSpec;
}

/**
 * Backends by id: new ids join (addBackend), missing ids drain then leave (removeBackend with
 * drain, bounded by drainTimeout), a changed weight is set in place. A changed url or
 * maxConnections under the same id is a restart matter: give the backend a new id to swap it live.
 */
export const backendsSection: LiveSection = {
  keys: ['backends'],
  diff(prev, next) {
    const before = new Map(prev.resolved.backends.map((b) => [b.id, b]));
    const after = new Map(next.resolved.backends.map((b) => [b.id, b]));
    const changes: LiveChange[] = [];
    for (const [id, b] of after) {
      const old = before.get(id);
      if (old === undefined) {
        const spec = specOf(next.options, id, next.resolved.backends);
        changes.push({ describe: `backend ${id} added`, apply: (proxy) => void proxy.addBackend(spec) });
      } else if (old.url.href !== b.url.href || old.maxConnections !== b.maxConnections) {
        changes.push({ describe: `backend ${id}: url/maxConnections change ignored (restart, or give it a new id)`, apply: () => undefined });
      } else if (old.weight !== b.weight) {
        changes.push({ describe: `backend ${id} weight ${old.weight} -> ${b.weight}`, apply: (proxy) => proxy.setWeight(id, b.weight) });
      }
    }
    for (const id of before.keys()) {
      if (after.has(id)) continue;
      const timeout = next.resolved.drainTimeout;
      changes.push({ describe: `backend ${id} draining, then removed`, apply: (proxy) => proxy.removeBackend(id, { drain: true, timeout }) });
    }
    return changes;
  },
};

/** Sections in the order their changes apply. */
export const LIVE_SECTIONS: readonly LiveSection[] = [backendsSection];

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
