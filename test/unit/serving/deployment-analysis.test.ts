/**
 * The deployment analysis on the scorer's real stats type (WindowedStats fed with known scores and
 * latencies), and the routing each strategy plans.
 */
import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_THRESHOLDS } from '../../../src/serving/deployment-analysis.js';
import { checkCanarySteps, checkThresholds, planSteps } from '../../../src/serving/deployments.js';
import { WindowedStats } from '../../../src/serving/stats.js';

function statsOf(requests: number, score: (i: number) => number, latencyMs = 1, errors = 0) {
  const stats = new WindowedStats({ now: () => 1_000 });
  for (let i = 0; i < requests; i++) stats.recordSuccess(latencyMs, Float64Array.of(score(i)));
  for (let i = 0; i < errors; i++) stats.recordError();
  return stats.snapshot();
}

const spread = (i: number) => ((i * 37) % 100) / 100;
const t = { ...DEFAULT_THRESHOLDS, minRequests: 200 };

describe('deployment analysis', () => {
  it('passes a candidate whose numbers match the baseline', () => {
    const result = analyze({ version: 2, stats: statsOf(500, spread) }, { version: 1, stats: statsOf(2000, spread) }, t);
    expect(result.verdict).toBe('pass');
    expect(result.jensenShannon).toBeLessThan(0.05);
    expect(result.checks.map((c) => [c.name, c.passed])).toEqual([
      ['error-rate', true],
      ['latency-p99', true],
      ['prediction-distribution', true],
    ]);
  });

  it('waits while an arm has fewer than minRequests', () => {
    const result = analyze({ version: 2, stats: statsOf(50, spread) }, { version: 1, stats: statsOf(2000, spread) }, t);
    expect(result).toMatchObject({ verdict: 'insufficient', reason: 'waiting for 200 requests per arm: v2 has 50' });
  });

  it('fails pinned predictions on the distribution, errors on the error rate, a slow candidate on p99', () => {
    const pinned = analyze({ version: 2, stats: statsOf(500, () => 0.97) }, { version: 1, stats: statsOf(2000, spread) }, t);
    expect(pinned.verdict).toBe('fail');
    expect(pinned.jensenShannon).toBeGreaterThan(0.7);
    expect(pinned.reason).toMatch(/^Jensen-Shannon distance 0\.\d{3} between the score distributions \(mean 0\.970 vs 0\.\d+\); limit 0\.2$/);

    const failing = analyze({ version: 2, stats: statsOf(480, spread, 1, 20) }, { version: 1, stats: statsOf(2000, spread) }, t);
    expect(failing.checks.find((c) => c.name === 'error-rate')).toMatchObject({ passed: false, value: 0.04, limit: 0.01 });

    const slow = analyze({ version: 2, stats: statsOf(500, spread, 40) }, { version: 1, stats: statsOf(2000, spread, 2) }, t);
    expect(slow.checks.find((c) => c.name === 'latency-p99')).toMatchObject({ passed: false });
  });

  it('holds a candidate with no baseline to the absolute limits only', () => {
    const result = analyze({ version: 2, stats: statsOf(300, () => 0.97) }, null, t);
    expect(result.verdict).toBe('pass');
    expect(result.checks.map((c) => c.name)).toEqual(['error-rate', 'latency-p99']);
  });

  it('can gate on PSI instead', () => {
    const result = analyze({ version: 2, stats: statsOf(500, () => 0.97) }, { version: 1, stats: statsOf(2000, spread) }, checkThresholds({ driftMetric: 'psi', minRequests: 200 }));
    expect(result.checks.at(-1)).toMatchObject({ name: 'prediction-distribution', passed: false, limit: 0.25 });
    expect(result.reason).toMatch(/^PSI \d+\.\d{3}/);
  });
});

describe('deployment plans', () => {
  it('plans each strategy as routing steps', () => {
    expect(planSteps({ strategy: 'canary' }, 4, 3).map((s) => s.routing)).toEqual([
      { strategy: 'canary', primary: 3, candidate: 4, percent: 5 },
      { strategy: 'canary', primary: 3, candidate: 4, percent: 25 },
    ]);
    expect(planSteps({ strategy: 'blue-green' }, 4, 3).map((s) => [s.routing, s.analyze])).toEqual([
      [{ strategy: 'shadow', primary: 3, shadow: 4, percent: 100 }, { candidate: 4, baseline: 3 }],
      [{ strategy: 'canary', primary: 4, candidate: 3, percent: 0 }, { candidate: 4, baseline: null }],
    ]);
    expect(planSteps({ strategy: 'ab', abPercent: 20 }, 4, 3)[0]!.routing).toEqual({
      strategy: 'ab',
      arms: [
        { name: 'a', version: 3, weight: 80 },
        { name: 'b', version: 4, weight: 20 },
      ],
    });
    expect(planSteps({ strategy: 'shadow' }, 4, 3)[0]!.routing).toEqual({ strategy: 'shadow', primary: 3, shadow: 4, percent: 100 });
    expect(planSteps({ strategy: 'canary' }, 1, null)).toEqual([{ name: 'v1 serves all traffic (first deployment)', routing: { strategy: 'single', version: 1 }, analyze: null }]);
  });

  it('refuses steps and thresholds that cannot work, naming them', () => {
    expect(() => checkCanarySteps([25, 5, 100])).toThrow('Canary steps must increase: 25, 5, 100 does not (step 2).');
    expect(() => checkCanarySteps([5, 150])).toThrow('Canary step 2 must be a number above 0 and at most 100, got 150.');
    expect(() => checkThresholds({ maxDrift: -1 })).toThrow('maxDrift must be a number above 0, got -1.');
    expect(() => checkThresholds({ minRequest: 5 } as never)).toThrow(/Unknown analysis threshold\(s\) minRequest/);
  });
});
