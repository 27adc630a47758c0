/**
 * Computing reference statistics (reference.ts says what they hold and why) from a column's raw
 * values, as the training pipeline does for every feature and for the validation predictions.
 */
import { prepareColumn, type ColumnValues } from './columns.js';
import { MAX_VALUES_COUNTED_PER_VALUE } from './histogram.js';
import { REFERENCE_CHART_BINS, REFERENCE_MAX_CATEGORIES, REFERENCE_QUANTILE_POINTS, type ColumnReference } from './reference.js';

/** Computes one column's reference statistics from its raw values; null when it has no value at all. */
export function profileColumn(values: ColumnValues, column = 'unnamed'): ColumnReference | null {
  const prepared = prepareColumn(values, column, 'reference');
  const { rows, used, missing, nan, infinite } = prepared.counts;
  const counts = { rows, used, missing, nan, infinite };
  if (prepared.kind === null) return null;
  if (prepared.kind === 'categorical') {
    const sorted = [...prepared.categories].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const kept = sorted.slice(0, REFERENCE_MAX_CATEGORIES);
    const otherCount = sorted.slice(REFERENCE_MAX_CATEGORIES).reduce((sum, [, n]) => sum + n, 0);
    return { kind: 'categorical', ...counts, counts: Object.fromEntries(kept), otherCount, truncated: sorted.length > kept.length };
  }
  const sorted = prepared.values.sorted();
  const n = sorted.length;
  if (n === 0) {
    return { kind: 'numeric', ...counts, mean: null, std: null, min: null, max: null, valueCounts: null, quantiles: null, histogram: { edges: [], counts: [] } };
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += ((sorted[i] as number) - mean) ** 2;
  const min = sorted[0] as number;
  const max = sorted[n - 1] as number;
  let distinct = 1;
  for (let i = 1; i < n && distinct <= MAX_VALUES_COUNTED_PER_VALUE; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  let valueCounts: Record<string, number> | null = null;
  let quantiles: number[] | null = null;
  if (distinct <= MAX_VALUES_COUNTED_PER_VALUE) {
    valueCounts = {};
    for (let i = 0; i < n; i++) {
      const key = String(sorted[i]);
      valueCounts[key] = (valueCounts[key] ?? 0) + 1;
    }
  } else if (n <= REFERENCE_QUANTILE_POINTS) {
    quantiles = Array.from(sorted);
  } else {
    quantiles = Array.from({ length: REFERENCE_QUANTILE_POINTS }, (_, i) => sorted[Math.floor(((i + 0.5) * n) / REFERENCE_QUANTILE_POINTS)] as number);
  }
  return { kind: 'numeric', ...counts, mean, std: Math.sqrt(squares / n), min, max, valueCounts, quantiles, histogram: chartHistogram(sorted, min, max) };
}

/** Equal-width bins over [min, max] of sorted values (one bin when they are all equal). */
function chartHistogram(sorted: Float64Array, min: number, max: number): { edges: number[]; counts: number[] } {
  const bins = max > min ? REFERENCE_CHART_BINS : 1;
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < sorted.length; i++) {
    const bin = width === 0 ? 0 : Math.min(bins - 1, Math.floor(((sorted[i] as number) - min) / width));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { edges, counts };
}

/** Every column's reference statistics; columns with no value at all are listed in `empty`. */
export function profileColumns(columns: Readonly<Record<string, ColumnValues>>): { columns: Record<string, ColumnReference>; empty: string[] } {
  const out: Record<string, ColumnReference> = {};
  const empty: string[] = [];
  for (const [name, values] of Object.entries(columns)) {
    const profile = profileColumn(values, name);
    if (profile === null) empty.push(name);
    else out[name] = profile;
  }
  return { columns: out, empty };
}
