/**
 * Feature statistics, computed while materialization streams a view's rows and stored per run: the
 * reference that drift monitoring compares serving data against, and what the model card shows.
 *
 * Numeric features (and timestamps, as epoch ms): count, nulls, min, max, mean and standard
 * deviation (exact, merged with Chan's formula), and quantiles and a 20-bin histogram from a uniform
 * reservoir sample of 4,096 values (exact below that many rows). Strings and booleans: count, nulls,
 * distinct values and the top 10 by frequency (exact up to 1,000 distinct values; beyond that the
 * counting table is pruned back to its 1,000 most frequent values whenever it reaches 2,000, so
 * memory stays bounded and frequent values' counts become lower bounds). Sketches are mergeable, so
 * an incremental run extends the previous run's statistics with only its new rows.
 */
import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { featureMaterializations, featureStatistics } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { FeatureValue, ValueType } from './definitions.js';

const RESERVOIR = 4_096;
const TRACKED = 1_000;
const TOP = 10;
const BINS = 20;
const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

export interface NumericSketch {
  kind: 'numeric';
  count: number;
  nulls: number;
  min: number | null;
  max: number | null;
  mean: number;
  m2: number;
  /** Values seen by the reservoir, and the reservoir itself. */
  seen: number;
  sample: number[];
  seed: number;
}

export interface CategoricalSketch {
  kind: 'categorical';
  count: number;
  nulls: number;
  /** Value -> count (at most 2 x TRACKED entries; a plain object once stored as JSON). */
  counts: Map<string, number>;
  /** True once more distinct values arrived than are tracked. */
  saturated: boolean;
}

export type FeatureSketch = NumericSketch | CategoricalSketch;

export interface NumericSummary {
  kind: 'numeric';
  count: number;
  nulls: number;
  nullFraction: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  quantiles: Record<string, number>;
  histogram: { edges: number[]; counts: number[] };
  /** The reservoir sample (a reference sample for drift tests). */
  sample: number[];
}

export interface CategoricalSummary {
  kind: 'categorical';
  count: number;
  nulls: number;
  nullFraction: number;
  /** Exact below the tracking limit; a lower bound (with `distinctIsLowerBound`) above it. */
  distinct: number;
  distinctIsLowerBound: boolean;
  top: Array<{ value: string; count: number; share: number }>;
}

export type FeatureSummary = NumericSummary | CategoricalSummary;

export function newSketch(type: ValueType, seed = 1): FeatureSketch {
  return type === 'string' || type === 'bool'
    ? { kind: 'categorical', count: 0, nulls: 0, counts: new Map(), saturated: false }
    : { kind: 'numeric', count: 0, nulls: 0, min: null, max: null, mean: 0, m2: 0, seen: 0, sample: [], seed };
}

/** xorshift32: a reproducible reservoir, so the same data gives the same statistics. */
function nextRandom(sketch: NumericSketch): number {
  let x = sketch.seed | 0 || 1;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  sketch.seed = x;
  return (x >>> 0) / 4294967296;
}

export function addValue(sketch: FeatureSketch, value: FeatureValue): void {
  if (value === null) {
    sketch.nulls++;
    return;
  }
  if (sketch.kind === 'numeric') {
    const x = value as number;
    sketch.count++;
    if (sketch.min === null || x < sketch.min) sketch.min = x;
    if (sketch.max === null || x > sketch.max) sketch.max = x;
    const delta = x - sketch.mean;
    sketch.mean += delta / sketch.count;
    sketch.m2 += delta * (x - sketch.mean);
    sketch.seen++;
    if (sketch.sample.length < RESERVOIR) sketch.sample.push(x);
    else {
      const j = Math.floor(nextRandom(sketch) * sketch.seen);
      if (j < RESERVOIR) sketch.sample[j] = x;
    }
    return;
  }
  sketch.count++;
  addCategory(sketch, String(value), 1);
}

function addCategory(sketch: CategoricalSketch, key: string, weight: number): void {
  const counts = sketch.counts;
  counts.set(key, (counts.get(key) ?? 0) + weight);
  if (counts.size >= 2 * TRACKED) {
    sketch.saturated = true;
    const kept = [...counts].sort((x, y) => y[1] - x[1]).slice(0, TRACKED);
    sketch.counts = new Map(kept);
  }
}

/** The sketch as JSON (maps become objects). */
export function sketchToJson(sketch: FeatureSketch): Record<string, unknown> {
  return sketch.kind === 'categorical' ? { ...sketch, counts: Object.fromEntries(sketch.counts) } : { ...sketch };
}

export function sketchFromJson(json: Record<string, unknown>): FeatureSketch {
  return json.kind === 'categorical'
    ? ({ ...json, counts: new Map(Object.entries(json.counts as Record<string, number>)) } as CategoricalSketch)
    : (json as unknown as NumericSketch);
}

