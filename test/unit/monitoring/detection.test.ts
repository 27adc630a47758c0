import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import {
  chiSquareTest,
  detectColumnDrift,
  detectDatasetDrift,
  jensenShannonDistance,
  ksTwoSample,
  populationStabilityIndex,
  proportionsZTest,
  type DriftTestName,
} from '../../../src/monitoring/index.js';

/** Seeded uniform numbers (mulberry32), so every test sees the same data on every run. */
function uniforms(n: number, seed: number): Float64Array {
  let state = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

function normals(n: number, seed: number, mean = 0): Float64Array {
  const u = uniforms(2 * n, seed);
  return Float64Array.from({ length: n }, (_, i) => mean + Math.sqrt(-2 * Math.log(1 - (u[2 * i] ?? 0))) * Math.cos(2 * Math.PI * (u[2 * i + 1] ?? 0)));
}

function integers(n: number, seed: number, values: number): number[] {
  return Array.from(uniforms(n, seed), (u) => Math.floor(u * values));
}

function labels(n: number, seed: number, names: readonly string[], weights?: readonly number[]): string[] {
  const w = weights ?? names.map(() => 1 / names.length);
  return Array.from(uniforms(n, seed), (u) => {
    let acc = 0;
    for (let i = 0; i < names.length; i++) {
      acc += w[i] ?? 0;
      if (u < acc) return names[i] ?? '';
    }
    return names[names.length - 1] ?? '';
  });
}

describe('the default choice of test (Evidently’s rule)', () => {
  it('uses Kolmogorov-Smirnov at p < 0.05 for a numeric column with more than 5 values and at most 1,000 reference rows', () => {
    const drifted = detectColumnDrift(normals(1000, 1), normals(800, 2, 0.3), { column: 'delay' });
    expect(drifted).toMatchObject({ column: 'delay', kind: 'numeric', decided: true, test: 'ks', threshold: 0.05, drifted: true, distance: null });
    expect(drifted.pValue).toBeLessThan(0.05);
    const steady = detectColumnDrift(normals(1000, 1), normals(800, 3), { column: 'delay' });
    expect(steady).toMatchObject({ test: 'ks', drifted: false });
    expect(steady.pValue).toBeGreaterThanOrEqual(0.05);
  });

  it('uses chi-square for a numeric column with 3 to 5 values, the z-test for 2', () => {
    expect(detectColumnDrift(integers(500, 1, 4), integers(500, 2, 4)).test).toBe('chisquare');
    expect(detectColumnDrift(integers(500, 1, 2), integers(500, 2, 2)).test).toBe('z');
  });

  it('counts distinct values over reference and current together', () => {
    const result = detectColumnDrift(integers(500, 1, 5), integers(500, 2, 6));
    expect(result.counts.distinctValues).toBe(6);
    expect(result.test).toBe('ks');
  });

  it('uses chi-square for categorical columns with more than 2 values and the z-test for yes/no', () => {
    expect(detectColumnDrift(labels(300, 1, ['a', 'b', 'c']), labels(300, 2, ['a', 'b', 'c'])).test).toBe('chisquare');
    expect(detectColumnDrift(labels(300, 1, ['yes', 'no']), labels(300, 2, ['yes', 'no']))).toMatchObject({ test: 'z', threshold: 0.05 });
  });

  it('switches to distances at 0.1 above 1,000 usable reference rows: Wasserstein for numeric, Jensen-Shannon otherwise', () => {
    expect(detectColumnDrift(normals(1000, 1), normals(1000, 2)).test).toBe('ks');
    const numeric = detectColumnDrift(normals(1001, 1), normals(1000, 2, 0.5));
    expect(numeric).toMatchObject({ test: 'wasserstein', threshold: 0.1, pValue: null, drifted: true });
    expect(numeric.distance).toBe(numeric.statistic);
    expect(detectColumnDrift(integers(2000, 1, 5), integers(2000, 2, 5)).test).toBe('jensenshannon');
    expect(detectColumnDrift(labels(2000, 1, ['a', 'b', 'c']), labels(2000, 2, ['a', 'b', 'c'])).test).toBe('jensenshannon');
  });

  it('counts only usable rows towards the 1,000', () => {
    const reference = [...normals(1000, 1), Number.NaN];
    expect(detectColumnDrift(reference, normals(1000, 2)).test).toBe('ks');
  });
});

describe('overrides', () => {
  it('runs the test a column names, with that test’s default threshold', () => {
    const result = detectColumnDrift(normals(500, 1), normals(500, 2, 1), { test: 'psi' });
    expect(result).toMatchObject({ test: 'psi', threshold: 0.1, pValue: null, drifted: true });
  });

  it('decides against the threshold a column gives', () => {
    const reference = normals(400, 5);
    const current = normals(400, 6, 0.15);
    const p = detectColumnDrift(reference, current).pValue ?? Number.NaN;
    expect(detectColumnDrift(reference, current, { threshold: p * 2 }).drifted).toBe(true);
    expect(detectColumnDrift(reference, current, { threshold: p / 2 }).drifted).toBe(false);
  });

  it('gives the Jensen-Shannon distance in base 2 by default, as Evidently does, larger than the natural-log one by 1/sqrt(ln 2)', () => {
    const [reference, current] = [labels(2000, 1, ['a', 'b', 'c']), labels(2000, 2, ['a', 'b', 'c'], [0.5, 0.3, 0.2])];
    const natural = detectColumnDrift(reference, current, { jsBase: Math.E }).distance ?? Number.NaN;
    const base2 = detectColumnDrift(reference, current).distance ?? Number.NaN;
    expect(base2).toBeCloseTo(natural / Math.sqrt(Math.LN2), 12);
  });

  it('applies per-column options over dataset-wide ones', () => {
    const report = detectDatasetDrift(
      { a: normals(20, 1), b: normals(20, 2) },
      { a: normals(20, 3, 3), b: normals(20, 4, 3) },
      { minRows: 25, columns: { b: { minRows: 10, test: 'wasserstein', threshold: 2 } } },
    );
    expect(report.columns.map((c) => [c.column, c.decided, c.test, c.threshold])).toEqual([
      ['a', false, null, null],
      ['b', true, 'wasserstein', 2],
    ]);
  });

  it('calls the dataset drifted when at least the drift share of decided columns drift', () => {
    const reference = { a: normals(500, 1), b: normals(500, 2), c: normals(500, 3), d: normals(500, 4) };
    const current = { a: normals(500, 5, 1), b: normals(500, 6, 1), c: normals(500, 7), d: normals(500, 8) };
    const report = detectDatasetDrift(reference, current);
    expect(report).toMatchObject({ decidedColumns: 4, driftedColumns: 2, share: 0.5, shareThreshold: 0.5, datasetDrift: true, reason: null });
    expect(detectDatasetDrift(reference, current, { driftShare: 0.75 }).datasetDrift).toBe(false);
  });

  it('reports the Jensen-Shannon noise floor: a same-distribution window of 2,000 rows over 200 categories exceeds 0.1 by chance alone', () => {
    const names = Array.from({ length: 200 }, (_, i) => `A${i}`);
    const weights = names.map((_, i) => 1 / (i + 1));
    const sum = weights.reduce((a, b) => a + b, 0);
    const shares = weights.map((w) => w / sum);
    const reference = labels(200_000, 1, names, shares);
    // Twenty windows drawn from the reference's own distribution: Evidently's rule calls nearly all drifted.
    const same = Array.from({ length: 20 }, (_, k) => detectColumnDrift(reference, labels(2_000, 100 + k, names, shares), { column: 'origin' }));
    expect(same.filter((r) => r.drifted).length).toBeGreaterThanOrEqual(18);
    for (const r of same) {
      expect(r.noiseFloor).toBeGreaterThan(0.1);
      // The floor is the 99th percentile under no drift: at most one of twenty may exceed it.
    }
    expect(same.filter((r) => (r.distance ?? 0) > (r.noiseFloor ?? 0)).length).toBeLessThanOrEqual(1);
    const quiet = same.map((_, k) => detectColumnDrift(reference, labels(2_000, 100 + k, names, shares), { column: 'origin', aboveNoise: true }));
    expect(quiet.filter((r) => r.drifted).length).toBeLessThanOrEqual(1);
    // A real shift (the ranking of the airports reversed) clears the floor and still drifts.
    const moved = detectColumnDrift(reference, labels(2_000, 7, names, [...shares].reverse()), { column: 'origin', aboveNoise: true });
    expect(moved).toMatchObject({ drifted: true });
    expect(moved.distance).toBeGreaterThan(2 * moved.noiseFloor!);
    // More rows, lower floor; other tests have none.
    const big = detectColumnDrift(reference, labels(50_000, 8, names, shares), { column: 'origin' });
    expect(big.noiseFloor).toBeLessThan(0.05);
    expect(big.drifted).toBe(false);
    expect(detectColumnDrift(normals(5_000, 1), normals(5_000, 2)).noiseFloor).toBeNull();
    expect(() => detectColumnDrift(reference, reference, { aboveNoise: 1 as unknown as boolean })).toThrow('aboveNoise for column "unnamed" must be true or false, got 1.');
  });

  it('tests and reports a seasonal column but leaves it out of the share, so it cannot make the dataset drift', () => {
    const reference = { month: normals(500, 1), a: normals(500, 2), b: normals(500, 3) };
    const current = { month: normals(500, 4, 5), a: normals(500, 5, 1), b: normals(500, 6) };
    // Counted, month and a make two of three: the dataset drifts.
    expect(detectDatasetDrift(reference, current)).toMatchObject({ seasonalColumns: [], decidedColumns: 3, driftedColumns: 2, datasetDrift: true });
    const report = detectDatasetDrift(reference, current, { driftShare: 0.6, columns: { month: { seasonal: true } } });
    expect(report).toMatchObject({ seasonalColumns: ['month'], decidedColumns: 2, driftedColumns: 1, share: 0.5, datasetDrift: false });
    expect(report.columns.find((c) => c.column === 'month')).toMatchObject({ decided: true, drifted: true });
    const onlySeasonal = detectDatasetDrift({ month: normals(500, 1) }, { month: normals(500, 4, 5) }, { columns: { month: { seasonal: true } } });
    expect(onlySeasonal).toMatchObject({ decidedColumns: 0, share: null, datasetDrift: null, reason: 'No non-seasonal column could be decided, so the dataset cannot be.' });
    expect(() => detectDatasetDrift(reference, current, { columns: { month: { seasonal: 'yes' as unknown as boolean } } })).toThrow(
      'seasonal for column "month" must be true or false, got "yes".',
    );
  });
});

describe('what a report says about values and columns it could not use', () => {
  it('counts null, NaN and infinite values, leaves them out and decides on the rest', () => {
    const reference = [...normals(100, 1), Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null];
    const current = Float64Array.from([...normals(100, 2), Number.NaN, Number.NaN]);
    const result = detectColumnDrift(reference, current);
    expect(result.decided).toBe(true);
    expect(result.counts.reference).toEqual({ rows: 104, used: 100, missing: 1, nan: 1, infinite: 2 });
    expect(result.counts.current).toEqual({ rows: 102, used: 100, missing: 0, nan: 2, infinite: 0 });
    expect(result.pValue).toBe(ksTwoSample(normals(100, 1), normals(100, 2)).pValue);
  });

  it('does not decide a column with no usable values, and says why', () => {
    const result = detectColumnDrift(normals(50, 1), [...Array<null>(30).fill(null), ...Array<number>(10).fill(Number.NaN)], { column: 'fare' });
    expect(result).toMatchObject({
      decided: false,
      drifted: null,
      kind: 'numeric',
      reason: 'No usable current values: all 40 are null, NaN or infinite (30 null, 10 NaN).',
    });
    expect(detectColumnDrift([null, null], ['a']).reason).toBe('No usable reference values: all 2 are null, NaN or infinite (2 null).');
    expect(detectColumnDrift([], ['a']).reason).toBe('The reference data has no rows for this column.');
  });

  it('reports columns missing from either side and leaves them out of the share', () => {
    const report = detectDatasetDrift({ price: normals(100, 1), city: labels(100, 2, ['x', 'y', 'z']) }, { price: normals(100, 3, 2), carrier: ['AA'] });
    expect(report.columns.map((c) => [c.column, c.decided, c.reason])).toEqual([
      ['price', true, null],
      ['city', false, 'The column is missing from the current data.'],
      ['carrier', false, 'The column is missing from the reference data.'],
    ]);
    expect(report.columns[1]?.counts).toEqual({ reference: { rows: 100, used: 100, missing: 0, nan: 0, infinite: 0 }, current: null, distinctValues: null });
    expect(report).toMatchObject({ decidedColumns: 1, driftedColumns: 1, share: 1, datasetDrift: true });
  });

  it('lists the categories the reference never had, the first 100 of them, and counts them all', () => {
    const reference = labels(500, 1, ['a', 'b', 'c']);
    const current = [...labels(500, 2, ['a', 'b', 'c']), 'd', 'e', 'd'];
    expect(detectColumnDrift(reference, current)).toMatchObject({ test: 'chisquare', unseenCategories: ['d', 'e'], unseenCategoryCount: 2, drifted: true });
    const many = [...labels(500, 2, ['a', 'b', 'c']), ...Array.from({ length: 150 }, (_, i) => `new-${String(i).padStart(3, '0')}`)];
    const result = detectColumnDrift(labels(2000, 1, ['a', 'b', 'c']), many);
    expect(result.test).toBe('jensenshannon');
    expect(result.unseenCategoryCount).toBe(150);
    expect(result.unseenCategories).toHaveLength(100);
    expect(result.unseenCategories[0]).toBe('new-000');
  });

  it('does not decide on too few rows, says how many it had, and decides once the minimum is lowered', () => {
    const result = detectColumnDrift(normals(12, 1), normals(800, 2));
    expect(result).toMatchObject({
      decided: false,
      reason: 'Too few rows to decide: 12 usable reference values and 800 current ones; at least 30 are needed on each side.',
    });
    expect(detectColumnDrift(normals(12, 1), normals(800, 2), { minRows: 10 }).decided).toBe(true);
  });

  it('does not decide when a chosen test cannot apply to the values found', () => {
    expect(detectColumnDrift(labels(100, 1, ['a', 'b', 'c']), labels(100, 2, ['a', 'b', 'c']), { test: 'z' }).reason).toBe(
      'The z-test compares the shares of two values; this column has 3.',
    );
    expect(detectColumnDrift(Array(40).fill('on'), Array(40).fill('on'), { test: 'chisquare' }).reason).toBe(
      'The chi-square test needs at least two distinct values; this column has 1.',
    );
  });

  it('calls a dataset with no decided column undecided', () => {
    expect(detectDatasetDrift({ a: [null] }, { a: [1] })).toMatchObject({
      decidedColumns: 0,
      share: null,
      datasetDrift: null,
      reason: 'No column could be decided, so the dataset cannot be.',
    });
  });

  it('compares two samples of one shared value as not drifted', () => {
    expect(detectColumnDrift(Array(40).fill('on'), Array(30).fill('on'))).toMatchObject({ test: 'z', statistic: 0, pValue: 1, drifted: false });
  });

  it('never reorders the caller’s typed arrays, with or without non-finite values, and counts NaN and infinities apart', () => {
    const reference = normals(5000, 3);
    const current = Float64Array.from([...normals(5000, 4, 0.2), Number.NaN, Number.NEGATIVE_INFINITY]);
    const [referenceCopy, currentCopy] = [reference.slice(), current.slice()];
    for (const test of ['ks', 'wasserstein', 'jensenshannon'] as const) {
      const result = detectColumnDrift(reference, current, { test });
      expect(result.decided).toBe(true);
      expect(result.counts.current).toEqual({ rows: 5002, used: 5000, missing: 0, nan: 1, infinite: 1 });
    }
    expect(reference).toEqual(referenceCopy);
    expect(current).toEqual(currentCopy);
    expect(detectColumnDrift(reference, current, { test: 'ks' }).pValue).toBe(ksTwoSample(reference, normals(5000, 4, 0.2)).pValue);
  });
});

describe('bad input', () => {
  const numbers = normals(50, 1);

  it.each<[string, () => unknown, string]>([
    ['an unknown test', () => detectColumnDrift(numbers, numbers, { column: 'price', test: 'anova' as DriftTestName }),
      'Unknown drift test "anova" for column "price". Known tests: ks, chisquare, z, wasserstein, jensenshannon, psi, kl_div.'],
    ['a threshold that is not positive', () => detectColumnDrift(numbers, numbers, { column: 'price', threshold: 0 }),
      'Threshold for column "price" must be a positive number, got 0.'],
    ['a p-value threshold above 1', () => detectColumnDrift(numbers, numbers, { column: 'price', test: 'ks', threshold: 1.5 }),
      'Threshold for column "price" is a p-value for the ks test and must be at most 1, got 1.5.'],
    ['a p-value threshold above 1 for the default test', () => detectColumnDrift(numbers, numbers, { column: 'price', threshold: 2 }),
      'Threshold for column "price" is a p-value for the ks test and must be at most 1, got 2.'],
    ['a fractional minRows', () => detectColumnDrift(numbers, numbers, { column: 'price', minRows: 2.5 }),
      'minRows for column "price" must be a whole number of at least 1, got 2.5.'],
    ['a logarithm base of 1', () => detectColumnDrift(numbers, numbers, { column: 'price', jsBase: 1 }),
      'jsBase for column "price" must be a positive number other than 1, got 1.'],
    ['a drift share of 0', () => detectDatasetDrift({ price: numbers }, { price: numbers }, { driftShare: 0 }),
      'driftShare must be a number greater than 0 and at most 1, got 0.'],
    ['a dataset-wide minRows of 0', () => detectDatasetDrift({ price: numbers }, { price: numbers }, { minRows: 0 }),
      'minRows must be a whole number of at least 1, got 0.'],
    ['options for a column in neither dataset', () => detectDatasetDrift({ price: numbers }, { price: numbers }, { columns: { pricee: { test: 'ks' } } }),
      'Options for column "pricee" name a column that is in neither dataset.'],
    ['a numeric test on strings', () => detectColumnDrift(['a', 'b'], ['a'], { column: 'carrier', test: 'ks', minRows: 1 }),
      'Test "ks" needs numbers, but column "carrier" holds strings.'],
    ['numbers on one side and strings on the other', () => detectColumnDrift(numbers, ['a'], { column: 'price' }),
      'Column "price" holds numbers in the reference data but strings in the current data.'],
    ['numbers and strings in one column', () => detectColumnDrift([1, 2, 'n/a'] as unknown as number[], numbers, { column: 'price' }),
      'Column "price" mixes numbers and strings in the reference data (row 2 is the string "n/a").'],
    ['a value that is neither number, string nor null', () => detectColumnDrift(['a'], [true] as unknown as string[], { column: 'flag' }),
      'Column "flag" has a boolean at row 0 of the current data; drift tests take numbers, strings, null or undefined.'],
    ['an empty sample', () => ksTwoSample([], [1]), 'ksTwoSample: the reference sample is empty.'],
    ['NaN passed straight to a test', () => ksTwoSample([1, 2], [1, Number.NaN]),
      'ksTwoSample: the current sample has NaN at index 1; the tests take finite numbers only (detectColumnDrift counts and drops the others).'],
    ['frequencies whose totals differ', () => chiSquareTest([10, 10], [5, 5]),
      'chiSquareTest: observed frequencies sum to 20 but expected ones to 10; they must agree to a relative 1e-8.'],
    ['a single category', () => chiSquareTest([10], [10]), 'chiSquareTest needs at least two categories, got 1.'],
    ['frequency vectors of different lengths', () => jensenShannonDistance([1, 2], [1, 2, 3]),
      'jensenShannonDistance: the two frequency vectors differ in length (2 and 3).'],
    ['a negative frequency', () => jensenShannonDistance([1, -2], [1, 2]),
      'jensenShannonDistance: frequencies must be finite and non-negative; the first vector has -2 at index 1.'],
    ['an empty bin in PSI', () => populationStabilityIndex([0.5, 0.5], [1, 0]),
      'populationStabilityIndex needs positive shares, but the current share of bin 1 is 0; fill empty bins first (fillEmptyShares).'],
    ['more successes than trials', () => proportionsZTest({ successes: 5, total: 4 }, { successes: 1, total: 4 }),
      'proportionsZTest: the reference proportion must be whole successes out of a positive total, got 5 of 4.'],
  ])('refuses %s with a ValidationError saying so', (_case, call, message) => {
    expect(call).toThrow(ValidationError);
    expect(call).toThrow(message);
  });
});
