/**
 * Live statistics per model version over a sliding window, for deployment analysis (is the
 * candidate's error rate, latency p99 or score distribution worse than the primary's?). The window
 * is a ring of time slices; each slice counts requests, rows, errors and rejections and keeps two
 * fixed-size histograms, latency on a log scale and scores on a linear one, so recording is a few
 * array increments and memory does not grow with traffic.
 */

export interface StatsOptions {
  /** Length of the window (default 60 s). */
  windowMs?: number;
  /** Slices the window is cut into (default 12); the window advances a slice at a time. */
  slices?: number;
  /** Score histogram range and bins (default [0, 1] in 20 bins: probabilities). */
  scoreRange?: { min: number; max: number; bins: number };
  /** Milliseconds since the epoch; tests drive the window with their own clock. */
  now?: () => number;
}

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  mean: number | null;
}

export interface ScoreHistogram {
  min: number;
  max: number;
  /** Counts of scores in [min + i·width, min + (i+1)·width); the last bin includes max. */
  counts: number[];
  below: number;
  above: number;
  count: number;
  mean: number | null;
}

export interface StatsSnapshot {
  windowMs: number;
  /** Successful and failed requests (rejected ones are counted apart). */
  requests: number;
  rows: number;
  errors: number;
  errorRate: number | null;
  /** Requests refused as invalid input (4xx): the caller's fault, not the version's. */
  rejected: number;
  /** Of successful requests, in milliseconds; resolution about 4.4%. */
  latencyMs: Percentiles;
  scores: ScoreHistogram;
}

/** Latency bins: 16 per doubling from 1 µs, so a bin's width is 2^(1/16) - 1 ≈ 4.4% of its value. */
const PER_DOUBLING = 16;
const LATENCY_BINS = 1 + 30 * PER_DOUBLING; // up to 2^30 µs ≈ 18 minutes

class Slice {
  epoch = -1;
  requests = 0;
  rows = 0;
  errors = 0;
  rejected = 0;
  latencySum = 0;
  scoreSum = 0;
  scoreCount = 0;
  readonly latency = new Uint32Array(LATENCY_BINS);
  readonly scores: Uint32Array;

  constructor(bins: number) {
    this.scores = new Uint32Array(bins + 2);
  }

  reset(epoch: number): void {
    this.epoch = epoch;
    this.requests = this.rows = this.errors = this.rejected = 0;
    this.latencySum = this.scoreSum = this.scoreCount = 0;
    this.latency.fill(0);
    this.scores.fill(0);
  }
}

export class WindowedStats {
  private readonly slices: Slice[];
  private readonly sliceMs: number;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly min: number;
  private readonly max: number;
  private readonly bins: number;
  private readonly binScale: number;

  constructor(options: StatsOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    const count = options.slices ?? 12;
    this.sliceMs = this.windowMs / count;
    this.now = options.now ?? Date.now;
    const range = options.scoreRange ?? { min: 0, max: 1, bins: 20 };
    if (!(range.max > range.min) || !Number.isInteger(range.bins) || range.bins < 1) throw new RangeError(`Invalid score range ${JSON.stringify(range)}.`);
    this.min = range.min;
    this.max = range.max;
    this.bins = range.bins;
    this.binScale = range.bins / (range.max - range.min);
    this.slices = Array.from({ length: count }, () => new Slice(range.bins));
  }

  private current(): Slice {
    const epoch = Math.floor(this.now() / this.sliceMs);
    const slice = this.slices[epoch % this.slices.length]!;
    if (slice.epoch !== epoch) slice.reset(epoch);
    return slice;
  }

  recordSuccess(latencyMs: number, scores: Float64Array): void {
    const slice = this.current();
    slice.requests++;
    slice.rows += scores.length;
    slice.latencySum += latencyMs;
    const us = latencyMs * 1000;
    slice.latency[us < 1 ? 0 : Math.min(LATENCY_BINS - 1, 1 + Math.floor(Math.log2(us) * PER_DOUBLING))]!++;
    const { min, max, bins, binScale } = this;
    const counts = slice.scores;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i]!;
      slice.scoreSum += s;
      // Slot 0 counts scores below min, slot bins + 1 those above max.
      counts[s < min ? 0 : s > max ? bins + 1 : s === max ? bins : 1 + Math.floor((s - min) * binScale)]!++;
    }
    slice.scoreCount += scores.length;
  }

  recordError(): void {
    const slice = this.current();
    slice.requests++;
    slice.errors++;
  }

  recordRejected(): void {
    this.current().rejected++;
  }

  /** The whole window, or only its most recent `lastMs` (rounded up to whole slices). */
  snapshot(lastMs = this.windowMs): StatsSnapshot {
    const epoch = Math.floor(this.now() / this.sliceMs);
    const span = Math.min(this.slices.length, Math.max(1, Math.ceil(lastMs / this.sliceMs)));
    const live = this.slices.filter((s) => s.epoch > epoch - span && s.epoch <= epoch);
    const latency = new Float64Array(LATENCY_BINS);
    const scores = new Float64Array(this.bins + 2);
    let requests = 0;
    let rows = 0;
    let errors = 0;
    let rejected = 0;
    let latencySum = 0;
    let scoreSum = 0;
    let scoreCount = 0;
    for (const s of live) {
      requests += s.requests;
      rows += s.rows;
      errors += s.errors;
      rejected += s.rejected;
      latencySum += s.latencySum;
      scoreSum += s.scoreSum;
      scoreCount += s.scoreCount;
      for (let i = 0; i < LATENCY_BINS; i++) latency[i]! += s.latency[i]!;
      for (let i = 0; i < scores.length; i++) scores[i]! += s.scores[i]!;
    }
    const succeeded = requests - errors;
    return {
      windowMs: span * this.sliceMs,
      requests,
      rows,
      errors,
      errorRate: requests > 0 ? errors / requests : null,
      rejected,
      latencyMs: {
        p50: percentile(latency, succeeded, 0.5),
        p90: percentile(latency, succeeded, 0.9),
        p99: percentile(latency, succeeded, 0.99),
        mean: succeeded > 0 ? latencySum / succeeded : null,
      },
      scores: {
        min: this.min,
        max: this.max,
        counts: Array.from(scores.subarray(1, this.bins + 1)),
        below: scores[0]!,
        above: scores[this.bins + 1]!,
        count: scoreCount,
        mean: scoreCount > 0 ? scoreSum / scoreCount : null,
      },
    };
  }
}

/** The geometric middle of the bin holding the q-quantile, in milliseconds. */
function percentile(bins: Float64Array, total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i]!;
    if (seen >= rank) return i === 0 ? 0.0005 : 2 ** ((i - 1 + 0.5) / PER_DOUBLING) / 1000;
  }
  return null;
}
