/**
 * Frequency vectors for the distance tests (Jensen-Shannon, PSI, KL), binned the way Evidently's
 * get_binned_data bins them, so that a threshold tuned on Evidently means the same here:
 *
 * - A numeric column whose reference has more than 20 distinct values gets equal-width bins over
 *   the range of reference and current together, as many as Sturges' rule gives for their combined
 *   size (numpy's histogram_bin_edges(concat, bins="sturges")): ceil(log2(n) + 1) bins. Evidently's
 *   docstring speaks of reference quantiles, but its code does this, and the code is what we match.
 * - Any other column (categorical, or numeric with at most 20 distinct reference values) gets one
 *   bin per value seen in either sample.
 *
 * Shares are counts over the number of usable values. PSI and KL divide by shares, so before them
 * every empty bin is given a small share (fillEmptyShares); Jensen-Shannon needs no such filler.
 */
import { ValidationError } from '../errors.js';
import { finiteCopy, type NumericSample } from './sample.js';

/** Above this many distinct reference values a numeric column is binned rather than counted per value. */
export const MAX_VALUES_COUNTED_PER_VALUE = 20;

export interface BinnedShares {
  reference: Float64Array;
  current: Float64Array;
  /** Bin edges when the values were binned, numpy-style: [e0, e1) ... [e(k-1), ek]. */
  edges: Float64Array | null;
  /** The value behind each share when values were counted one by one, in ascending order. */
  categories: string[] | null;
}

/** Aligned counts of every distinct value of two samples, values in ascending order. */
export interface ValueCounts<K> {
  keys: K[];
  reference: Float64Array;
  current: Float64Array;
}

/** Shares per bin of two numeric samples, binned as Evidently bins them. */
export function numericShares(reference: NumericSample, current: NumericSample): BinnedShares {
  return sharesOfNumbers(finiteCopy(reference, 'numericShares: the reference sample'), finiteCopy(current, 'numericShares: the current sample'));
}

/** Shares per category of two categorical samples. */
export function categoryShares(reference: readonly string[], current: readonly string[]): BinnedShares {
  if (reference.length === 0 || current.length === 0) {
    throw new ValidationError(`categoryShares: the ${reference.length === 0 ? 'reference' : 'current'} sample is empty.`);
  }
  return sharesOfCounts(countCategories(tally(reference), tally(current)));
}

/** Shares of finite, non-empty samples, in any order: binning needs no sort. */
export function sharesOfNumbers(reference: Float64Array, current: Float64Array): BinnedShares {
  if (distinctUpTo(MAX_VALUES_COUNTED_PER_VALUE, reference) > MAX_VALUES_COUNTED_PER_VALUE) {
    const edges = sturgesEdges(reference, current);
    return {
      reference: divide(histogram(reference, edges), reference.length),
      current: divide(histogram(current, edges), current.length),
      edges,
      categories: null,
    };
  }
  const counts = countNumbers(reference, current);
  return sharesOfCounts({ ...counts, keys: counts.keys.map(String) });
}

export function sharesOfCounts(counts: ValueCounts<string>): BinnedShares {
  return {
    reference: divide(counts.reference, total(counts.reference)),
    current: divide(counts.current, total(counts.current)),
    edges: null,
    categories: counts.keys,
  };
}

/**
 * Evidently's filler for empty bins: a millionth of the smallest non-empty share when that share is
 * at most 1e-4, otherwise 1e-4. It keeps log(reference/current) finite while one unseen category
 * adds a large but finite amount to PSI and KL.
 */
export function fillEmptyShares(shares: Float64Array): Float64Array {
  let smallest = Number.POSITIVE_INFINITY;
  for (const share of shares) if (share !== 0 && share < smallest) smallest = share;
  const filler = smallest <= 1e-4 ? smallest / 1e6 : 1e-4;
  return shares.map((share) => (share === 0 ? filler : share));
}

