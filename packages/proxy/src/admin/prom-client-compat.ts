import type { Family } from './metric-families';

/**
 * The part of a prom-client `Registry` that {@link Proxy.registerMetrics} uses.
 *
 * @remarks
 * Typed structurally so prom-client stays an optional peer: any object with a `registerMetric`
 * method that accepts prom-client's metric shape (prom-client 13 to 15) fits.
 *
 * @example
 * ```ts
 * import type { MetricsRegistryLike } from '@switchboard/proxy';
 * const seen: string[] = [];
 * const registry: MetricsRegistryLike = { registerMetric: (m: { name: string }) => void seen.push(m.name) };
 * ```
 * @group Admin
 */
export interface MetricsRegistryLike {
  registerMetric(metric: never): void;
}

/** One metric as prom-client's registry reads it: `name`, `help`, `type` and an async `get()`. @internal */
export interface PromClientMetric {
  readonly name: string;
  readonly help: string;
  readonly type: Family['type'];
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: Family['type']; aggregator: 'sum'; values: { labels: Record<string, string>; value: number; metricName: string }[] }>;
  reset(): void;
}

/**
 * prom-client compatible metric objects, one per family. A registry scrape calls every `get()` in
 * the same tick; they share one scrape of the proxy, dropped at the next microtask.
 * @internal
 */
export function promClientMetrics(scrape: () => Family[]): PromClientMetric[] {
  let cached: Family[] | undefined;
  const current = (): Family[] => {
    if (cached === undefined) {
      cached = scrape();
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };
  return scrape().map((f) => ({
    name: f.name,
    help: f.help,
    type: f.type,
    aggregator: 'sum' as const,
    get: async () => {
      const now = current().find((x) => x.name === f.name);
      const values = (now?.samples ?? []).map((s) => ({ labels: { ...s.labels }, value: s.value, metricName: f.name + (s.suffix ?? '') }));
      return { name: f.name, help: f.help, type: f.type, aggregator: 'sum' as const, values };
    },
    // Switchboard's counters belong to the proxy; a registry's resetMetrics() leaves them alone.
    reset: () => undefined,
  }));
}
