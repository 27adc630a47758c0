import { describe, expect, it } from 'vitest';
import { WindowedStats } from '../../../src/serving/stats.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('windowed version statistics', () => {
  it('counts requests, rows, errors and rejections, and gives the error rate', () => {
    const c = clock();
    const stats = new WindowedStats({ now: c.now });
    for (let i = 0; i < 98; i++) stats.recordSuccess(1, Float64Array.of(0.2, 0.4));
    stats.recordError();
    stats.recordError();
    stats.recordRejected();
    const s = stats.snapshot();
    expect(s).toMatchObject({ requests: 100, rows: 196, errors: 2, rejected: 1, errorRate: 0.02 });
  });

  it('reports latency percentiles to within the histogram resolution', () => {
    const c = clock();
    const stats = new WindowedStats({ now: c.now });
    // 1..1000 µs uniformly: p50 = 0.5 ms, p90 = 0.9 ms, p99 = 0.99 ms.
    for (let us = 1; us <= 1000; us++) stats.recordSuccess(us / 1000, Float64Array.of(0.5));
    const { latencyMs } = stats.snapshot();
    expect(latencyMs.p50!).toBeGreaterThan(0.5 * 0.955);
    expect(latencyMs.p50!).toBeLessThan(0.5 * 1.045);
    expect(latencyMs.p90!).toBeGreaterThan(0.9 * 0.955);
    expect(latencyMs.p90!).toBeLessThan(0.9 * 1.045);
    expect(latencyMs.p99!).toBeGreaterThan(0.99 * 0.955);
    expect(latencyMs.p99!).toBeLessThan(0.99 * 1.045);
    expect(latencyMs.mean!).toBeCloseTo(0.5005, 6);
  });

  it('keeps a histogram of scores with what falls outside its range', () => {
    const stats = new WindowedStats({ now: clock().now, scoreRange: { min: 0, max: 1, bins: 4 } });
    stats.recordSuccess(1, Float64Array.of(0, 0.1, 0.3, 0.5, 0.74, 0.76, 1, -0.5, 2));
    const { scores } = stats.snapshot();
    expect(scores.counts).toEqual([2, 1, 2, 2]);
    expect(scores.below).toBe(1);
    expect(scores.above).toBe(1);
    expect(scores.count).toBe(9);
    expect(scores.mean).toBeCloseTo((0 + 0.1 + 0.3 + 0.5 + 0.74 + 0.76 + 1 - 0.5 + 2) / 9, 10);
  });

  it('forgets what left the window, slice by slice, and can look at only the most recent part', () => {
    const c = clock(0);
    const stats = new WindowedStats({ now: c.now, windowMs: 60_000, slices: 12 });
    stats.recordError();
    c.advance(30_000);
    stats.recordSuccess(2, Float64Array.of(0.9));
    expect(stats.snapshot()).toMatchObject({ requests: 2, errors: 1 });
    expect(stats.snapshot(10_000)).toMatchObject({ requests: 1, errors: 0, windowMs: 10_000 });
    c.advance(35_000);
    expect(stats.snapshot()).toMatchObject({ requests: 1, errors: 0 });
    c.advance(60_000);
    expect(stats.snapshot()).toMatchObject({ requests: 0, errorRate: null, latencyMs: { p50: null } });
  });
});
