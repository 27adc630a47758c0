/**
 * Reference statistics, computed once when a model is trained and stored with its version, so that
 * monitoring compares serving data against them without ever reloading the training set.
 *
 * Per numeric column: the counts (rows, null, NaN, infinite), mean, population standard deviation,
 * min, max, a 20-bin histogram for charts and, as what the tests read, either the exact value
 * counts (at most 20 distinct values: calendar features, flags) or 1,000 equal-mass quantile
 * points (the value at each mid-rank (i + 0.5)/1,000), which hold the reference's distribution
 * function to a thousandth: the Wasserstein distance computed from them is within a few thousandths
 * of the full column's, Jensen-Shannon (which bins the points) within about 0.01. Per categorical
 * column: the exact count of every category (up to 5,000 categories; the rest are summed in
 * `otherCount` and said to be truncated). A profile passed to detectColumnDrift in place of raw
 * values keeps the real row count, so Evidently's rule still sees a large reference; a p-value test
 * (ks) chosen explicitly against quantile points uses their 1,000 as the sample size, which only
 * makes it more conservative.
 */
import { ValidationError } from '../errors.js';

export const REFERENCE_QUANTILE_POINTS = 1_000;
export const REFERENCE_MAX_CATEGORIES = 5_000;
export const REFERENCE_CHART_BINS = 20;

export interface ReferenceCounts {
  rows: number;
  used: number;
  missing: number;
  nan: number;
  infinite: number;
}

export interface NumericReference extends ReferenceCounts {
  kind: 'numeric';
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** Exact counts per value, when there are at most 20 distinct values; keys are the numbers as text. */
  valueCounts: Record<string, number> | null;
  /** Equal-mass quantile points, ascending, when there are more (null otherwise). */
  quantiles: number[] | null;
  /** For charts: equal-width bins over [min, max]. */
  histogram: { edges: number[]; counts: number[] };
}

export interface CategoricalReference extends ReferenceCounts {
  kind: 'categorical';
  counts: Record<string, number>;
  /** Rows whose categories were left out past the limit; 0 unless `truncated`. */
  otherCount: number;
  truncated: boolean;
}

export type ColumnReference = NumericReference | CategoricalReference;

/** A column's reference statistics, tagged so that prepareColumn can tell them from raw values. */
export function isColumnReference(values: unknown): values is ColumnReference {
  return (
    typeof values === 'object' &&
    values !== null &&
    !Array.isArray(values) &&
    !ArrayBuffer.isView(values) &&
    ((values as { kind?: unknown }).kind === 'numeric' || (values as { kind?: unknown }).kind === 'categorical')
  );
}

/** What drift.ts tests take for a reference given as statistics: the values and their true counts. */
export function referenceValues(reference: ColumnReference, column: string):
  | { kind: 'numeric'; values: Float64Array; counts: ReferenceCounts }
  | { kind: 'categorical'; categories: Map<string, number>; counts: ReferenceCounts } {
  const counts = { rows: reference.rows, used: reference.used, missing: reference.missing, nan: reference.nan, infinite: reference.infinite };
  if (reference.kind === 'categorical') {
    return { kind: 'categorical', categories: new Map(Object.entries(reference.counts).filter(([, n]) => n > 0)), counts };
  }
  if (reference.used === 0) return { kind: 'numeric', values: new Float64Array(0), counts };
  if (reference.valueCounts !== null) {
    const entries = Object.entries(reference.valueCounts).map(([value, n]) => [Number(value), n] as const);
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    const values = new Float64Array(total);
    let at = 0;
    for (const [value, n] of entries) {
      values.fill(value, at, at + n);
      at += n;
    }
    return { kind: 'numeric', values, counts };
  }
  if (reference.quantiles === null || reference.quantiles.length === 0) {
    throw new ValidationError(`The reference statistics of column "${column}" hold neither value counts nor quantiles; recompute them (profileColumn).`, { column });
  }
  return { kind: 'numeric', values: Float64Array.from(reference.quantiles), counts };
}

/** A model version's reference, as the training pipeline stores it (one JSON artifact). */
export interface ReferenceProfile {
  format: 'steward.reference/v1';
  /** The training rows' features, the columns the model consumes. */
  features: Record<string, ColumnReference>;
  /** Features with no value at all in the training rows. */
  emptyFeatures: string[];
  /** The model's score on the validation rows. */
  prediction: ColumnReference;
  /**
   * The model's metrics on the validation rows, the baseline for performance decay. `rocAuc` and
   * `logLoss` are a classifier's (0 for a regression model, whose `task` says so); `metrics` holds
   * every metric of the task (src/ml/tabular/task.ts), and `primaryMetric` the one decay is measured on.
   * Profiles written before tasks existed have neither: they are binary classifiers judged on rocAuc.
   */
  validation: {
    rows: number;
    positives: number;
    rocAuc: number;
    logLoss: number;
    from: string;
    to: string;
    task?: 'binary-classification' | 'regression';
    primaryMetric?: string;
    metrics?: Record<string, number>;
  };
  training: { rows: number; to: string };
}

/** Reads a stored reference profile back, refusing anything that is not one. */
export function parseReferenceProfile(bytes: Uint8Array, uri: string): ReferenceProfile {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ValidationError(`Artifact ${uri} is not a reference profile (${(error as Error).message}).`, { uri });
  }
  const candidate = document as Partial<ReferenceProfile> | null;
  if (candidate?.format !== 'steward.reference/v1' || typeof candidate.features !== 'object' || !isColumnReference(candidate.prediction)) {
    throw new ValidationError(`Artifact ${uri} is not a reference profile (format steward.reference/v1); retrain the model so its training run stores one.`, { uri });
  }
  return candidate as ReferenceProfile;
}
