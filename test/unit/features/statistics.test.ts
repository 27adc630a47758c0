import { describe, expect, it } from 'vitest';
import { addValue, mergeSketches, newSketch, summarize } from '../../../src/features/statistics.js';
import { mulberry32 } from '../../../src/ml/random.js';

function sketchOf(values: Array<number | null>, seed = 1) {
  const sketch = newSketch('float64', seed);
  for (const v of values) addValue(sketch, v);
  return sketch;
}

describe('feature statistics', () => {
  const rng = mulberry32(3);
  const values = Array.from({ length: 20_000 }, () => (rng() < 0.1 ? null : Math.round(rng() * 1000) / 10));
  const present = values.filter((v): v is number => v !== null);
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const std = Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / (present.length - 1));

  it('counts, nulls, min, max, mean and std exactly; quantiles from the sample', () => {
    const s = summarize(sketchOf(values));
    if (s.kind !== 'numeric') throw new Error('numeric');
    expect([s.count, s.nulls, s.min, s.max]).toEqual([present.length, values.length - present.length, Math.min(...present), Math.max(...present)]);
    expect(s.mean).toBeCloseTo(mean, 9);
    expect(s.std).toBeCloseTo(std, 9);
    // Uniform on [0, 100]: the sample's median is near 50 (4,096 draws: standard error about 0.8).
    expect(Math.abs(s.quantiles.p50! - 50)).toBeLessThan(4);
    expect(s.histogram.counts).toHaveLength(20);
    expect(Math.abs(s.histogram.counts.reduce((a, b) => a + b, 0) - present.length)).toBeLessThanOrEqual(20);
  });

  it('merges two sketches into the statistics of all their rows', () => {
    const merged = summarize(mergeSketches(sketchOf(values.slice(0, 7_000), 2), sketchOf(values.slice(7_000), 3)));
    const whole = summarize(sketchOf(values));
    if (merged.kind !== 'numeric' || whole.kind !== 'numeric') throw new Error('numeric');
    expect([merged.count, merged.nulls, merged.min, merged.max]).toEqual([whole.count, whole.nulls, whole.min, whole.max]);
    expect(merged.mean).toBeCloseTo(whole.mean!, 9);
    expect(merged.std).toBeCloseTo(whole.std!, 9);
    expect(merged.sample).toHaveLength(4_096);
  });

  it('finds the top categories, exactly while few and approximately (space-saving) when many', () => {
    const sketch = newSketch('string');
    const words = ['ATL', 'ORD', 'DFW'];
    for (let i = 0; i < 30_000; i++) addValue(sketch, i % 10 < 7 ? words[i % 3]! : `rare-${i}`);
    addValue(sketch, null);
    const s = summarize(sketch);
    if (s.kind !== 'categorical') throw new Error('categorical');
    expect(s.top.slice(0, 3).map((t) => t.value).sort()).toEqual(['ATL', 'DFW', 'ORD']);
    expect(s.top[0]!.count).toBeGreaterThanOrEqual(7_000);
    expect([s.count, s.nulls, s.distinctIsLowerBound]).toEqual([30_000, 1, true]);
    expect(s.distinct).toBeGreaterThanOrEqual(1_000);
    const small = newSketch('bool');
    [true, true, false].forEach((v) => addValue(small, v));
    const merged = summarize(mergeSketches(small, small));
    expect(merged).toMatchObject({ count: 6, distinct: 2, top: [{ value: 'true', count: 4 }, { value: 'false', count: 2 }] });
  });
});
