/** A metric family as parse-prometheus-text-format (prom2json's shape) returns it; values are strings. */
export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly ParsedSample[];
}

export interface ParsedSample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value?: string;
  readonly buckets?: Readonly<Record<string, string>>;
  readonly count?: string;
  readonly sum?: string;
}

// The package ships no types; its one export is the parser.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parser = require('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/** Parses a text exposition with an independent parser; throws on a malformed one. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  return new Map(parser(text).map((f) => [f.name, f]));
}

/** The value of the sample of `family` whose labels include `labels` (summed over the rest), as a number. */
export function sampleValue(families: Map<string, ParsedFamily>, family: string, labels: Record<string, string> = {}): number {
  const f = families.get(family);
  if (f === undefined) throw new Error(`no metric family ${family}`);
  let total = 0;
  for (const m of f.metrics) {
    if (Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) total += Number(m.value ?? m.count ?? 0);
  }
  return total;
}

/**
 * The `_count` of a histogram series whose labels include `labels`, summed, read from the text
 * itself: parse-prometheus-text-format folds the series of a labelled histogram into one bucket
 * set and drops their counts, so it can only vouch that the lines are well-formed.
 */
export function histogramCount(text: string, family: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${family}_count(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (m === null) continue;
    const pairs = new Map([...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((p) => [p[1]!, p[2]!]));
    if (Object.entries(labels).every(([k, v]) => pairs.get(k) === v)) total += Number(m[2]);
  }
  return total;
}
