/**
 * The analysis between a deployment's steps: the candidate's live numbers against the baseline's
 * (the version serving before) over the same window, read from the scorer's per-version stats.
 * Three checks, each with a threshold: error rate (absolute and above the baseline's), latency p99
 * (a ratio of the baseline's, with an absolute slack because sub-millisecond p99s are noisy), and
 * the prediction distribution (Jensen-Shannon distance, base 2, between the two score histograms
 * over 10 bins;
 * PSI is reported beside it and can be the gate instead). A verdict needs `minRequests` on each arm;
 * until then the answer is `insufficient` and the workflow waits on a durable timer.
 */
import { fillEmptyShares } from '../monitoring/histogram.js';
import { jensenShannonDistance, populationStabilityIndex } from '../monitoring/tests.js';
import type { StatsSnapshot } from './stats.js';

export interface AnalysisThresholds {
  /** Requests each compared arm needs before a verdict (default 200: below that, sampling noise alone moves the distance by 0.1 or more). */
  minRequests: number;
  /** The candidate's error rate may not exceed this (default 0.05)... */
  maxErrorRate: number;
  /** ...nor the baseline's by more than this (default 0.01). */
  maxErrorRateIncrease: number;
  /** The candidate's p99 may be at most this multiple of the baseline's (default 2)... */
  maxLatencyP99Ratio: number;
  /** ...plus this many milliseconds (default 5), or at most maxLatencyP99Ms with no baseline. */
  latencySlackMs: number;
  maxLatencyP99Ms: number;
  /** Which distance gates the prediction distribution (default 'jensen-shannon'). */
  driftMetric: 'jensen-shannon' | 'psi';
  /** The largest distance allowed (default 0.2 for Jensen-Shannon; use about 0.25 for PSI). */
  maxDrift: number;
}

export const DEFAULT_THRESHOLDS: AnalysisThresholds = {
  minRequests: 200,
  maxErrorRate: 0.05,
  maxErrorRateIncrease: 0.01,
  maxLatencyP99Ratio: 2,
  latencySlackMs: 5,
  maxLatencyP99Ms: 250,
  driftMetric: 'jensen-shannon',
  maxDrift: 0.2,
};

export interface ArmNumbers {
  version: number;
  requests: number;
  errors: number;
  errorRate: number | null;
  latencyP99Ms: number | null;
  meanScore: number | null;
}

export interface AnalysisCheck {
  name: 'error-rate' | 'latency-p99' | 'prediction-distribution';
  passed: boolean;
  /** What was measured and what it was held to, in words. */
  detail: string;
  value: number | null;
  limit: number | null;
}

export interface AnalysisResult {
  verdict: 'pass' | 'fail' | 'insufficient';
  candidate: ArmNumbers;
  baseline: ArmNumbers | null;
  /** Jensen-Shannon distance (base 2) and PSI between the score histograms; null without both sides' scores. */
  jensenShannon: number | null;
  psi: number | null;
  checks: AnalysisCheck[];
  /** Why it failed (the failed checks), or what it is waiting for. */
  reason: string;
}

export function numbersOf(version: number, s: StatsSnapshot | undefined): ArmNumbers {
  return {
    version,
    requests: s?.requests ?? 0,
    errors: s?.errors ?? 0,
    errorRate: s?.errorRate ?? null,
    latencyP99Ms: s?.latencyMs.p99 ?? null,
    meanScore: s?.scores.mean ?? null,
  };
}

/** Bins the distributions are compared over: with more, a few hundred requests per arm would read as drift from sampling noise alone. */
export const COMPARED_BINS = 10;

/**
 * The histogram merged down to COMPARED_BINS (adjacent bins summed: the scorer keeps 20), with the
 * under- and overflow bins, so scores outside [min, max] still count.
 */
function binsOf(s: StatsSnapshot): number[] {
  const group = Math.ceil(s.scores.counts.length / COMPARED_BINS);
  const merged: number[] = [];
  s.scores.counts.forEach((n, i) => (merged[Math.floor(i / group)] = (merged[Math.floor(i / group)] ?? 0) + n));
  return [s.scores.below, ...merged, s.scores.above];
}

export function scoreDistances(candidate: StatsSnapshot, baseline: StatsSnapshot): { jensenShannon: number | null; psi: number | null } {
  if (candidate.scores.count === 0 || baseline.scores.count === 0) return { jensenShannon: null, psi: null };
  const c = binsOf(candidate);
  const b = binsOf(baseline);
  const share = (bins: number[], total: number) => Float64Array.from(bins, (n) => n / total);
  const cs = share(c, candidate.scores.count);
  const bs = share(b, baseline.scores.count);
  return {
    jensenShannon: jensenShannonDistance(bs, cs, 2),
    psi: populationStabilityIndex(fillEmptyShares(bs), fillEmptyShares(cs)),
  };
}

