/**
 * Drift detection per column and per dataset: pick the test (Evidently's rule unless overridden),
 * run it, and report what was decided or, when nothing could be, why.
 */
import { ValidationError } from '../errors.js';
import { prepareColumn, type ColumnKind, type ColumnValues, type PreparedColumn, type SideCounts } from './columns.js';
import {
  countCategories,
  countNumbers,
  distinctUpTo,
  fillEmptyShares,
  MAX_VALUES_COUNTED_PER_VALUE,
  sharesOfCounts,
  sharesOfNumbers,
  type BinnedShares,
  type ValueCounts,
} from './histogram.js';
import { ksTwoSampleSorted } from './ks.js';
import type { FiniteValues } from './sample.js';
import {
  checkColumnOptions,
  checkDatasetOptions,
  checkThreshold,
  defaultTest,
  defaultThreshold,
  DRIFT_DEFAULTS,
  forColumn,
  TEST_SPECS,
  type ColumnDriftOptions,
  type ColumnOptions,
  type DatasetDriftOptions,
  type DriftTestName,
} from './options.js';
import {
  chiSquareFromCounts,
  jensenShannonDistance,
  jensenShannonNoiseFloor,
  klDivergence,
  normedWassersteinSorted,
  populationStabilityIndex,
  proportionsZTest,
} from './tests.js';

/** At most this many unseen categories are listed; `unseenCategoryCount` always has them all. */
export const MAX_LISTED_UNSEEN_CATEGORIES = 100;

export interface ColumnCounts {
  /** null when the column is missing from that side. */
  reference: SideCounts | null;
  current: SideCounts | null;
  /**
   * Distinct usable values over both sides. null when no test was chosen, and for a numeric column
   * with more than 20: no choice depends on the exact number, and counting it would take a sort or
   * a hash of every value.
   */
  distinctValues: number | null;
}

interface ColumnDriftBase {
  column: string;
  kind: ColumnKind | null;
  counts: ColumnCounts;
  /** Values of the current data the reference never had, when the test compares values one by one. */
  unseenCategories: string[];
  unseenCategoryCount: number;
}

export interface DecidedColumnDrift extends ColumnDriftBase {
  decided: true;
  test: DriftTestName;
  /** Kolmogorov-Smirnov D, chi-square, z, or the distance itself. */
  statistic: number;
  /** For ks, chisquare and z; drift when below the threshold. */
  pValue: number | null;
  /** For wasserstein (normed), jensenshannon, psi and kl_div; drift when at or above the threshold. */
  distance: number | null;
  threshold: number;
  /**
   * For jensenshannon: the distance 99 in 100 windows of this size drawn from the reference itself
   * stay below (jensenShannonNoiseFloor). A distance below it is sampling noise, whatever the rule
   * says; with `aboveNoise` such a column does not drift. null for the other tests.
   */
  noiseFloor: number | null;
  drifted: boolean;
  reason: null;
}

export interface UndecidedColumnDrift extends ColumnDriftBase {
  decided: false;
  test: DriftTestName | null;
  statistic: null;
  pValue: null;
  distance: null;
  threshold: number | null;
  noiseFloor: null;
  drifted: null;
  reason: string;
}

export type ColumnDriftResult = DecidedColumnDrift | UndecidedColumnDrift;

export interface DatasetDriftResult {
  /** Reference columns in order, then columns only the current data has. */
  columns: ColumnDriftResult[];
  /** Columns tested and reported but left out of the share because they follow the calendar (options' `seasonal`). */
  seasonalColumns: string[];
  /** Decided columns that count toward the share: seasonal ones are left out. */
  decidedColumns: number;
  /** Drifted columns among those counted. */
  driftedColumns: number;
  /** driftedColumns / decidedColumns; null when no column was decided. */
  share: number | null;
  shareThreshold: number;
  datasetDrift: boolean | null;
  reason: string | null;
}

