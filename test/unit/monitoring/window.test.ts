import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { profileColumn, profileColumns, type ReferenceProfile } from '../../../src/monitoring/index.js';
import { buildDriftReport, renderDriftReportHtml } from '../../../src/monitoring/report.js';
import { assessWindow, type WindowData } from '../../../src/monitoring/window.js';

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

const AIRPORTS = ['ATL', 'DFW', 'LAX', 'ORD'];

/** Flights whose delay risk grows with distance; `shift` moves distances, `noise` blurs the labels. */
function flights(n: number, seed: number, options: { shift?: number; noise?: number; airports?: string[] } = {}) {
  const u = uniforms(3 * n, seed);
  const airports = options.airports ?? AIRPORTS;
  const distance = Array.from({ length: n }, (_, i) => 200 + 1500 * u[3 * i]! + (options.shift ?? 0));
  const origin = Array.from({ length: n }, (_, i) => airports[Math.floor(u[3 * i + 1]! * airports.length)]!);
  const scores = Float64Array.from(distance, (d) => Math.min(0.99, Math.max(0.01, (d - 200) / 1500)));
  const noise = options.noise ?? 0.1;
  const labels = Float64Array.from(scores, (s, i) => ((u[3 * i + 2]! < noise ? u[3 * i + 2]! / noise : s) > 0.5 ? 1 : 0));
  return { distance, origin, scores, labels };
}

function referenceOf(n: number): ReferenceProfile {
  const train = flights(n, 1);
  const validation = flights(n / 4, 2);
  const profiled = profileColumns({ distance: train.distance, origin: train.origin });
  return {
    format: 'steward.reference/v1',
    features: profiled.columns,
    emptyFeatures: profiled.empty,
    prediction: profileColumn(validation.scores)!,
    validation: { rows: n / 4, positives: 0, rocAuc: 0.95, logLoss: 0.3, from: '2001-03-01T00:00:00Z', to: '2001-03-31T00:00:00Z' },
    training: { rows: n, to: '2001-03-01T00:00:00Z' },
  };
}

function windowOf(f: ReturnType<typeof flights>, labelled = f.labels.length): WindowData {
  const labels = f.labels.map((l, i) => (i < labelled ? l : Number.NaN));
  return { columns: { distance: f.distance, origin: f.origin }, scores: f.scores, labels, requests: f.scores.length, failedRequests: 0 };
}

