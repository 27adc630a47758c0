import { describe, expect, it } from 'vitest';
import { sortFloat64 } from '../../../src/monitoring/sample.js';

// The radix sort decides every KS and Wasserstein result on large columns, so it must order
// exactly as the comparison sort does, down to where -0 goes.
describe('sortFloat64', () => {
  it('orders a large sample as TypedArray.prototype.sort does, signed zeros, subnormals and extremes included', () => {
    const specials = [0, -0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1, -1];
    let state = 12345;
    const values = Float64Array.from({ length: 50_000 }, (_, i) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return specials[i % 97] ?? ((state / 2 ** 32 - 0.5) * 10 ** ((state % 41) - 20));
    });
    const expected = values.slice().sort();
    const sorted = sortFloat64(values.slice());
    expect(sorted.every((value, i) => Object.is(value, expected[i]))).toBe(true);
  });

  it('sorts values that share their leading bits, where whole digit passes are skipped', () => {
    const values = Float64Array.from({ length: 10_000 }, (_, i) => 1000 + ((i * 7919) % 10_000) * 1e-9);
    expect([...sortFloat64(values.slice())]).toEqual([...values.slice().sort()]);
  });

  it('leaves sorted input as it is, and still sorts input that is sorted but for a signed zero or its last value', () => {
    const sorted = Float64Array.from({ length: 20_000 }, (_, i) => 978307200000 + i * 1000);
    expect(sortFloat64(sorted.slice())).toEqual(sorted);
    const zeros = Float64Array.from([...Array.from({ length: 5_000 }, (_, i) => -5_000 + i), 0, -0, 0, 1]);
    expect([...sortFloat64(zeros.slice())].map((v) => Object.is(v, -0))).toEqual([...zeros.slice().sort()].map((v) => Object.is(v, -0)));
    const lastOut = Float64Array.from([...sorted.subarray(0, 9_999), -1]);
    expect([...sortFloat64(lastOut.slice())]).toEqual([...lastOut.slice().sort()]);
  });
});