/** `a` extended with `b` (both describe disjoint rows). */
export function mergeSketches(a: FeatureSketch, b: FeatureSketch): FeatureSketch {
  if (a.kind === 'categorical' && b.kind === 'categorical') {
    const merged: CategoricalSketch = { ...a, counts: new Map(a.counts), count: a.count + b.count, nulls: a.nulls + b.nulls, saturated: a.saturated || b.saturated };
    for (const [k, c] of b.counts) addCategory(merged, k, c);
    return merged;
  }
  if (a.kind === 'numeric' && b.kind === 'numeric') {
    const count = a.count + b.count;
    const delta = b.mean - a.mean;
    const merged: NumericSketch = {
      kind: 'numeric',
      count,
      nulls: a.nulls + b.nulls,
      min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
      max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
      mean: count === 0 ? 0 : a.mean + (delta * b.count) / count,
      m2: count === 0 ? 0 : a.m2 + b.m2 + (delta * delta * a.count * b.count) / count,
      seen: a.seen + b.seen,
      sample: [],
      seed: a.seed,
    };
    // Each side's reservoir stands for its rows: draw from them in proportion to the rows they saw.
    const size = Math.min(RESERVOIR, a.sample.length + b.sample.length);
    const [pa, pb] = [[...a.sample], [...b.sample]];
    for (let i = 0; i < size; i++) {
      const fromA = pb.length === 0 || (pa.length > 0 && nextRandom(merged) * merged.seen < a.seen);
      const pool = fromA ? pa : pb;
      const j = Math.floor(nextRandom(merged) * pool.length);
      merged.sample.push(pool[j]!);
      pool[j] = pool[pool.length - 1]!;
      pool.pop();
    }
    return merged;
  }
  throw new TypeError('Cannot merge numeric and categorical statistics of one feature; its type changed.');
}

function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

export function summarize(sketch: FeatureSketch): FeatureSummary {
  const total = sketch.count + sketch.nulls;
  const nullFraction = total === 0 ? 0 : sketch.nulls / total;
  if (sketch.kind === 'categorical') {
    const entries = [...sketch.counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    return {
      kind: 'categorical',
      count: sketch.count,
      nulls: sketch.nulls,
      nullFraction,
      distinct: entries.length,
      distinctIsLowerBound: sketch.saturated,
      top: entries.slice(0, TOP).map(([value, count]) => ({ value, count, share: sketch.count === 0 ? 0 : count / sketch.count })),
    };
  }
  const sorted = [...sketch.sample].sort((x, y) => x - y);
  const quantiles: Record<string, number> = {};
  if (sorted.length > 0) for (const q of QUANTILES) quantiles[`p${Math.round(q * 100)}`] = quantile(sorted, q);
  const histogram = { edges: [] as number[], counts: [] as number[] };
  if (sketch.min !== null && sketch.max !== null && sorted.length > 0) {
    const bins = sketch.min === sketch.max ? 1 : BINS;
    const width = (sketch.max - sketch.min) / bins;
    histogram.edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? sketch.max! : sketch.min! + i * width));
    const raw = new Array<number>(bins).fill(0);
    for (const x of sorted) raw[width === 0 ? 0 : Math.min(bins - 1, Math.floor((x - sketch.min) / width))]!++;
    // Scaled from the sample to the rows it stands for.
    const scale = sketch.count / sorted.length;
    histogram.counts = raw.map((c) => Math.round(c * scale));
  }
  return {
    kind: 'numeric',
    count: sketch.count,
    nulls: sketch.nulls,
    nullFraction,
    min: sketch.min,
    max: sketch.max,
    mean: sketch.count === 0 ? null : sketch.mean,
    std: sketch.count < 2 ? null : Math.sqrt(sketch.m2 / (sketch.count - 1)),
    quantiles,
    histogram,
    sample: sorted,
  };
}

export interface ViewStatistics {
  view: string;
  materializationId: number;
  mode: 'full' | 'incremental';
  computedAt: Date;
  /** Rows the statistics describe (every row materialized up to this run). */
  rows: number;
  features: Record<string, FeatureSummary>;
}

/** The statistics of a view as of its latest materialization (or a given one). */
export async function getFeatureStatistics(db: Database, view: string, options: { materializationId?: number } = {}): Promise<ViewStatistics> {
  const [run] = await db
    .select()
    .from(featureMaterializations)
    .where(
      and(
        eq(featureMaterializations.view, view),
        eq(featureMaterializations.status, 'complete'),
        options.materializationId === undefined ? undefined : eq(featureMaterializations.id, options.materializationId),
      ),
    )
    .orderBy(desc(featureMaterializations.id))
    .limit(1);
  if (!run) {
    throw new NotFoundError(
      options.materializationId === undefined
        ? `Feature view "${view}" has no statistics yet: they are computed when it is materialized (\`steward materialize --view ${view}\`).`
        : `Feature view "${view}" has no completed materialization ${options.materializationId}.`,
      { view },
    );
  }
  const rows = await db.select().from(featureStatistics).where(eq(featureStatistics.materializationId, run.id));
  const features: Record<string, FeatureSummary> = {};
  let count = 0;
  for (const row of rows) {
    features[row.feature] = row.summary as unknown as FeatureSummary;
    count = Math.max(count, features[row.feature]!.count + features[row.feature]!.nulls);
  }
  return { view, materializationId: run.id, mode: run.mode, computedAt: run.finishedAt ?? run.startedAt, rows: count, features };
}