describe('a monitoring window against the reference stored at training time', () => {
  const reference = referenceOf(20_000);

  it('finds no drift and no decay when serving looks like training', () => {
    const result = assessWindow(reference, windowOf(flights(3_000, 3)));
    expect(result).toMatchObject({ enough: true, rows: 3_000, labelledRows: 3_000, missingFeatures: [], extraColumns: [], unusableColumns: [] });
    expect(result.inputDrift?.columns.map((c) => [c.column, c.test, c.drifted])).toEqual([
      ['distance', 'wasserstein', false],
      ['origin', 'jensenshannon', false],
    ]);
    expect(result.predictionDrift).toMatchObject({ test: 'wasserstein', drifted: false });
    expect(result.decay).toMatchObject({ decided: true, decayed: false, reference: 0.95 });
    expect(result.decay.current).toBeGreaterThan(0.9);
  });

  it('detects input and prediction drift when distances move, and decay when the labels stop following the scores', () => {
    const moved = assessWindow(reference, windowOf(flights(3_000, 4, { shift: 400 })));
    expect(moved.inputDrift?.columns.find((c) => c.column === 'distance')).toMatchObject({ drifted: true });
    expect(moved.predictionDrift?.drifted).toBe(true);
    const noisy = assessWindow(reference, windowOf(flights(3_000, 5, { noise: 0.6 })));
    expect(noisy.decay).toMatchObject({ decided: true, decayed: true, threshold: 0.05 });
    expect(noisy.decay.drop).toBeCloseTo(0.95 - noisy.decay.current!, 12);
    expect(noisy.inputDrift?.driftedColumns).toBe(0);
  });

  it('decides nothing on a window with too few rows, and says how many it had', () => {
    const result = assessWindow(reference, windowOf(flights(100, 6)));
    expect(result).toMatchObject({ enough: false, inputDrift: null, predictionDrift: null, reason: 'Too few rows to decide: the window has 100 scored rows; at least 500 are needed.' });
    expect(result.decay).toMatchObject({ decided: false, decayed: null });
  });

  it('leaves decay undecided with too few labels or only one outcome', () => {
    expect(assessWindow(reference, windowOf(flights(1_000, 7), 50)).decay).toMatchObject({
      decided: false,
      labelledRows: 50,
      reason: 'Too few labelled rows to measure decay: 50 have ground truth; at least 200 are needed.',
    });
    const f = flights(1_000, 8);
    f.labels.fill(0);
    expect(assessWindow(reference, windowOf(f)).decay.reason).toBe('ROC AUC needs both outcomes among the labelled rows; all 1000 are negative.');
  });

  it('reports missing, extra, all-null and unusable columns and unseen categories instead of dropping them', () => {
    const f = flights(1_000, 9, { airports: [...AIRPORTS, 'SFO'] });
    const data = windowOf(f);
    const gone = { ...data, columns: { origin: f.origin, carrier: f.origin.map(() => 'AA') } };
    const result = assessWindow(reference, gone);
    expect(result.missingFeatures).toEqual(['distance']);
    expect(result.extraColumns).toEqual(['carrier']);
    expect(result.inputDrift?.columns.find((c) => c.column === 'distance')).toMatchObject({ decided: false, reason: 'The column is missing from the current data.' });
    expect(result.inputDrift?.columns.find((c) => c.column === 'origin')).toMatchObject({ unseenCategories: ['SFO'] });

    const nulls = assessWindow(reference, { ...data, columns: { distance: f.distance.map(() => null), origin: f.origin } });
    expect(nulls.inputDrift?.columns.find((c) => c.column === 'distance')).toMatchObject({ decided: false, reason: expect.stringMatching(/^No usable current values: all 1000 are null/) });

    const mixed = assessWindow(reference, { ...data, columns: { distance: f.distance.map((d, i) => (i === 7 ? 'far' : d)), origin: f.origin.map(() => 3) } });
    expect(mixed.unusableColumns).toEqual([
      { column: 'distance', reason: 'It mixes numbers (first at row 0) and strings (first at row 7, "far").' },
      { column: 'origin', reason: 'The model was trained on strings, but the window holds numbers (row 0: 3).' },
    ]);
    expect(mixed.inputDrift?.columns).toEqual([]);
  });

  it('measures a regressor’s decay on its primary metric: RMSE rising, by an amount or a share of the validation RMSE', () => {
    const n = 1_000;
    const u = uniforms(2 * n, 31);
    const scores = Float64Array.from({ length: n }, (_, i) => 10 + 20 * u[2 * i]!);
    // Errors of exactly ±2 and ±3: the window's RMSE is known in closed form.
    const labels = (spread: number) => Float64Array.from(scores, (s, i) => s + (u[2 * i + 1]! < 0.5 ? -spread : spread));
    const regressor: ReferenceProfile = {
      ...reference,
      validation: { ...reference.validation, rocAuc: 0, logLoss: 0, task: 'regression', primaryMetric: 'rmse', metrics: { rmse: 2, mae: 2, r2: 0.9 } },
    };
    const window = (spread: number): WindowData => ({ ...windowOf(flights(n, 32)), scores, labels: labels(spread) });
    const steady = assessWindow(regressor, window(2), { decayThreshold: 0.5 });
    expect(steady.decay).toMatchObject({ metric: 'rmse', direction: 'lower', decided: true, reference: 2, positives: 0, decayed: false, relative: false });
    expect(steady.decay.current).toBeCloseTo(2, 12);
    const worse = assessWindow(regressor, window(3), { decayThreshold: 0.5 });
    expect(worse.decay).toMatchObject({ decided: true, decayed: true, threshold: 0.5 });
    expect(worse.decay.current).toBeCloseTo(3, 12);
    expect(worse.decay.drop).toBeCloseTo(1, 12);
    expect(worse.decay.relativeDrop).toBeCloseTo(0.5, 12);
    expect(assessWindow(regressor, window(3), { decayThreshold: 0.6, decayRelative: true }).decay).toMatchObject({ decayed: false, relative: true });
    expect(assessWindow(regressor, window(3), { decayThreshold: 0.4, decayRelative: true }).decay).toMatchObject({ decayed: true });
    // RMSE is not bounded by 1: a threshold of 2 (units of the label) is fine.
    expect(assessWindow(regressor, window(3), { decayThreshold: 2 }).decay).toMatchObject({ decayed: false, threshold: 2 });
    expect(() => assessWindow({ ...regressor, validation: { ...regressor.validation, primaryMetric: 'rocAuc' } }, window(2))).toThrow(
      'The reference profile measures decay on "rocAuc", which is not a metric of regression; recompute the reference (profileReference).',
    );
  });

  it('refuses options that make no sense', () => {
    expect(() => assessWindow(reference, windowOf(flights(600, 10)), { minRows: 0 })).toThrow(ValidationError);
    expect(() => assessWindow(reference, windowOf(flights(600, 10)), { decayThreshold: 2 })).toThrow('decayThreshold must be between 0 and 1, got 2.');
  });
});

