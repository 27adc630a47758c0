import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kolmogorovSf } from '../../../src/monitoring/kolmogorov.js';
import {
  categoryShares,
  chiSquareFromCounts,
  detectColumnDrift,
  fillEmptyShares,
  jensenShannonDistance,
  jensenShannonNoiseFloor,
  klDivergence,
  ksTwoSample,
  normedWasserstein,
  numericShares,
  populationStabilityIndex,
  proportionsZTest,
  wassersteinDistance,
} from '../../../src/monitoring/index.js';

// Steward against scipy 1.10.1 on the inputs and outputs of test/fixtures/drift/make_reference.py.
// Everything agrees to a relative 1e-9, most of it to a few ulps; see TOLERANCE.

interface Fixture {
  scipy: string;
  ksSamples: Record<string, number[]>;
  ks: { name: string; reference: string; current: string; statistic: number; pvalue: number; method: 'exact' | 'asymp' }[];
  kstwo: { n: number; d: number; sf: number }[];
  chisquare: { name: string; reference: string[]; current: string[]; categories: string[]; statistic: number; pvalue: number }[];
  ztest: { name: string; reference: (string | number)[]; current: (string | number)[]; statistic: number; pvalue: number }[];
  wasserstein: { name: string; reference: number[]; current: number[]; distance: number; normed: number }[];
  binned: {
    name: string;
    numeric: boolean;
    reference: (number | string)[];
    current: (number | string)[];
    edges?: number[];
    categories?: (number | string)[];
    referencePercents: number[];
    currentPercents: number[];
    jensenshannon: number;
    jensenshannonBase2: number;
    psi: number;
    klDiv: number;
  }[];
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/drift/reference.json', import.meta.url), 'utf8'), (_key, value: unknown) =>
  value === 'Infinity' ? Number.POSITIVE_INFINITY : value,
) as Fixture;

// Relative, because p-values run down to 1e-300 and an absolute 1e-9 would accept any of them.
// The loosest agreement in the fixture is about 1e-12 (kstwo computed as 1 - cdf with cdf near 1,
// which leaves scipy and Steward each 1e-16 absolute from the truth); 1e-9 is the bar asked for.
const TOLERANCE = 1e-9;

function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}

function expectClose(actual: number, expected: number): void {
  expect(relativeError(actual, expected), `${actual} vs scipy ${expected}`).toBeLessThanOrEqual(TOLERANCE);
}

function sample(name: string): number[] {
  const values = fixture.ksSamples[name];
  if (values === undefined) throw new Error(`fixture has no sample ${name}`);
  return values;
}

describe('reference fixture', () => {
  it('was produced by the scipy the tests were written against', () => {
    expect(fixture.scipy).toBe('1.10.1');
  });
});

describe('Kolmogorov-Smirnov matches scipy.stats.ks_2samp', () => {
  it.each(fixture.ks)('$name', (c) => {
    const result = ksTwoSample(sample(c.reference), sample(c.current));
    expect(result.method).toBe(c.method);
    expectClose(result.statistic, c.statistic);
    expectClose(result.pValue, c.pvalue);
  });

  it('covers exact, asymptotic and the exact-to-asymptotic fallback', () => {
    expect(new Set(fixture.ks.map((c) => c.method))).toEqual(new Set(['exact', 'asymp']));
    expect(fixture.ks.some((c) => c.method === 'asymp' && Math.max(sample(c.reference).length, sample(c.current).length) <= 10_000)).toBe(true);
  });

  it('gives the detector the same p-value for a numeric column of at most 1,000 rows', () => {
    const c = fixture.ks.find((k) => k.name === '800 uniform vs 1000 normal');
    if (c === undefined) throw new Error('fixture case missing');
    const result = detectColumnDrift(sample(c.reference), sample(c.current));
    expect(result.test).toBe('ks');
    expectClose(result.pValue ?? Number.NaN, c.pvalue);
  });
});

describe('the one-sample KS distribution matches scipy.stats.kstwo.sf', () => {
  it('agrees at every (n, d) of the grid, across all of scipy’s methods', () => {
    const failures = fixture.kstwo
      .map((row) => ({ ...row, got: kolmogorovSf(row.n, row.d) }))
      .filter((row) => relativeError(row.got, row.sf) > TOLERANCE);
    expect(failures).toEqual([]);
    expect(fixture.kstwo.length).toBeGreaterThan(300);
  });
});

describe('chi-square matches scipy.stats.chisquare against reference proportions', () => {
  it.each(fixture.chisquare)('$name', (c) => {
    const ref = countBy(c.reference, c.categories);
    const cur = countBy(c.current, c.categories);
    const result = chiSquareFromCounts(ref, cur);
    expectClose(result.statistic, c.statistic);
    expectClose(result.pValue, c.pvalue);
  });

  it('gives the detector the same p-value and lists the category the reference never had', () => {
    const c = fixture.chisquare.find((k) => k.name === 'category unseen in reference');
    if (c === undefined) throw new Error('fixture case missing');
    const result = detectColumnDrift(c.reference, c.current, { column: 'colour' });
    expect(result).toMatchObject({ test: 'chisquare', statistic: Number.POSITIVE_INFINITY, pValue: 0, drifted: true });
    expect(result.unseenCategories).toEqual(['blue']);
  });
});

