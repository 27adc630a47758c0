import { describe, expect, it } from 'vitest';
import { detectColumnDrift, detectDatasetDrift, profileColumn, profileColumns, REFERENCE_QUANTILE_POINTS, type NumericReference } from '../../../src/monitoring/index.js';

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

function normals(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  const u = uniforms(2 * n, seed);
  return Float64Array.from({ length: n }, (_, i) => mean + sd * Math.sqrt(-2 * Math.log(1 - (u[2 * i] ?? 0))) * Math.cos(2 * Math.PI * (u[2 * i + 1] ?? 0)));
}

describe('reference statistics stored in place of the training data', () => {
  it('keeps 1,000 equal-mass quantile points of a continuous column and its true counts', () => {
    const values = Float64Array.from([...normals(50_000, 1), Number.NaN, Number.POSITIVE_INFINITY]);
    const profile = profileColumn(values, 'x') as NumericReference;
    expect(profile).toMatchObject({ kind: 'numeric', rows: 50_002, used: 50_000, nan: 1, infinite: 1, missing: 0, valueCounts: null });
    expect(profile.quantiles).toHaveLength(REFERENCE_QUANTILE_POINTS);
    expect(profile.mean).toBeCloseTo(0, 1);
    expect(profile.std).toBeCloseTo(1, 1);
    expect(profile.histogram.counts.reduce((a, b) => a + b, 0)).toBe(50_000);
    expect(JSON.parse(JSON.stringify(profile))).toEqual(profile);
  });

  it('gives the Wasserstein distance of the full reference to within 0.005 and Jensen-Shannon to within 0.015, and Evidently’s choice for its true size', () => {
    const reference = normals(200_000, 2);
    const profile = profileColumn(reference, 'x')!;
    for (const current of [normals(20_000, 3), normals(20_000, 4, 0.3), normals(20_000, 5, 0, 1.5)]) {
      for (const test of ['wasserstein', 'jensenshannon'] as const) {
        const full = detectColumnDrift(reference, current, { test });
        const stored = detectColumnDrift(profile, current, { test });
        // Jensen-Shannon bins the 1,000 points instead of 200,000 values: a little more noise, far below the 0.1 threshold.
        expect(Math.abs((stored.distance ?? NaN) - (full.distance ?? NaN))).toBeLessThan(test === 'wasserstein' ? 0.005 : 0.015);
        expect(stored.drifted).toBe(full.drifted);
      }
      const auto = detectColumnDrift(profile, current);
      expect(auto.test).toBe('wasserstein');
      expect(auto.counts.reference).toEqual({ rows: 200_000, used: 200_000, missing: 0, nan: 0, infinite: 0 });
    }
  });

  it('keeps exact counts of few-valued numeric and categorical columns, so their tests give the same numbers as the raw data', () => {
    const days = Array.from(uniforms(30_000, 6), (u) => 1 + Math.floor(u * 7));
    const currentDays = Array.from(uniforms(5_000, 7), (u) => 1 + Math.floor(u * u * 7));
    const airports = Array.from(uniforms(30_000, 8), (u) => ['ORD', 'ATL', 'DFW', 'LAX'][Math.floor(u * 4)]!);
    const currentAirports = [...airports.slice(0, 4_000), 'SFO', null];
    const profiles = profileColumns({ days, airport: airports });
    expect(profiles.empty).toEqual([]);
    expect((profiles.columns.days as NumericReference).valueCounts).not.toBeNull();
    for (const test of ['jensenshannon', 'chisquare', 'psi'] as const) {
      expect(detectColumnDrift(profiles.columns.days!, currentDays, { test })).toEqual(detectColumnDrift(days, currentDays, { test }));
      expect(detectColumnDrift(profiles.columns.airport!, currentAirports, { test })).toEqual(detectColumnDrift(airports, currentAirports, { test }));
    }
    const report = detectColumnDrift(profiles.columns.airport!, currentAirports);
    expect(report.unseenCategories).toEqual(['SFO']);
    expect(report.counts.current).toMatchObject({ missing: 1 });
  });

  it('reports an all-null training column as empty and a column whose reference had no usable value as undecided', () => {
    const profiles = profileColumns({ gone: [null, null], nan: Float64Array.of(Number.NaN, Number.NaN), x: normals(100, 9) });
    expect(profiles.empty).toEqual(['gone']);
    const report = detectDatasetDrift(profiles.columns, { nan: normals(100, 10), x: normals(100, 11) });
    const nan = report.columns.find((c) => c.column === 'nan')!;
    expect(nan.decided).toBe(false);
    expect(nan.reason).toMatch(/No usable reference values: all 2 are null, NaN or infinite \(2 NaN\)/);
    expect(report.columns.find((c) => c.column === 'x')!.decided).toBe(true);
  });
});
