/**
 * Counters and histograms keyed by label values, and their rendering as the Prometheus text
 * exposition (version 0.0.4). Written by hand rather than with prom-client: the proxy needs a few
 * counters and two histograms, and the library would be a runtime dependency of every embedder.
 * @internal
 */

/** One line of a metric family: `name{labels} value`, `suffix` added for histogram series. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** `_bucket`, `_sum` or `_count` for histogram lines. */
  readonly suffix?: string;
}

/** A metric family as scraped: name, help, type and its samples. @internal */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly samples: readonly Sample[];
}

function keyOf(values: readonly string[]): string {
  return values.join('\u0000');
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i]!;
  return labels;
}

/** A monotonic counter per label-value combination. @internal */
export class CounterFamily {
  readonly #values = new Map<string, { labels: Record<string, string>; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  inc(values: readonly string[], by = 1): void {
    this.cell(values).value += by;
  }

  /** The mutable cell for these labels, made at 0 if new: hot paths keep it and add to `value`. */
  cell(values: readonly string[]): { value: number } {
    const key = keyOf(values);
    let cell = this.#values.get(key);
    if (cell === undefined) {
      cell = { labels: labelsOf(this.labelNames, values), value: 0 };
      this.#values.set(key, cell);
    }
    return cell;
  }

  /** The counter's value for these labels (0 if never incremented). */
  get(values: readonly string[]): number {
    return this.#values.get(keyOf(values))?.value ?? 0;
  }

  samples(): Sample[] {
    return [...this.#values.values()].map((c) => ({ labels: c.labels, value: c.value }));
  }

  family(): Family {
    return { name: this.name, help: this.help, type: 'counter', samples: this.samples() };
  }
}

/** Upper bounds in seconds: 1 ms to 10 s, enough to tell a slow backend from a dead one. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A cumulative histogram per label-value combination. @internal */
export class HistogramFamily {
  readonly #values = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {}

  observe(values: readonly string[], seconds: number): void {
    this.series(values)(seconds);
  }

  /** An observer for these labels: hot paths keep it instead of looking the series up each time. */
  series(values: readonly string[]): (seconds: number) => void {
    const key = keyOf(values);
    let cell = this.#values.get(key);
    if (cell === undefined) {
      cell = { labels: labelsOf(this.labelNames, values), counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.#values.set(key, cell);
    }
    const c = cell;
    const buckets = this.buckets;
    return (seconds) => {
      // Counts are kept per bucket and made cumulative at scrape time: one increment per observation.
      let i = 0;
      while (i < buckets.length && seconds > buckets[i]!) i++;
      if (i < buckets.length) c.counts[i]!++;
      c.sum += seconds;
      c.count++;
    };
  }

  family(): Family {
    const samples: Sample[] = [];
    for (const cell of this.#values.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += cell.counts[i]!;
        samples.push({ labels: { ...cell.labels, le: String(this.buckets[i]) }, value: cumulative, suffix: '_bucket' });
      }
      samples.push({ labels: { ...cell.labels, le: '+Inf' }, value: cell.count, suffix: '_bucket' });
      samples.push({ labels: cell.labels, value: cell.sum, suffix: '_sum' });
      samples.push({ labels: cell.labels, value: cell.count, suffix: '_count' });
    }
    return { name: this.name, help: this.help, type: 'histogram', samples };
  }
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Renders families as the text exposition format 0.0.4: `# HELP`, `# TYPE`, then one line per sample.
 * @internal
 */
export function renderExposition(families: readonly Family[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const pairs = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
      out += `${f.name}${s.suffix ?? ''}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}
