/**
 * The drift tests by name, Evidently's defaults, the options that override them per column, and the
 * checks that turn a bad option into a ValidationError naming the column and the value.
 */
import { ValidationError } from '../errors.js';
import type { ColumnKind } from './columns.js';

export const DRIFT_TESTS = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi', 'kl_div'] as const;
export type DriftTestName = (typeof DRIFT_TESTS)[number];

/** Whether a test's score is a p-value (drift when below the threshold) or a distance (drift at or above it). */
export type ScoreKind = 'p_value' | 'distance';

interface TestSpec {
  score: ScoreKind;
  /** Needs numbers: it compares distribution functions, not category frequencies. */
  numericOnly: boolean;
}

export const TEST_SPECS: Readonly<Record<DriftTestName, TestSpec>> = {
  ks: { score: 'p_value', numericOnly: true },
  chisquare: { score: 'p_value', numericOnly: false },
  z: { score: 'p_value', numericOnly: false },
  wasserstein: { score: 'distance', numericOnly: true },
  jensenshannon: { score: 'distance', numericOnly: false },
  psi: { score: 'distance', numericOnly: false },
  kl_div: { score: 'distance', numericOnly: false },
};

export const DRIFT_DEFAULTS = {
  /** References up to this many usable rows get statistical tests; larger ones get distances. */
  smallReferenceRows: 1000,
  /** Up to this many distinct values (reference and current together) a numeric column is tested like a categorical one. */
  fewValues: 5,
  pValueThreshold: 0.05,
  distanceThreshold: 0.1,
  /**
   * Fewer usable rows than this on either side and no decision is made. Evidently has no floor; below
   * about 30 the chi-square and z approximations fail and a histogram distance is mostly noise.
   */
  minRows: 30,
  /** Evidently passes base 2 to scipy's jensenshannon; its 0.1 threshold is calibrated to that. */
  jsBase: 2,
  /** The dataset drifts when at least this share of the decided columns drift. */
  driftShare: 0.5,
} as const;

/** Overrides for one column; anything left out follows Evidently's rule. */
export interface ColumnOptions {
  test?: DriftTestName;
  /** A p-value in (0, 1] for ks, chisquare and z; a positive distance for the others. */
  threshold?: number;
  minRows?: number;
  /** Logarithm base of the Jensen-Shannon distance: 2 unless given, as Evidently computes it, so the 0.1 threshold means what it means there. */
  jsBase?: number;
  /**
   * The column follows the calendar (a month, a season), so it differs from a reference taken at
   * another time of year whatever the world does. It is still tested and its verdict reported, but it
   * is left out of the dataset-drift share, so it cannot make the dataset drift on its own.
   */
  seasonal?: boolean;
  /**
   * For Jensen-Shannon: drift only when the distance also exceeds its noise floor, the distance 99 in
   * 100 same-distribution windows of this size stay below. Off unless given, as Evidently decides;
   * the floor is reported either way.
   */
  aboveNoise?: boolean;
}

export interface ColumnDriftOptions extends ColumnOptions {
  /** The column's name, for results and messages. */
  column?: string;
}

export interface DatasetDriftOptions {
  /** For every column without its own. */
  minRows?: number;
  jsBase?: number;
  /** Share of decided columns that must drift for the dataset to drift; 0.5 unless given. */
  driftShare?: number;
  /** For every column without its own: drift only above the noise floor (Jensen-Shannon). */
  aboveNoise?: boolean;
  /** Per-column overrides, by column name. */
  columns?: Readonly<Record<string, ColumnOptions>>;
}

/**
 * Evidently's default rule. With at most 1,000 reference rows: Kolmogorov-Smirnov for numeric
 * columns with more than 5 distinct values, the z-test for columns with at most 2, chi-square for the
 * rest. Above 1,000: the normed Wasserstein distance for numeric columns with more than 5 distinct
 * values, Jensen-Shannon for the rest. Distinct values are counted over reference and current.
 */
export function defaultTest(kind: ColumnKind, referenceRows: number, distinctValues: number): DriftTestName {
  const manyValues = kind === 'numeric' && distinctValues > DRIFT_DEFAULTS.fewValues;
  if (referenceRows <= DRIFT_DEFAULTS.smallReferenceRows) {
    if (manyValues) return 'ks';
    return distinctValues > 2 ? 'chisquare' : 'z';
  }
  return manyValues ? 'wasserstein' : 'jensenshannon';
}

export function defaultThreshold(test: DriftTestName): number {
  return TEST_SPECS[test].score === 'p_value' ? DRIFT_DEFAULTS.pValueThreshold : DRIFT_DEFAULTS.distanceThreshold;
}

/** Checks what can be checked before seeing the data; `where` is '' or ' for column "x"'. */
export function checkColumnOptions(options: ColumnOptions, where: string): void {
  if (options.test !== undefined && !(DRIFT_TESTS as readonly string[]).includes(options.test)) {
    throw new ValidationError(`Unknown drift test "${options.test}"${where}. Known tests: ${DRIFT_TESTS.join(', ')}.`, {
      test: options.test,
    });
  }
  if (options.threshold !== undefined && !(Number.isFinite(options.threshold) && options.threshold > 0)) {
    throw new ValidationError(`Threshold${where} must be a positive number, got ${options.threshold}.`);
  }
  if (options.test !== undefined && options.threshold !== undefined) checkThreshold(options.test, options.threshold, where);
  if (options.seasonal !== undefined && typeof options.seasonal !== 'boolean') {
    throw new ValidationError(`seasonal${where} must be true or false, got ${JSON.stringify(options.seasonal)}.`);
  }
  checkShared(options, where);
}

export function checkDatasetOptions(options: DatasetDriftOptions): void {
  checkShared(options, '');
  const share = options.driftShare;
  if (share !== undefined && !(Number.isFinite(share) && share > 0 && share <= 1)) {
    throw new ValidationError(`driftShare must be a number greater than 0 and at most 1, got ${share}.`);
  }
  for (const [column, columnOptions] of Object.entries(options.columns ?? {})) {
    checkColumnOptions(columnOptions, forColumn(column));
  }
}

/** A p-value threshold above 1 would flag every column; known only once the test is. */
export function checkThreshold(test: DriftTestName, threshold: number, where: string): void {
  if (TEST_SPECS[test].score === 'p_value' && threshold > 1) {
    throw new ValidationError(`Threshold${where} is a p-value for the ${test} test and must be at most 1, got ${threshold}.`);
  }
}

export function forColumn(column: string): string {
  return ` for column "${column}"`;
}

function checkShared(options: { minRows?: number; jsBase?: number; aboveNoise?: boolean }, where: string): void {
  if (options.aboveNoise !== undefined && typeof options.aboveNoise !== 'boolean') {
    throw new ValidationError(`aboveNoise${where} must be true or false, got ${JSON.stringify(options.aboveNoise)}.`);
  }
  if (options.minRows !== undefined && !(Number.isInteger(options.minRows) && options.minRows >= 1)) {
    throw new ValidationError(`minRows${where} must be a whole number of at least 1, got ${options.minRows}.`);
  }
  const base = options.jsBase;
  if (base !== undefined && !(Number.isFinite(base) && base > 0 && base !== 1)) {
    throw new ValidationError(`jsBase${where} must be a positive number other than 1, got ${base}.`);
  }
}