/** Tests one column of reference data against the same column of current data. */
export function detectColumnDrift(reference: ColumnValues, current: ColumnValues, options: ColumnDriftOptions = {}): ColumnDriftResult {
  const column = options.column ?? 'unnamed';
  checkColumnOptions(options, forColumn(column));
  return decide(column, prepareColumn(reference, column, 'reference'), prepareColumn(current, column, 'current'), options);
}

/**
 * Tests every column of two datasets, given as columns by name, and calls the dataset drifted when
 * at least `driftShare` (default one half) of the decided columns drift. Undecided columns (missing
 * from one side, all null, too few rows) are reported with their reason and left out of the share,
 * and so are seasonal ones (tested and reported, but expected to differ from the reference).
 */
export function detectDatasetDrift(
  referenceColumns: Readonly<Record<string, ColumnValues>>,
  currentColumns: Readonly<Record<string, ColumnValues>>,
  options: DatasetDriftOptions = {},
): DatasetDriftResult {
  checkDatasetOptions(options);
  const perColumn = options.columns ?? {};
  for (const name of Object.keys(perColumn)) {
    if (!Object.hasOwn(referenceColumns, name) && !Object.hasOwn(currentColumns, name)) {
      throw new ValidationError(`Options for column "${name}" name a column that is in neither dataset.`, { column: name });
    }
  }
  const columns: ColumnDriftResult[] = [];
  for (const [name, referenceValues] of Object.entries(referenceColumns)) {
    const reference = prepareColumn(referenceValues, name, 'reference');
    const currentValues = Object.hasOwn(currentColumns, name) ? currentColumns[name] : undefined;
    if (currentValues === undefined) {
      const counts = { reference: reference.counts, current: null, distinctValues: null };
      columns.push(undecided(name, reference.kind, counts, null, null, 'The column is missing from the current data.'));
      continue;
    }
    const own = Object.hasOwn(perColumn, name) ? perColumn[name] : undefined;
    const columnOptions: ColumnOptions = {
      ...own,
      minRows: own?.minRows ?? options.minRows,
      jsBase: own?.jsBase ?? options.jsBase,
      aboveNoise: own?.aboveNoise ?? options.aboveNoise,
    };
    columns.push(decide(name, reference, prepareColumn(currentValues, name, 'current'), columnOptions));
  }
  for (const [name, currentValues] of Object.entries(currentColumns)) {
    if (Object.hasOwn(referenceColumns, name)) continue;
    const current = prepareColumn(currentValues, name, 'current');
    const counts = { reference: null, current: current.counts, distinctValues: null };
    columns.push(undecided(name, current.kind, counts, null, null, 'The column is missing from the reference data.'));
  }
  const seasonalColumns = Object.entries(perColumn)
    .filter(([, o]) => o.seasonal === true)
    .map(([name]) => name);
  const counted = columns.filter((c) => !seasonalColumns.includes(c.column));
  const decidedColumns = counted.filter((c) => c.decided).length;
  const driftedColumns = counted.filter((c) => c.drifted === true).length;
  const shareThreshold = options.driftShare ?? DRIFT_DEFAULTS.driftShare;
  const share = decidedColumns === 0 ? null : driftedColumns / decidedColumns;
  return {
    columns,
    seasonalColumns,
    decidedColumns,
    driftedColumns,
    share,
    shareThreshold,
    datasetDrift: share === null ? null : share >= shareThreshold,
    reason: share === null ? `No${seasonalColumns.length ? ' non-seasonal' : ''} column could be decided, so the dataset cannot be.` : null,
  };
}

/** Both sides of a column once their kinds agree and both have values. */
type ColumnPair =
  | { kind: 'numeric'; reference: FiniteValues; current: FiniteValues }
  | { kind: 'categorical'; reference: Map<string, number>; current: Map<string, number> };

function pairOf(reference: PreparedColumn, current: PreparedColumn): ColumnPair | null {
  if (reference.kind === 'numeric' && current.kind === 'numeric') return { kind: 'numeric', reference: reference.values, current: current.values };
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    return { kind: 'categorical', reference: reference.categories, current: current.categories };
  }
  return null;
}