/** numpy.histogram_bin_edges(concat(reference, current), bins='sturges'). */
function sturgesEdges(reference: Float64Array, current: Float64Array): Float64Array {
  const range = Float64Array.of(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  extendRange(reference, range);
  extendRange(current, range);
  const first = range[0] as number;
  const last = range[1] as number;
  const width = (last - first) / (Math.log2(reference.length + current.length) + 1);
  const bins = Math.ceil((last - first) / width);
  // numpy.linspace: i * step + first, with the last edge set to `last` exactly.
  const step = (last - first) / bins;
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i < bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return edges;
}

/** Widens [range[0], range[1]] to the sample's minimum and maximum, two values at a time (3 comparisons per pair, not 4). */
function extendRange(values: Float64Array, range: Float64Array): void {
  let low = range[0] as number;
  let high = range[1] as number;
  const n = values.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a = values[i] as number;
    const b = values[i + 1] as number;
    let small = a;
    let large = b;
    if (b < a) {
      small = b;
      large = a;
    }
    if (small < low) low = small;
    if (large > high) high = large;
  }
  if (i < n) {
    const a = values[i] as number;
    if (a < low) low = a;
    if (a > high) high = a;
  }
  range[0] = low;
  range[1] = high;
}

/**
 * numpy.histogram(values, edges) counts: value v falls in bin i when e_i <= v < e_(i+1), the last bin
 * also taking v = e_k. The index is computed from the equal width and then checked against the
 * edges themselves, so rounding in the division cannot put a value in the neighbouring bin.
 */
function histogram(values: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const first = edges[0] ?? 0;
  const perUnit = bins / ((edges[bins] ?? 0) - first);
  const last = bins - 1;
  const counts = new Uint32Array(bins);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    // Every value is at least the first edge, so truncation is the floor.
    let bin = ((value - first) * perUnit) | 0;
    if (bin > last) bin = last;
    while (bin > 0 && value < (edges[bin] as number)) bin--;
    while (bin < last && value >= (edges[bin + 1] as number)) bin++;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return Float64Array.from(counts);
}

/**
 * The number of distinct values in the samples together, counted only as far as limit + 1: the
 * rules ask "more than 2, 5 or 20?", and for continuous data the answer comes after a few values
 * instead of a sort or a hash of a million.
 */
export function distinctUpTo(limit: number, ...samples: Float64Array[]): number {
  const seen = new Float64Array(limit);
  let distinct = 0;
  for (const sample of samples) {
    for (let i = 0; i < sample.length; i++) {
      const value = sample[i] ?? 0;
      let known = false;
      for (let k = 0; k < distinct; k++) {
        if (seen[k] === value) {
          known = true;
          break;
        }
      }
      if (known) continue;
      if (distinct === limit) return limit + 1;
      seen[distinct++] = value;
    }
  }
  return distinct;
}

/** Counts of every distinct value of two numeric samples, values in ascending order. */
export function countNumbers(reference: Float64Array, current: Float64Array): ValueCounts<number> {
  const referenceCounts = tally(reference);
  const currentCounts = tally(current);
  const keys = [...new Set([...referenceCounts.keys(), ...currentCounts.keys()])].sort((a, b) => a - b);
  return {
    keys,
    reference: Float64Array.from(keys, (key) => referenceCounts.get(key) ?? 0),
    current: Float64Array.from(keys, (key) => currentCounts.get(key) ?? 0),
  };
}

export function tally<K>(values: Iterable<K>): Map<K, number> {
  const counts = new Map<K, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** Aligned counts of the categories of either sample, categories in ascending order. */
export function countCategories(reference: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): ValueCounts<string> {
  const keys = [...new Set([...reference.keys(), ...current.keys()])].sort();
  return {
    keys,
    reference: Float64Array.from(keys, (key) => reference.get(key) ?? 0),
    current: Float64Array.from(keys, (key) => current.get(key) ?? 0),
  };
}

function total(counts: Float64Array): number {
  let sum = 0;
  for (const count of counts) sum += count;
  return sum;
}

function divide(counts: Float64Array, by: number): Float64Array {
  return counts.map((count) => count / by);
}
