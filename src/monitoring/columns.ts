/**
 * A column's raw values, turned into what the tests take: numeric columns into one typed array of
 * their finite values (sorted once, when the first test that needs order asks), categorical columns
 * into counts per category. Values no test can use are counted on the way, never silently dropped.
 */
import { ValidationError } from '../errors.js';
import { isColumnReference, referenceValues, type ColumnReference } from './reference.js';
import { FiniteValues } from './sample.js';

/**
 * One column: numbers (a Float64Array, or an array allowing null) or strings (allowing null), or a
 * reference column's stored statistics (reference.ts) in place of its values.
 */
export type ColumnValues = Float64Array | readonly (number | null | undefined)[] | readonly (string | null | undefined)[] | ColumnReference;

export type ColumnKind = 'numeric' | 'categorical';

/** What happened to one side's values. */
export interface SideCounts {
  rows: number;
  /** Values the test used: finite numbers, or strings. */
  used: number;
  /** null or undefined. */
  missing: number;
  nan: number;
  /** +Infinity or -Infinity. */
  infinite: number;
}

export type PreparedColumn =
  | { kind: 'numeric'; values: FiniteValues; counts: SideCounts }
  | { kind: 'categorical'; categories: Map<string, number>; counts: SideCounts }
  /** No value says which kind: the column has no rows, or only null and undefined. */
  | { kind: null; counts: SideCounts };

export function prepareColumn(values: ColumnValues, column: string, side: 'reference' | 'current'): PreparedColumn {
  if (values instanceof Float64Array) return prepareFloat64(values);
  if (isColumnReference(values)) {
    const reference = referenceValues(values, column);
    return reference.kind === 'numeric'
      ? { kind: 'numeric', values: new FiniteValues(reference.values), counts: reference.counts }
      : { kind: 'categorical', categories: reference.categories, counts: reference.counts };
  }
  for (let i = 0; i < values.length; i++) {
    const value: unknown = values[i];
    if (value === null || value === undefined) continue;
    if (typeof value === 'number') return prepareNumeric(values, column, side);
    if (typeof value === 'string') return prepareCategorical(values, column, side);
    throw unusable(value, i, column, side);
  }
  return { kind: null, counts: { rows: values.length, used: 0, missing: values.length, nan: 0, infinite: 0 } };
}

/**
 * The typed-array case on its own, so that its loop stays monomorphic on a million rows. When every
 * value is finite (the usual case) nothing is copied here: the tests that sort copy first.
 */
function prepareFloat64(values: Float64Array): PreparedColumn {
  let finiteCount = 0;
  let nan = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (value - value === 0) finiteCount++;
    else if (value !== value) nan++;
  }
  const counts: SideCounts = { rows: values.length, used: finiteCount, missing: 0, nan, infinite: values.length - finiteCount - nan };
  if (finiteCount === values.length) return { kind: 'numeric', values: new FiniteValues(values, false), counts };
  const finite = new Float64Array(finiteCount);
  let used = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (value - value === 0) finite[used++] = value;
  }
  return { kind: 'numeric', values: new FiniteValues(finite), counts };
}

function prepareNumeric(values: ArrayLike<unknown>, column: string, side: 'reference' | 'current'): PreparedColumn {
  const finite = new Float64Array(values.length);
  const counts: SideCounts = { rows: values.length, used: 0, missing: 0, nan: 0, infinite: 0 };
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === 'number') {
      if (Number.isFinite(value)) finite[counts.used++] = value;
      else if (Number.isNaN(value)) counts.nan++;
      else counts.infinite++;
    } else if (value === null || value === undefined) {
      counts.missing++;
    } else if (typeof value === 'string') {
      throw new ValidationError(`Column "${column}" mixes numbers and strings in the ${side} data (row ${i} is the string "${value}").`, {
        column,
        side,
        row: i,
      });
    } else {
      throw unusable(value, i, column, side);
    }
  }
  return { kind: 'numeric', values: new FiniteValues(finite.slice(0, counts.used)), counts };
}

function prepareCategorical(values: ArrayLike<unknown>, column: string, side: 'reference' | 'current'): PreparedColumn {
  const categories = new Map<string, number>();
  const counts: SideCounts = { rows: values.length, used: 0, missing: 0, nan: 0, infinite: 0 };
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === 'string') {
      categories.set(value, (categories.get(value) ?? 0) + 1);
      counts.used++;
    } else if (value === null || value === undefined) {
      counts.missing++;
    } else if (typeof value === 'number') {
      throw new ValidationError(`Column "${column}" mixes numbers and strings in the ${side} data (row ${i} is the number ${value}).`, {
        column,
        side,
        row: i,
      });
    } else {
      throw unusable(value, i, column, side);
    }
  }
  return { kind: 'categorical', categories, counts };
}

function unusable(value: unknown, row: number, column: string, side: string): ValidationError {
  return new ValidationError(
    `Column "${column}" has a ${typeof value} at row ${row} of the ${side} data; drift tests take numbers, strings, null or undefined.`,
    { column, side, row },
  );
}