function decide(column: string, reference: PreparedColumn, current: PreparedColumn, options: ColumnOptions): ColumnDriftResult {
  if (reference.kind !== null && current.kind !== null && reference.kind !== current.kind) {
    throw new ValidationError(
      `Column "${column}" holds ${describe(reference.kind)} in the reference data but ${describe(current.kind)} in the current data.`,
      { column },
    );
  }
  const kind = reference.kind ?? current.kind;
  const counts: ColumnCounts = { reference: reference.counts, current: current.counts, distinctValues: null };
  const chosen = options.test ?? null;
  const givenThreshold = options.threshold ?? null;
  const pair = pairOf(reference, current);
  // A side without a kind has no values at all, so pair is null only when a side has none.
  if (pair === null || reference.counts.used === 0 || current.counts.used === 0) {
    const [side, sideCounts] = reference.counts.used === 0 ? (['reference', reference.counts] as const) : (['current', current.counts] as const);
    return undecided(column, kind, counts, chosen, givenThreshold, noUsableValues(side, sideCounts));
  }
  const minRows = options.minRows ?? DRIFT_DEFAULTS.minRows;
  if (reference.counts.used < minRows || current.counts.used < minRows) {
    return undecided(
      column,
      kind,
      counts,
      chosen,
      givenThreshold,
      `Too few rows to decide: ${reference.counts.used} usable reference values and ${current.counts.used} current ones; at least ${minRows} are needed on each side.`,
    );
  }
  if (pair.kind === 'numeric') {
    const distinct = distinctUpTo(MAX_VALUES_COUNTED_PER_VALUE, pair.reference.values, pair.current.values);
    counts.distinctValues = distinct > MAX_VALUES_COUNTED_PER_VALUE ? null : distinct;
  } else {
    counts.distinctValues = new Set([...pair.reference.keys(), ...pair.current.keys()]).size;
  }
  const test = chosen ?? defaultTest(pair.kind, reference.counts.used, counts.distinctValues ?? Number.POSITIVE_INFINITY);
  const threshold = options.threshold ?? defaultThreshold(test);
  checkThreshold(test, threshold, forColumn(column));
  const outcome = runTest(column, test, pair, options.jsBase ?? DRIFT_DEFAULTS.jsBase, { reference: reference.counts.used, current: current.counts.used });
  const unseen = outcome.perValue === null ? [] : unseenIn(outcome.perValue);
  const base = { column, kind: pair.kind, counts, unseenCategories: unseen.slice(0, MAX_LISTED_UNSEEN_CATEGORIES), unseenCategoryCount: unseen.length };
  if ('reason' in outcome) return { ...base, ...nothing, decided: false, test, threshold, reason: outcome.reason };
  const isPValue = TEST_SPECS[test].score === 'p_value';
  const noiseFloor = outcome.noiseFloor ?? null;
  const byRule = isPValue ? outcome.score < threshold : outcome.score >= threshold;
  return {
    ...base,
    decided: true,
    test,
    statistic: outcome.statistic,
    pValue: isPValue ? outcome.score : null,
    distance: isPValue ? null : outcome.score,
    threshold,
    noiseFloor,
    drifted: byRule && !(options.aboveNoise === true && noiseFloor !== null && outcome.score <= noiseFloor),
    reason: null,
  };
}

/** Counts or shares per value, when the test compared values one by one; for listing unseen ones. */
interface PerValue {
  keys: string[];
  reference: Float64Array;
}

type TestOutcome = { statistic: number; score: number; perValue: PerValue | null; noiseFloor?: number } | { reason: string; perValue: PerValue };