describe('the Jensen-Shannon noise floor', () => {
  // Zipf-like shares over 223 bins, as the airports are: many rare ones.
  const weights = Array.from({ length: 223 }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => w / sum);

  it('agrees with brute force: the 99th percentile of 400 windows drawn row by row', () => {
    let state = 12345;
    const random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const cumulative = shares.map((_, i) => shares.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const draw = (rows: number) => {
      const counts = new Float64Array(shares.length);
      for (let r = 0; r < rows; r++) {
        const u = random();
        let i = cumulative.findIndex((c) => u < c);
        if (i < 0) i = shares.length - 1;
        counts[i]!++;
      }
      return counts;
    };
    const reference = Float64Array.from(shares);
    const brute = Float64Array.from({ length: 400 }, () => jensenShannonDistance(reference, draw(2_000), 2)).sort();
    const floor = jensenShannonNoiseFloor(shares, 2_000, 1e9, 2);
    expect(floor).toBeGreaterThan(0.1);
    expect(Math.abs(floor - brute[395]!) / brute[395]!).toBeLessThan(0.05);
  });

  it('is the same for the same inputs, falls as windows grow, and is 0 for a single bin', () => {
    const a = jensenShannonNoiseFloor(shares, 2_000, 966_409, 2);
    expect(jensenShannonNoiseFloor(shares, 2_000, 966_409, 2)).toBe(a);
    const b = jensenShannonNoiseFloor(shares, 50_000, 966_409, 2);
    expect(b).toBeLessThan(a / 4);
    expect(jensenShannonNoiseFloor([1], 2_000, 966_409, 2)).toBe(0);
    // In nats the same noise measures sqrt(ln 2) times the distance in bits.
    expect(jensenShannonNoiseFloor([0.5, 0.5, 0], 2_000, 2_000, Math.E)).toBeLessThan(jensenShannonNoiseFloor([0.5, 0.5, 0], 2_000, 2_000, 2));
  });
});

describe('the two-proportion z-test matches scipy.stats.norm', () => {
  it.each(fixture.ztest)('$name', (c) => {
    const keys = [...new Set([...c.reference, ...c.current])].sort();
    const share = (values: (string | number)[]) => ({ successes: values.filter((v) => v !== keys[0]).length, total: values.length });
    const result = proportionsZTest(share(c.reference), share(c.current));
    expectClose(result.statistic, c.statistic);
    expectClose(result.pValue, c.pvalue);
  });

  it('gives the detector the same p-value for a yes/no column', () => {
    const c = fixture.ztest.find((k) => k.name === 'yes/no 900 vs 1000, 0.30 vs 0.36');
    if (c === undefined) throw new Error('fixture case missing');
    const result = detectColumnDrift(c.reference as string[], c.current as string[]);
    expect(result.test).toBe('z');
    expectClose(result.pValue ?? Number.NaN, c.pvalue);
  });
});

describe('Wasserstein matches scipy.stats.wasserstein_distance', () => {
  it.each(fixture.wasserstein)('$name', (c) => {
    expectClose(wassersteinDistance(c.reference, c.current), c.distance);
    expectClose(normedWasserstein(c.reference, c.current), c.normed);
  });
});

describe('binning, Jensen-Shannon, PSI and KL match numpy and scipy', () => {
  it.each(fixture.binned)('$name', (c) => {
    const shares = c.numeric
      ? numericShares(c.reference as number[], c.current as number[])
      : categoryShares(c.reference as string[], c.current as string[]);
    expect(shares.edges === null ? undefined : [...shares.edges]).toEqual(c.edges);
    expect(shares.categories ?? undefined).toEqual(c.categories?.map(String));
    expect([...shares.reference]).toEqual(c.referencePercents);
    expect([...shares.current]).toEqual(c.currentPercents);
    expectClose(jensenShannonDistance(shares.reference, shares.current), c.jensenshannon);
    expectClose(jensenShannonDistance(shares.reference, shares.current, 2), c.jensenshannonBase2);
    const ref = fillEmptyShares(shares.reference);
    const cur = fillEmptyShares(shares.current);
    expectClose(populationStabilityIndex(ref, cur), c.psi);
    expectClose(klDivergence(ref, cur), c.klDiv);
  });

  it('gives the detector the same distances when the test is chosen per column', () => {
    const c = fixture.binned.find((k) => k.name === 'numeric 2000 vs 3000, shift 0.2');
    if (c === undefined) throw new Error('fixture case missing');
    const [ref, cur] = [c.reference as number[], c.current as number[]];
    expectClose(detectColumnDrift(ref, cur, { test: 'jensenshannon', jsBase: 2 }).distance ?? Number.NaN, c.jensenshannonBase2);
    expectClose(detectColumnDrift(ref, cur, { test: 'psi' }).distance ?? Number.NaN, c.psi);
    expectClose(detectColumnDrift(ref, cur, { test: 'kl_div' }).distance ?? Number.NaN, c.klDiv);
  });
});

function countBy(values: readonly string[], categories: readonly string[]): Float64Array {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return Float64Array.from(categories, (category) => counts.get(category) ?? 0);
}
