/**
 * Drift monitoring: does current data still look like the reference data a model was trained on?
 *
 * The tests are scipy's, computed to scipy's precision (test/fixtures/drift holds the cross-check),
 * and the choice between them is Evidently's: with at most 1,000 reference rows, Kolmogorov-Smirnov
 * for numeric columns with more than 5 distinct values, the z-test for two-valued columns and
 * chi-square for the rest, drifting when p < 0.05; with more, the Wasserstein distance normed by
 * the reference's standard deviation for numeric columns and Jensen-Shannon for the rest, drifting
 * when the distance is at least 0.1. A dataset drifts when at least half of its decided columns do.
 * Every choice and threshold can be overridden per column. Jensen-Shannon uses base 2, as Evidently
 * does (scipy's default is the natural logarithm, distances smaller by sqrt(ln 2); set `jsBase` to
 * change it). PSI and KL divergence are
 * available on request; their binning is Evidently's (histogram.ts says how, and how empty bins
 * are filled).
 *
 * Nothing is dropped quietly: null, NaN and infinite values are counted and left out, categories
 * the reference never had are listed, and a column that is missing, empty or too short is reported
 * undecided with its reason rather than guessed.
 *
 * @example
 * import { detectDatasetDrift } from './monitoring/index.js';
 *
 * const report = detectDatasetDrift(
 *   { delay: referenceDelays, carrier: referenceCarriers },
 *   { delay: currentDelays, carrier: currentCarriers },
 *   { columns: { delay: { test: 'psi', threshold: 0.2 } } },
 * );
 * if (report.datasetDrift) console.log(report.columns.filter((c) => c.drifted).map((c) => c.column));
 */
export type { ColumnKind, ColumnValues, SideCounts } from './columns.js';
export type {
  ColumnCounts,
  ColumnDriftResult,
  DatasetDriftResult,
  DecidedColumnDrift,
  UndecidedColumnDrift,
} from './drift.js';
export type { BinnedShares } from './histogram.js';
export type { KsResult } from './ks.js';
export type { ColumnDriftOptions, ColumnOptions, DatasetDriftOptions, DriftTestName, ScoreKind } from './options.js';
export type { CategoricalReference, ColumnReference, NumericReference, ReferenceProfile } from './reference.js';
export type { NumericSample } from './sample.js';
export type { ChiSquareResult, Proportion, ZTestResult } from './tests.js';

export { detectColumnDrift, detectDatasetDrift, MAX_LISTED_UNSEEN_CATEGORIES } from './drift.js';
export { categoryShares, fillEmptyShares, numericShares } from './histogram.js';
export { KS_EXACT_MAX_SIZE, ksTwoSample } from './ks.js';
export { profileColumn, profileColumns } from './profile.js';
// A tabular model's drift reference: its training rows' features and its validation predictions.
export { profileOnTabular, profileTabularReference, tabularProfileTask, type ProfileOptions, type TabularReference } from './tabular-reference.js';
export { isColumnReference, parseReferenceProfile, REFERENCE_MAX_CATEGORIES, REFERENCE_QUANTILE_POINTS } from './reference.js';
export { DRIFT_DEFAULTS, DRIFT_TESTS } from './options.js';
export {
  chiSquareFromCounts,
  chiSquareTest,
  jensenShannonDistance,
  jensenShannonNoiseFloor,
  klDivergence,
  normedWasserstein,
  populationStabilityIndex,
  proportionsZTest,
  wassersteinDistance,
} from './tests.js';