function runTest(column: string, test: DriftTestName, pair: ColumnPair, jsBase: number | undefined, rows: { reference: number; current: number }): TestOutcome {
  if (test === 'ks' || test === 'wasserstein') {
    if (pair.kind !== 'numeric') {
      throw new ValidationError(`Test "${test}" needs numbers, but column "${column}" holds strings.`, { column, test });
    }
    if (test === 'ks') {
      const ks = ksTwoSampleSorted(pair.reference.sorted(), pair.current.sorted());
      return { statistic: ks.statistic, score: ks.pValue, perValue: null };
    }
    const distance = normedWassersteinSorted(pair.reference.sorted(), pair.current.sorted());
    return { statistic: distance, score: distance, perValue: null };
  }
  if (test === 'chisquare' || test === 'z') {
    const counts = valueCounts(pair);
    const distinct = counts.keys.length;
    if (test === 'chisquare') {
      if (distinct < 2) return { reason: `The chi-square test needs at least two distinct values; this column has ${distinct}.`, perValue: counts };
      const chi = chiSquareFromCounts(counts.reference, counts.current);
      return { statistic: chi.statistic, score: chi.pValue, perValue: counts };
    }
    if (distinct > 2) return { reason: `The z-test compares the shares of two values; this column has ${distinct}.`, perValue: counts };
    // As Evidently: the first value in sort order counts as 0, the other as 1.
    const z = proportionsZTest(
      { successes: counts.reference[1] ?? 0, total: total(counts.reference) },
      { successes: counts.current[1] ?? 0, total: total(counts.current) },
    );
    return { statistic: z.statistic, score: z.pValue, perValue: counts };
  }
  const shares: BinnedShares =
    pair.kind === 'numeric' ? sharesOfNumbers(pair.reference.values, pair.current.values) : sharesOfCounts(valueCounts(pair));
  const perValue = shares.categories === null ? null : { keys: shares.categories, reference: shares.reference };
  if (test === 'jensenshannon') {
    const distance = jensenShannonDistance(shares.reference, shares.current, jsBase);
    return { statistic: distance, score: distance, perValue, noiseFloor: jensenShannonNoiseFloor(shares.reference, rows.current, rows.reference, jsBase) };
  }
  const distance =
    test === 'psi'
      ? populationStabilityIndex(fillEmptyShares(shares.reference), fillEmptyShares(shares.current))
      : klDivergence(fillEmptyShares(shares.reference), fillEmptyShares(shares.current));
  return { statistic: distance, score: distance, perValue };
}

function valueCounts(pair: ColumnPair): ValueCounts<string> {
  if (pair.kind === 'categorical') return countCategories(pair.reference, pair.current);
  const counts = countNumbers(pair.reference.values, pair.current.values);
  return { ...counts, keys: counts.keys.map(String) };
}

function unseenIn(perValue: PerValue): string[] {
  return perValue.keys.filter((_, i) => (perValue.reference[i] ?? 0) === 0);
}

function total(counts: Float64Array): number {
  let sum = 0;
  for (const count of counts) sum += count;
  return sum;
}

const nothing = { statistic: null, pValue: null, distance: null, noiseFloor: null, drifted: null } as const;

function undecided(
  column: string,
  kind: ColumnKind | null,
  counts: ColumnCounts,
  test: DriftTestName | null,
  threshold: number | null,
  reason: string,
): UndecidedColumnDrift {
  return { column, kind, counts, unseenCategories: [], unseenCategoryCount: 0, ...nothing, decided: false, test, threshold, reason };
}

function noUsableValues(side: 'reference' | 'current', counts: SideCounts): string {
  if (counts.rows === 0) return `The ${side} data has no rows for this column.`;
  const parts = [
    counts.missing > 0 ? `${counts.missing} null` : null,
    counts.nan > 0 ? `${counts.nan} NaN` : null,
    counts.infinite > 0 ? `${counts.infinite} infinite` : null,
  ].filter((part) => part !== null);
  return `No usable ${side} values: all ${counts.rows} are null, NaN or infinite (${parts.join(', ')}).`;
}

function describe(kind: ColumnKind): string {
  return kind === 'numeric' ? 'numbers' : 'strings';
}