describe('the drift report of a monitoring run', () => {
  const reference = referenceOf(20_000);
  const context = { id: 'week-23', model: 'delay', version: 3, from: new Date('2001-06-04T00:00:00Z'), to: new Date('2001-06-11T00:00:00Z') };

  it('lists every column’s test, statistic, threshold and verdict, with a chart for each drifted column only', () => {
    const f = flights(3_000, 11, { shift: 400, airports: [...AIRPORTS, 'SFO'] });
    const data = windowOf(f);
    const report = buildDriftReport(context, assessWindow(reference, data), data, reference);
    expect(report).toMatchObject({ id: 'week-23', model: 'delay', version: 3, window: { from: '2001-06-04T00:00:00.000Z', to: '2001-06-11T00:00:00.000Z' }, rows: 3_000, enough: true });
    const distance = report.columns.find((c) => c.column === 'distance')!;
    expect(distance).toMatchObject({ test: 'wasserstein', threshold: 0.1, verdict: 'drift' });
    expect(distance.statistic).toBe(distance.distance);
    // 400 miles beyond a 200-1,700 range: about a quarter of the window lies above the reference's maximum.
    expect(distance.chart?.outside?.above).toBeGreaterThan(0.2);
    expect(distance.chart?.reference.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(distance.svg).toMatch(/^<svg [^>]*data-column="distance"/);
    const origin = report.columns.find((c) => c.column === 'origin')!;
    expect(origin.unseenCategories).toEqual(['SFO']);
    expect(origin.chart === null).toBe(origin.verdict !== 'drift');
    expect(report.prediction).toMatchObject({ column: 'prediction', verdict: 'drift' });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('renders as an HTML fragment without scripts, escaping what the log and the names carry', () => {
    const f = flights(1_000, 12, { shift: 400, airports: ['<script>alert(1)</script>'] });
    const data = windowOf(f);
    const html = renderDriftReportHtml(buildDriftReport({ ...context, id: 'a"b' }, assessWindow(reference, data), data, reference));
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('id="drift-a&quot;b"');
    expect(html.match(/<figure /g)?.length).toBeGreaterThanOrEqual(2);
    expect(html).toContain('<tr data-verdict="drift">');
  });

  it('shows a seasonal feature’s verdict but counts only the others, and refuses a seasonal name the model lacks', () => {
    const f = flights(3_000, 14, { shift: 400 });
    const data = windowOf(f);
    const assessed = assessWindow(reference, data, { seasonalFeatures: ['distance'] });
    expect(assessed.inputDrift).toMatchObject({ seasonalColumns: ['distance'], decidedColumns: 1, driftedColumns: 0, datasetDrift: false });
    const report = buildDriftReport(context, assessed, data, reference);
    expect(report.seasonalColumns).toEqual(['distance']);
    expect(report.columns.find((c) => c.column === 'distance')).toMatchObject({ verdict: 'drift', seasonal: true });
    expect(report.columns.find((c) => c.column === 'origin')).toMatchObject({ seasonal: false });
    const html = renderDriftReportHtml(report);
    expect(html).toContain('no drift: 0 of 1 decided columns drifted, not counting seasonal distance (threshold share 0.5)');
    expect(html).toContain('seasonal: not counted toward dataset drift');
    expect(() => assessWindow(reference, data, { seasonalFeatures: ['month'] })).toThrow(
      'Seasonal feature(s) "month" are not features of this model; its features are distance, origin.',
    );
    // A seasonal feature the window cannot use is reported as unusable, not an error.
    const mixed = { ...data, columns: { distance: f.distance.map((d, i) => (i === 3 ? 'far' : d)), origin: f.origin } };
    expect(assessWindow(reference, mixed, { seasonalFeatures: ['distance'] }).unusableColumns.map((u) => u.column)).toEqual(['distance']);
  });

  it('marks a Jensen-Shannon verdict within sampling noise, and aboveNoise makes it no drift', () => {
    const airports = Array.from({ length: 200 }, (_, i) => `A${String(i).padStart(3, '0')}`);
    const manyAirports = (n: number, seed: number) => ({ ...flights(n, seed), origin: Array.from(uniforms(n, seed + 1), (u) => airports[Math.floor(u * u * airports.length)]!) });
    const train = manyAirports(50_000, 21);
    const profiled = profileColumns({ distance: train.distance, origin: train.origin });
    const wide: ReferenceProfile = { ...reference, features: profiled.columns, emptyFeatures: profiled.empty };
    const f = manyAirports(1_000, 22);
    const data = windowOf(f);
    const byRule = buildDriftReport(context, assessWindow(wide, data), data, wide);
    const origin = byRule.columns.find((c) => c.column === 'origin')!;
    // The same distribution, yet the rule's 0.1 is below what 1,000 rows over 200 airports measure by chance.
    expect(origin).toMatchObject({ test: 'jensenshannon', verdict: 'drift' });
    expect(origin.distance!).toBeLessThanOrEqual(origin.noiseFloor!);
    expect(renderDriftReportHtml(byRule)).toMatch(/within sampling noise: 99% of same-distribution windows of 1000 rows measure up to 0\.\d{4}/);
    const quiet = buildDriftReport(context, assessWindow(wide, data, { drift: { aboveNoise: true } }), data, wide);
    expect(quiet.columns.find((c) => c.column === 'origin')).toMatchObject({ verdict: 'no drift', noiseFloor: origin.noiseFloor });
  });

  it('says a window with too few rows decided nothing', () => {
    const data = windowOf(flights(100, 13));
    const report = buildDriftReport(context, assessWindow(reference, data), data, reference);
    expect(report).toMatchObject({ enough: false, datasetDrift: null, columns: [], prediction: null, decay: { decided: false } });
    expect(renderDriftReportHtml(report)).toContain('not decided: Too few rows to decide: the window has 100 scored rows; at least 500 are needed.');
  });
});
