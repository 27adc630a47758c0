/**
 * The numeric samples the pure test functions take, and the one sort they share. The tests want
 * clean input: the drift detector (drift.ts) counts and removes missing and non-finite values before
 * it calls them, so a NaN reaching a test is a caller's mistake and is refused rather than sorted
 * somewhere arbitrary.
 */
import { ValidationError } from '../errors.js';

export type NumericSample = Float64Array | readonly number[];

/** A sorted copy of a non-empty sample of finite numbers. */
export function sortedFinite(values: NumericSample, what: string): Float64Array {
  return sortFloat64(finiteCopy(values, what));
}

/** A copy of a non-empty sample of finite numbers, in the order given. */
export function finiteCopy(values: NumericSample, what: string): Float64Array {
  if (values.length === 0) throw new ValidationError(`${what} is empty.`);
  const copy = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value: unknown = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValidationError(
        `${what} has ${String(value)} at index ${i}; the tests take finite numbers only (detectColumnDrift counts and drops the others).`,
      );
    }
    copy[i] = value;
  }
  return copy;
}

/**
 * One side's finite values, sorted in place the first time a test asks: only some tests need order.
 * Values the caller still owns (`owned` false) are copied before that sort, never reordered.
 */
export class FiniteValues {
  private isSorted = false;

  constructor(
    private data: Float64Array,
    private owned = true,
  ) {}

  get values(): Float64Array {
    return this.data;
  }

  sorted(): Float64Array {
    if (!this.isSorted) {
      if (!this.owned) {
        this.data = this.data.slice();
        this.owned = true;
      }
      sortFloat64(this.data);
      this.isSorted = true;
    }
    return this.data;
  }
}

// Below this size the 65,536-entry digit counts cost more than the comparison sort they replace.
const RADIX_MIN_SIZE = 4096;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Sorts finite doubles ascending, in place. Sorting dominates every test on large columns, and a
 * least-significant-digit radix sort over the bit patterns (four 16-bit digits) runs several times
 * faster than TypedArray.prototype.sort on a million values. It reads each double as two 32-bit
 * words, so on a big-endian machine it leaves the work to the comparison sort.
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  // Data in time order often arrives sorted (timestamps, counters): one pass that stops at the first
  // descent, counting +0 before -0 as one (the comparison sort puts -0 first).
  let ascending = 1;
  for (; ascending < n; ascending++) {
    const previous = values[ascending - 1] as number;
    const value = values[ascending] as number;
    if (previous > value || (previous === value && previous === 0 && 1 / previous > 1 / value)) break;
  }
  if (ascending >= n) return values;
  if (n < RADIX_MIN_SIZE || !LITTLE_ENDIAN) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  // Unsigned keys that order as the doubles do: negatives have every bit flipped, the rest the sign bit.
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = words[i + 1] ?? 0;
    if (hi >>> 31 === 1) {
      words[i] = ~(words[i] ?? 0);
      words[i + 1] = ~hi;
    } else {
      words[i + 1] = hi | 0x80000000;
    }
  }
  let source: Uint32Array = words;
  let target: Uint32Array = new Uint32Array(2 * n);
  const offsets = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    offsets.fill(0);
    for (let i = word; i < 2 * n; i += 2) {
      const digit = ((source[i] ?? 0) >>> shift) & 0xffff;
      offsets[digit] = (offsets[digit] ?? 0) + 1;
    }
    // A digit shared by every key (the top bits of a narrow range) would only copy.
    if (offsets.includes(n)) continue;
    let start = 0;
    for (let d = 0; d < 65536; d++) {
      const count = offsets[d] ?? 0;
      offsets[d] = start;
      start += count;
    }
    for (let i = 0; i < 2 * n; i += 2) {
      const digit = ((source[i + word] ?? 0) >>> shift) & 0xffff;
      const at = 2 * (offsets[digit] ?? 0);
      offsets[digit] = (offsets[digit] ?? 0) + 1;
      target[at] = source[i] ?? 0;
      target[at + 1] = source[i + 1] ?? 0;
    }
    [source, target] = [target, source];
  }
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = source[i + 1] ?? 0;
    if (hi >>> 31 === 1) {
      words[i] = source[i] ?? 0;
      words[i + 1] = hi & 0x7fffffff;
    } else {
      words[i] = ~(source[i] ?? 0);
      words[i + 1] = ~hi;
    }
  }
  return values;
}