const round = (x: number | null, digits = 4) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/**
 * The verdict on a candidate. Without a baseline (a model's first deployment, or blue-green after
 * the switch) only the absolute limits apply and the distribution is not compared.
 */
export function analyze(
  candidate: { version: number; stats: StatsSnapshot | undefined },
  baseline: { version: number; stats: StatsSnapshot | undefined } | null,
  thresholds: AnalysisThresholds,
): AnalysisResult {
  const c = numbersOf(candidate.version, candidate.stats);
  const b = baseline ? numbersOf(baseline.version, baseline.stats) : null;
  const waiting = [c, ...(b ? [b] : [])].filter((arm) => arm.requests < thresholds.minRequests);
  const distances = candidate.stats && baseline?.stats ? scoreDistances(candidate.stats, baseline.stats) : { jensenShannon: null, psi: null };
  const base = { candidate: c, baseline: b, jensenShannon: round(distances.jensenShannon), psi: round(distances.psi) };
  if (waiting.length > 0) {
    return {
      ...base,
      verdict: 'insufficient',
      checks: [],
      reason: `waiting for ${thresholds.minRequests} requests per arm: ${waiting.map((a) => `v${a.version} has ${a.requests}`).join(', ')}`,
    };
  }
  const checks: AnalysisCheck[] = [];
  const errorRate = c.errorRate ?? 0;
  const errorLimit = Math.min(thresholds.maxErrorRate, (b?.errorRate ?? 0) + thresholds.maxErrorRateIncrease);
  checks.push({
    name: 'error-rate',
    passed: errorRate <= (b ? errorLimit : thresholds.maxErrorRate),
    value: round(errorRate),
    limit: round(b ? errorLimit : thresholds.maxErrorRate),
    detail: `error rate ${(errorRate * 100).toFixed(2)}% (${c.errors} of ${c.requests})${b ? ` vs ${((b.errorRate ?? 0) * 100).toFixed(2)}% on v${b.version}` : ''}; limit ${((b ? errorLimit : thresholds.maxErrorRate) * 100).toFixed(2)}%`,
  });
  if (c.latencyP99Ms !== null) {
    const limit = b?.latencyP99Ms != null ? Math.max(b.latencyP99Ms * thresholds.maxLatencyP99Ratio, b.latencyP99Ms + thresholds.latencySlackMs) : thresholds.maxLatencyP99Ms;
    checks.push({
      name: 'latency-p99',
      passed: c.latencyP99Ms <= limit,
      value: round(c.latencyP99Ms, 3),
      limit: round(limit, 3),
      detail: `p99 ${c.latencyP99Ms.toFixed(2)} ms${b?.latencyP99Ms != null ? ` vs ${b.latencyP99Ms.toFixed(2)} ms on v${b.version}` : ''}; limit ${limit.toFixed(2)} ms`,
    });
  }
  const distance = thresholds.driftMetric === 'psi' ? base.psi : base.jensenShannon;
  if (distance !== null) {
    checks.push({
      name: 'prediction-distribution',
      passed: distance <= thresholds.maxDrift,
      value: distance,
      limit: thresholds.maxDrift,
      detail: `${thresholds.driftMetric === 'psi' ? 'PSI' : 'Jensen-Shannon distance'} ${distance.toFixed(3)} between the score distributions (mean ${c.meanScore?.toFixed(3)} vs ${b?.meanScore?.toFixed(3)}); limit ${thresholds.maxDrift}`,
    });
  }
  const failed = checks.filter((check) => !check.passed);
  return {
    ...base,
    verdict: failed.length ? 'fail' : 'pass',
    checks,
    reason: failed.length ? failed.map((f) => f.detail).join('; ') : `every check passed: ${checks.map((f) => f.detail).join('; ')}`,
  };
}

/** Thresholds with the caller's overrides, checked. */
export function thresholdsWith(overrides: Partial<AnalysisThresholds> | undefined): AnalysisThresholds {
  const t = { ...DEFAULT_THRESHOLDS, ...(overrides?.driftMetric === 'psi' && overrides.maxDrift === undefined ? { maxDrift: 0.25 } : {}), ...overrides };
  return t;
}
