/**
 * The generic tabular trainer (src/ml/tabular) and its four steps on real data nobody here made,
 * vega-datasets' Seattle and New York weather:
 *
 * - classification: "rain tomorrow" (the next day's precipitation > 0) from a day's weather in
 *   seattle-weather.csv, numeric features and the categorical `weather`;
 * - regression: a day's maximum temperature from its minimum, precipitation, wind, city and
 *   weather in weather.csv (two cities, rows in date order).
 *
 * Both algorithms of both tasks are trained through the artifact-level functions (inline pool), their
 * ONNX exports checked, and the evaluation's metrics, fairness and curves recomputed here from the
 * ONNX model's own predictions on the held-out rows (built from the CSV, not through frame.ts), and
 * with scikit-learn when Debian's python3-sklearn is there. Then: the split is by time, training is
 * deterministic, every bad declaration is a ValidationError naming the column or metric, and the
 * steps run as the worker runs them (runStep) in a CPU thread.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dictionary, Int32, Table, TimestampMillisecond, Utf8, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parse } from 'csv-parse/sync';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseModel, type Candidate } from '../../../pipelines/steps/choose-model.js';
import { evaluateModel } from '../../../pipelines/steps/evaluate-model.js';
import { profileReference } from '../../../pipelines/steps/profile-reference.js';
import { trainModel } from '../../../pipelines/steps/train-model.js';
import { ValidationError } from '../../../src/errors.js';
import { brierScore, f1Score, logLoss, mae, prAuc, precision, r2, recall, rmse, rocAuc, accuracy } from '../../../src/ml/metrics/index.js';
import { parseModel } from '../../../src/ml/model.js';
import { evaluateTabularModel, trainTabularModel, type ClassificationFairness, type RegressionFairness, type TabularColumns, type TabularEvaluation, type Task, type TrainedTabularModel, type TrainingSetRef } from '../../../src/ml/tabular/index.js';
import { profileTabularReference } from '../../../src/monitoring/index.js';
import { parseReferenceProfile } from '../../../src/monitoring/reference.js';
import { checkVersionMetadata } from '../../../src/registry/version-metadata.js';
import type { BehaviourDeclaration, FairnessDeclaration } from '../../../src/pipeline/model.js';
import { CpuPool } from '../../../src/platform/cpu-pool.js';
import { LocalArtifactStore } from '../../../src/artifacts/index.js';
import { createTestServices, runStep, type TestServices } from '../../../src/sdk/testing.js';

const DATA = path.resolve('node_modules/vega-datasets/data');
const PYTHON = process.env.STEWARD_TEST_PYTHON || '/usr/bin/python3';
const TEST_FRACTION = 0.2;
const BOOSTING = { maxIter: 40, learningRate: 0.1 };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-tabular-'));
const artifacts = new LocalArtifactStore(path.join(dir, 'artifacts'));
const inline = new CpuPool({ threads: 0 });
const cpu = { pool: inline };

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Row = Record<string, string>;
const readRows = (file: string): Row[] => parse(fs.readFileSync(path.join(DATA, file), 'utf8'), { columns: true }) as Row[];
const numbers = (rows: Row[], key: string) => Float64Array.from(rows, (r) => Number(r[key]));
const strings = (rows: Row[], key: string) => rows.map((r) => r[key]!);

/** A training set built here, with the columns as plain arrays for the independent checks. */
interface Dataset {
  bytes: Uint8Array;
  rows: number;
  times: Float64Array;
  labels: Float64Array;
  numeric: Record<string, Float64Array>;
  categorical: Record<string, string[]>;
  extra: Record<string, string[]>;
}

/**
 * Seattle, 2012-2015: each day but the last labelled with whether it rains the next day. The date is
 * an Arrow timestamp, `weather` a dictionary column, the label Int8, `city` a constant non-feature.
 */
function rainTomorrow(days?: { from: string; to: string }, label: (next: Row) => boolean = (next) => Number(next.precipitation) > 0): Dataset {
  const all = readRows('seattle-weather.csv');
  const labelled = all.slice(0, -1).map((row, i) => ({ row, next: all[i + 1]! })).filter(({ row: r }) => !days || (r.date! >= days.from && r.date! <= days.to));
  const rows = labelled.map((d) => d.row);
  const labels = Float64Array.from(labelled, (d) => (label(d.next) ? 1 : 0));
  const times = Float64Array.from(rows, (r) => Date.parse(r.date!));
  const numeric = { precipitation: numbers(rows, 'precipitation'), temp_max: numbers(rows, 'temp_max'), temp_min: numbers(rows, 'temp_min'), wind: numbers(rows, 'wind') };
  const categorical = { weather: strings(rows, 'weather') };
  const extra = { city: rows.map(() => 'Seattle'), season: rows.map((r) => ['winter', 'spring', 'summer', 'autumn'][Math.floor((Number(r.date!.slice(5, 7)) % 12) / 3)]!) };
  const table = new Table({
    date: vectorFromArray([...times], new TimestampMillisecond()),
    ...Object.fromEntries(Object.entries(numeric).map(([k, v]) => [k, makeVector(v)])),
    weather: vectorFromArray(categorical.weather, new Dictionary(new Utf8(), new Int32())),
    city: vectorFromArray(extra.city, new Utf8()),
    season: vectorFromArray(extra.season, new Utf8()),
    rainTomorrow: makeVector(Int8Array.from(labels)),
  });
  return { bytes: tableToIPC(table, 'file'), rows: rows.length, times, labels, numeric, categorical, extra };
}

const RAIN_COLUMNS: TabularColumns = { label: 'rainTomorrow', time: 'date', numeric: ['precipitation', 'temp_max', 'temp_min', 'wind'], categorical: ['weather'], keys: ['city'] };

/** Seattle and New York, 2012-2015, in date order (file order is one city, then the other, unless `fileOrder`). */
function temperatures(fileOrder = false): Dataset {
  const read = readRows('weather.csv');
  const rows = fileOrder ? read : [...read].sort((a, b) => (a.date! < b.date! ? -1 : a.date! > b.date! ? 1 : 0) || (a.location! < b.location! ? -1 : 1));
  const times = Float64Array.from(rows, (r) => Date.parse(r.date!));
  const labels = numbers(rows, 'temp_max');
  const numeric = { temp_min: numbers(rows, 'temp_min'), precipitation: numbers(rows, 'precipitation'), wind: numbers(rows, 'wind') };
  const categorical = { location: strings(rows, 'location'), weather: strings(rows, 'weather') };
  const table = new Table({
    date: makeVector(times),
    location: vectorFromArray(categorical.location, new Utf8()),
    weather: vectorFromArray(categorical.weather, new Utf8()),
    ...Object.fromEntries(Object.entries(numeric).map(([k, v]) => [k, makeVector(v)])),
    temp_max: makeVector(labels),
  });
  return { bytes: tableToIPC(table, 'file'), rows: rows.length, times, labels, numeric, categorical, extra: {} };
}

const TEMPERATURE_COLUMNS: TabularColumns = { label: 'temp_max', time: 'date', numeric: ['temp_min', 'precipitation', 'wind'], categorical: ['location', 'weather'] };

async function store(data: Dataset, task: Task, columns: TabularColumns): Promise<TrainingSetRef> {
  const { uri } = await artifacts.put(data.bytes);
  return { uri, task, columns };
}

/** The first held-out row: the last `TEST_FRACTION` of the rows, moved back to the first row of its date. */
function heldOutFrom(data: Dataset): number {
  let cut = Math.floor(data.rows * (1 - TEST_FRACTION));
  while (data.times[cut] === data.times[cut - 1]) cut--;
  return cut;
}

/** The ONNX model's predictions on the held-out rows, fed from the CSV's own arrays. */
async function heldOutPredictions(model: TrainedTabularModel, data: Dataset): Promise<{ labels: Float64Array; scores: Float64Array; cut: number }> {
  const cut = heldOutFrom(data);
  const n = data.rows - cut;
  const session = await InferenceSession.create(await artifacts.get(model.modelUri));
  try {
    const feeds: Record<string, Tensor> = {};
    for (const name of model.columns.numeric) feeds[name] = new Tensor('float32', Float32Array.from(data.numeric[name]!.subarray(cut)), [n, 1]);
    for (const name of model.columns.categorical) feeds[name] = new Tensor('string', data.categorical[name]!.slice(cut), [n, 1]);
    const out = await session.run(feeds);
    const values = (model.task === 'regression' ? out.variable! : out.probabilities!).data as Float32Array;
    const scores = Float64Array.from({ length: n }, (_, i) => (model.task === 'regression' ? values[i]! : values[2 * i + 1]!));
    return { labels: data.labels.subarray(cut), scores, cut };
  } finally {
    await session.release();
  }
}

/** The task's metrics by the metrics module, on predictions made here. */
function expectedMetrics(task: Task, labels: Float64Array, scores: Float64Array): Record<string, number> {
  return task === 'regression'
    ? { rmse: rmse(labels, scores), mae: mae(labels, scores), r2: r2(labels, scores) }
    : {
        rocAuc: rocAuc(labels, scores),
        prAuc: prAuc(labels, scores),
        logLoss: logLoss(labels, scores),
        brier: brierScore(labels, scores),
        accuracy: accuracy(labels, scores),
        precision: precision(labels, scores),
        recall: recall(labels, scores),
        f1: f1Score(labels, scores),
      };
}

/** scikit-learn's figures for the same predictions, or why they cannot be had. */
const SKLEARN = `
import json, sys
from sklearn import metrics as m
d = json.load(open(sys.argv[1]))
y, s = d["labels"], d["scores"]
if d["task"] == "regression":
    out = {"rmse": m.mean_squared_error(y, s, squared=False), "mae": m.mean_absolute_error(y, s), "r2": m.r2_score(y, s)}
else:
    p = [1 if v >= 0.5 else 0 for v in s]
    out = {"rocAuc": m.roc_auc_score(y, s), "prAuc": m.average_precision_score(y, s), "logLoss": m.log_loss(y, s, labels=[0, 1]),
           "brier": m.brier_score_loss(y, s), "accuracy": m.accuracy_score(y, p), "precision": m.precision_score(y, p, zero_division=0),
           "recall": m.recall_score(y, p, zero_division=0), "f1": m.f1_score(y, p, zero_division=0)}
print(json.dumps(out))
`;
const sklearnProbe = spawnSync(PYTHON, ['-c', 'import sklearn'], { encoding: 'utf8' });
const sklearnMissing = sklearnProbe.error || sklearnProbe.status !== 0 ? `${PYTHON} cannot import sklearn (apt-get install -y python3-sklearn)` : undefined;
if (sklearnMissing) process.stderr.write(`\n[steward tests] tabular.test.ts: the scikit-learn cross-check is SKIPPED: ${sklearnMissing}\n\n`);

function sklearnMetrics(task: Task, labels: Float64Array, scores: Float64Array): Record<string, number> {
  const file = path.join(dir, `predictions-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify({ task, labels: [...labels], scores: [...scores] }));
  const run = spawnSync(PYTHON, ['-c', SKLEARN, file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scikit-learn failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, number>;
}

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).retryable).toBe(false);
  return error as ValidationError;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('binary classification: rain tomorrow in Seattle', () => {
  const data = rainTomorrow();
  let set: TrainingSetRef;
  const trained: Record<string, TrainedTabularModel> = {};
  const evaluated: Record<string, TabularEvaluation> = {};
  const fairness: FairnessDeclaration[] = [{ column: 'season' }, { column: 'weather', minDisparateImpactRatio: 0.5 }];
  const behaviour: BehaviourDeclaration[] = [
    { kind: 'directional', name: 'a windier day never lowers the risk by more than 0.1', feature: 'wind', delta: 2, direction: 'non-decreasing', tolerance: 0.1 },
    { kind: 'invariance', name: 'fog or drizzle moves the risk by at most 0.3', feature: 'weather', values: ['fog', 'drizzle'], tolerance: 0.3 },
  ];

  beforeAll(async () => {
    set = await store(data, 'binary-classification', RAIN_COLUMNS);
  });

  it.each(['linear', 'gradient-boosting'] as const)('trains %s on the older rows and exports a verified ONNX model', async (algorithm) => {
    const progress: unknown[] = [];
    const model = await trainTabularModel(artifacts, set, { algorithm, params: BOOSTING, testFraction: TEST_FRACTION }, { ...cpu, onProgress: (p) => progress.push(p) });
    trained[algorithm] = model;
    const cut = heldOutFrom(data);
    expect(model).toMatchObject({
      task: 'binary-classification',
      algorithm,
      trainRows: cut,
      validationRows: data.rows - cut,
      trainFrom: '2012-01-01T00:00:00.000Z',
      trainTo: iso(data.times[cut - 1]!),
      validatedFrom: iso(data.times[cut]!),
      columns: { ...RAIN_COLUMNS, keys: ['city'] },
      signature: {
        inputs: [...RAIN_COLUMNS.numeric.map((name) => ({ name, type: 'float' })), { name: 'weather', type: 'string' }],
        outputs: ['label', 'probabilities'],
      },
    });
    expect(model.onnxMaxAbsDiff).toBeLessThan(1e-4);
    expect(model.modelUri).toBe(`artifact://sha256/${model.modelSha256}`);
    const spec = parseModel(new TextDecoder().decode(await artifacts.get(model.specUri)));
    expect(spec.kind).toBe(algorithm === 'linear' ? 'logistic-regression' : 'gradient-boosting');
    expect(spec.trainingRows).toBeLessThanOrEqual(cut);
    expect(progress[0]).toEqual({ phase: 'training', algorithm, rows: cut });
    expect(progress.at(-1)).toEqual({ phase: 'exporting', algorithm });
    if (algorithm === 'gradient-boosting') expect(progress).toContainEqual({ phase: 'training', algorithm, trees: 40, of: 40 });
  });

  it.each(['linear', 'gradient-boosting'] as const)('evaluates %s with the ONNX model: metrics, fairness, behaviour, importance, curves', async (algorithm) => {
    const model = trained[algorithm]!;
    const evaluation = await evaluateTabularModel(artifacts, model, set, { testFraction: TEST_FRACTION, fairness, behaviour }, cpu);
    evaluated[algorithm] = evaluation;
    const { labels, scores, cut } = await heldOutPredictions(model, data);
    expect(evaluation.task).toBe('binary-classification');
    expect(evaluation.rows).toBe(data.rows - cut);
    expect(Object.keys(evaluation.metrics)).toEqual(['rocAuc', 'prAuc', 'logLoss', 'brier', 'accuracy', 'precision', 'recall', 'f1']);
    const expected = expectedMetrics('binary-classification', labels, scores);
    for (const [metric, value] of Object.entries(expected)) expect(evaluation.metrics[metric], metric).toBeCloseTo(value, 12);
    // Rain tomorrow is predictable from today's weather, not perfectly.
    expect(evaluation.metrics.rocAuc).toBeGreaterThan(0.7);
    expect(evaluation.metrics.rocAuc).toBeLessThan(0.9);
    expect(evaluation.validation).toEqual({
      description: expect.stringMatching(/^The most recent 20% of training set artifact:\/\/sha256\/[0-9a-f]{64}'s rows \(2015-03-14T00:00:00.000Z to 2015-12-30T00:00:00.000Z\)/),
      rows: data.rows - cut,
      positives: labels.reduce((a, b) => a + b, 0),
      from: iso(data.times[cut]!),
      to: iso(data.times[data.rows - 1]!),
    });

    // Fairness, recomputed per group from the predictions made here.
    expect(evaluation.fairness.map((f) => f.groupColumn)).toEqual(['season', 'weather']);
    for (const [k, declared] of fairness.entries()) {
      const report = evaluation.fairness[k] as ClassificationFairness;
      const groups = (declared.column === 'weather' ? data.categorical.weather : data.extra.season)!.slice(cut);
      const names = [...new Set(groups)];
      const rate = (g: string) => {
        const rows = groups.flatMap((v, i) => (v === g ? [i] : []));
        return { size: rows.length, selectionRate: rows.filter((i) => scores[i]! >= 0.5).length / rows.length };
      };
      const largest = names.sort((a, b) => rate(b).size - rate(a).size || (a < b ? -1 : 1))[0]!;
      expect(report).toMatchObject({ task: 'binary-classification', column: declared.column, referenceGroup: largest, threshold: 0.5, minAllowedDisparateImpactRatio: declared.minDisparateImpactRatio ?? 0.8 });
      expect(report.groups.map((g) => g.group)).toEqual(names);
      for (const g of report.groups) {
        expect(g.size).toBe(rate(g.group).size);
        expect(g.selectionRate).toBeCloseTo(rate(g.group).selectionRate, 12);
      }
      const base = rate(largest).selectionRate;
      if (base === 0) {
        // The reference selects nobody: no ratio, and fair only when nobody is selected at all.
        expect(report.minDisparateImpactRatio).toBeNull();
        expect(report.passed).toBe(names.every((g) => rate(g).selectionRate === 0));
      } else {
        const ratios = names.filter((g) => g !== largest).map((g) => rate(g).selectionRate / base);
        expect(report.minDisparateImpactRatio).toBeCloseTo(Math.min(...ratios), 12);
        expect(report.passed).toBe(Math.min(...ratios) >= (declared.minDisparateImpactRatio ?? 0.8));
      }
    }

    expect(evaluation.behaviour!.results.map((r) => [r.name, r.kind, r.feature, r.rowsTested])).toEqual([
      [behaviour[0]!.name, 'directional', 'wind', data.rows - cut],
      [behaviour[1]!.name, 'invariance', 'weather', data.rows - cut],
    ]);
    for (const r of evaluation.behaviour!.results) expect(r.passed).toBe(r.violations === 0);

    expect(evaluation.importance).toMatchObject({ metric: 'roc-auc', rows: data.rows - cut, nRepeats: 5, seed: 0 });
    expect(evaluation.importance!.baseline).toBeCloseTo(expected.rocAuc!, 12);
    expect(evaluation.importance!.features.map((f) => f.feature).sort()).toEqual([...RAIN_COLUMNS.numeric, 'weather'].sort());

    const { roc, calibration } = evaluation.curves;
    expect(roc!.fpr[0]).toBe(0);
    expect(roc!.tpr.at(-1)).toBe(1);
    expect(calibration!.counts.reduce((a, b) => a + b, 0)).toBe(data.rows - cut);

    if (!sklearnMissing) {
      const reference = sklearnMetrics('binary-classification', labels, scores);
      for (const [metric, value] of Object.entries(reference)) expect(evaluation.metrics[metric], `sklearn ${metric}`).toBeCloseTo(value, 9);
    }
  });

  it('profiles the features over the training rows and the predictions over the validation rows', async () => {
    const model = trained['gradient-boosting']!;
    const reference = await profileTabularReference(artifacts, model, set, { testFraction: TEST_FRACTION }, cpu);
    const evaluation = evaluated['gradient-boosting']!;
    expect(reference).toMatchObject({
      features: [...RAIN_COLUMNS.numeric, 'weather'],
      emptyFeatures: [],
      trainRows: model.trainRows,
      validationRows: model.validationRows,
      task: 'binary-classification',
      primaryMetric: 'rocAuc',
      validationMetric: evaluation.metrics.rocAuc,
      validationRocAuc: evaluation.metrics.rocAuc,
    });
    const profile = parseReferenceProfile(await artifacts.get(reference.uri), reference.uri);
    expect(profile.validation).toEqual({
      rows: evaluation.rows,
      positives: evaluation.validation.positives,
      rocAuc: evaluation.metrics.rocAuc,
      logLoss: evaluation.metrics.logLoss,
      from: evaluation.validation.from,
      to: evaluation.validation.to,
      task: 'binary-classification',
      primaryMetric: 'rocAuc',
      metrics: evaluation.metrics,
    });
    const cut = model.trainRows;
    const wind = profile.features.wind!;
    expect(wind.kind === 'numeric' && wind.rows).toBe(cut);
    expect(wind.kind === 'numeric' && wind.mean).toBeCloseTo(data.numeric.wind!.subarray(0, cut).reduce((a, b) => a + b, 0) / cut, 12);
    const weather = profile.features.weather!;
    expect(weather.kind === 'categorical' && weather.counts.snow).toBe(data.categorical.weather!.slice(0, cut).filter((w) => w === 'snow').length);
    const { scores } = await heldOutPredictions(model, data);
    expect(profile.prediction.kind === 'numeric' && profile.prediction.mean).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 12);
    expect(profile.training).toEqual({ rows: cut, to: model.validatedFrom });
    // Another primary metric, declared.
    const byBrier = await profileTabularReference(artifacts, model, set, { testFraction: TEST_FRACTION, primaryMetric: 'brier' }, cpu);
    expect(byBrier).toMatchObject({ primaryMetric: 'brier', validationMetric: evaluation.metrics.brier });

    // What registering stores: the registry's card sections take the evaluation and the reference as they are.
    const sections = { validation: evaluation.validation, fairnessReports: evaluation.fairness, behaviour: evaluation.behaviour!, curves: evaluation.curves, reference };
    expect(checkVersionMetadata(JSON.parse(JSON.stringify(sections)))).toEqual(JSON.parse(JSON.stringify(sections)));
  });

  it('splits by time: the held-out rows never reach the model, the training rows do', async () => {
    const cut = heldOutFrom(data);
    const retrain = async (labels: Float64Array) => {
      const table = new Table({
        date: makeVector(data.times),
        ...Object.fromEntries(Object.entries(data.numeric).map(([k, v]) => [k, makeVector(v)])),
        weather: vectorFromArray(data.categorical.weather!, new Utf8()),
        rainTomorrow: makeVector(Int8Array.from(labels)),
      });
      const { uri } = await artifacts.put(tableToIPC(table, 'file'));
      return trainTabularModel(artifacts, { ...set, uri, columns: { ...RAIN_COLUMNS, keys: [] } }, { algorithm: 'gradient-boosting', params: BOOSTING, testFraction: TEST_FRACTION }, cpu);
    };
    const original = await retrain(data.labels);
    // Same bytes as from the Arrow timestamp and dictionary columns: the reader gives the same frame.
    expect(original.modelSha256).toBe(trained['gradient-boosting']!.modelSha256);
    const heldOutFlipped = await retrain(data.labels.map((y, i) => (i >= cut ? 1 - y : y)));
    expect(heldOutFlipped.modelSha256).toBe(original.modelSha256);
    const trainingFlipped = await retrain(data.labels.map((y, i) => (i === cut - 1 ? 1 - y : y)));
    expect(trainingFlipped.modelSha256).not.toBe(original.modelSha256);
  });

  it('is deterministic: the same rows, parameters and seed give the same model bytes', async () => {
    for (const algorithm of ['linear', 'gradient-boosting'] as const) {
      const again = await trainTabularModel(artifacts, set, { algorithm, params: BOOSTING, testFraction: TEST_FRACTION }, cpu);
      expect(again.modelSha256).toBe(trained[algorithm]!.modelSha256);
      expect(again.specUri).toBe(trained[algorithm]!.specUri);
    }
    const balanced = await trainTabularModel(artifacts, set, { algorithm: 'linear', params: { C: 0.5, classWeight: 'balanced' }, testFraction: TEST_FRACTION }, cpu);
    expect(balanced.modelSha256).not.toBe(trained.linear!.modelSha256);
    const spec = parseModel(new TextDecoder().decode(await artifacts.get(balanced.specUri)));
    expect(spec.kind === 'logistic-regression' && spec.params).toMatchObject({ C: 0.5 });
  });
});

describe('regression: the day\'s maximum temperature in Seattle and New York', () => {
  const data = temperatures();
  let set: TrainingSetRef;
  const trained: Record<string, TrainedTabularModel> = {};

  beforeAll(async () => {
    set = await store(data, 'regression', TEMPERATURE_COLUMNS);
  });

  it.each(['linear', 'gradient-boosting'] as const)('trains, exports and evaluates %s', async (algorithm) => {
    const model = await trainTabularModel(artifacts, set, { algorithm, params: BOOSTING, testFraction: TEST_FRACTION }, cpu);
    trained[algorithm] = model;
    const cut = heldOutFrom(data);
    expect(model).toMatchObject({ task: 'regression', algorithm, trainRows: cut, validationRows: data.rows - cut, validatedFrom: iso(data.times[cut]!), signature: { outputs: ['variable'] } });
    // 80% of the rows ends between New York and Seattle on one day: that day is held out whole.
    expect(cut).toBe(Math.floor(data.rows * 0.8) - 1);
    expect(Date.parse(model.trainTo)).toBe(Date.parse(model.validatedFrom) - 86_400_000);
    expect(model.onnxMaxAbsDiff).toBeLessThan(1e-4);
    const spec = parseModel(new TextDecoder().decode(await artifacts.get(model.specUri)));
    expect(spec.kind).toBe(algorithm === 'linear' ? 'linear-regression' : 'gradient-boosting');
    if (spec.kind === 'linear-regression') expect(spec.params.alpha).toBe(1);

    const evaluation = await evaluateTabularModel(
      artifacts,
      model,
      set,
      {
        testFraction: TEST_FRACTION,
        fairness: [{ column: 'location', maxErrorRatio: 1.3 }],
        behaviour: [{ kind: 'directional', name: 'a warmer night means a warmer day', feature: 'temp_min', delta: 3, direction: 'increase' }],
      },
      cpu,
    );
    const { labels, scores } = await heldOutPredictions(model, data);
    expect(Object.keys(evaluation.metrics)).toEqual(['rmse', 'mae', 'r2']);
    const expected = expectedMetrics('regression', labels, scores);
    for (const [metric, value] of Object.entries(expected)) expect(evaluation.metrics[metric], metric).toBeCloseTo(value, 10);
    // The minimum temperature explains most of the maximum, not all of it.
    expect(evaluation.metrics.r2).toBeGreaterThan(0.75);
    expect(evaluation.metrics.rmse).toBeLessThan(5);
    expect(evaluation.validation.positives).toBeUndefined();

    const report = evaluation.fairness[0] as RegressionFairness;
    const groupError = (city: string) => {
      const rows = data.categorical.location!.slice(cut).flatMap((v, i) => (v === city ? [i] : []));
      return rmse(Float64Array.from(rows, (i) => labels[i]!), Float64Array.from(rows, (i) => scores[i]!));
    };
    expect(report).toMatchObject({ task: 'regression', column: 'location', maxAllowedErrorRatio: 1.3 });
    expect(report.overall.rmse).toBeCloseTo(expected.rmse!, 10);
    expect(report.groups.map((g) => g.group).sort()).toEqual(['New York', 'Seattle']);
    for (const g of report.groups) {
      expect(g.rmse).toBeCloseTo(groupError(g.group), 10);
      expect(g.errorRatio).toBeCloseTo(groupError(g.group) / expected.rmse!, 10);
    }
    const worst = Math.max(groupError('New York'), groupError('Seattle')) / expected.rmse!;
    expect(report.maxErrorRatio).toBeCloseTo(worst, 10);
    expect(report.passed).toBe(worst <= 1.3);

    expect(evaluation.behaviour!.results[0]).toMatchObject({ feature: 'temp_min', rowsTested: data.rows - cut });
    expect(evaluation.importance).toMatchObject({ metric: 'rmse', rows: data.rows - cut });
    expect(evaluation.importance!.baseline).toBeCloseTo(expected.rmse!, 10);
    expect(evaluation.importance!.features[0]!.feature).toBe('temp_min');

    const { residuals, predictedVsActual, roc } = evaluation.curves;
    expect(roc).toBeUndefined();
    const errors = labels.map((y, i) => y - scores[i]!);
    expect(residuals!.mean).toBeCloseTo(errors.reduce((a, b) => a + b, 0) / errors.length, 10);
    expect(residuals!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(data.rows - cut);
    expect(predictedVsActual!.counts.reduce((a, b) => a + b, 0)).toBe(data.rows - cut);
    expect(predictedVsActual!.predicted).toEqual([...predictedVsActual!.predicted].sort((a, b) => a - b));

    if (!sklearnMissing) {
      const reference = sklearnMetrics('regression', labels, scores);
      for (const [metric, value] of Object.entries(reference)) expect(evaluation.metrics[metric], `sklearn ${metric}`).toBeCloseTo(value, 6);
    }

    const reference = await profileTabularReference(artifacts, model, set, { testFraction: TEST_FRACTION }, cpu);
    expect(reference).toMatchObject({ task: 'regression', primaryMetric: 'rmse', validationMetric: evaluation.metrics.rmse, features: [...TEMPERATURE_COLUMNS.numeric, ...TEMPERATURE_COLUMNS.categorical] });
    expect(reference.validationRocAuc).toBeUndefined();
    const profile = parseReferenceProfile(await artifacts.get(reference.uri), reference.uri);
    expect(profile.validation).toMatchObject({ positives: 0, rocAuc: 0, logLoss: 0, task: 'regression', primaryMetric: 'rmse', metrics: evaluation.metrics });
    const sections = JSON.parse(JSON.stringify({ validation: evaluation.validation, fairnessReports: evaluation.fairness, behaviour: evaluation.behaviour, curves: evaluation.curves, reference })) as object;
    expect(checkVersionMetadata(sections)).toEqual(sections);
  });

  it('is deterministic', async () => {
    for (const algorithm of ['linear', 'gradient-boosting'] as const) {
      const again = await trainTabularModel(artifacts, set, { algorithm, params: BOOSTING, testFraction: TEST_FRACTION }, cpu);
      expect(again.modelSha256).toBe(trained[algorithm]!.modelSha256);
    }
  });
});

describe('bad declarations and data are ValidationErrors naming the column or metric', () => {
  const rain = rainTomorrow();
  let rainSet: TrainingSetRef;
  let model: TrainedTabularModel;

  beforeAll(async () => {
    rainSet = await store(rain, 'binary-classification', RAIN_COLUMNS);
    model = await trainTabularModel(artifacts, rainSet, { algorithm: 'linear', testFraction: TEST_FRACTION }, cpu);
  });

  const train = (set: TrainingSetRef, options: Partial<Parameters<typeof trainTabularModel>[2]> = {}) =>
    trainTabularModel(artifacts, set, { algorithm: 'linear', testFraction: TEST_FRACTION, ...options }, cpu);

  it('a numeric feature holding text', async () => {
    const error = await rejection(train({ ...rainSet, columns: { ...RAIN_COLUMNS, numeric: ['wind', 'season'], categorical: [] } }));
    expect(error.message).toMatch(/^Numeric feature "season" of training set artifact:\/\/sha256\/[0-9a-f]{64} holds text \("winter" at row 0\); declare it categorical/);
    expect(error.details).toMatchObject({ column: 'season' });
  });

  it('a regression label that is not numeric', async () => {
    const error = await rejection(train({ ...rainSet, task: 'regression', columns: { ...RAIN_COLUMNS, label: 'season' } }));
    expect(error.message).toMatch(/^Label "season" of training set \S+ holds text \("winter" at row 0\); a regression label must be numeric/);
  });

  it('a classification label that is not 0/1', async () => {
    const error = await rejection(train({ ...rainSet, columns: { ...RAIN_COLUMNS, label: 'temp_max', numeric: ['wind'] } }));
    expect(error.message).toMatch(/^Label "temp_max" of training set \S+ is 12\.8 at row 0; a binary-classification label is 0 or 1\. Give the label definition a transform/);
  });

  it('a classification label with one class in the training window, naming its dates', async () => {
    // No day of 2014 in Seattle was drizzly: "drizzle tomorrow" has no positive before 2015.
    const drizzle = rainTomorrow({ from: '2014-01-01', to: '2015-03-31' }, (next) => next.weather === 'drizzle');
    const set = await store(drizzle, 'binary-classification', RAIN_COLUMNS);
    const error = await rejection(train(set));
    const cut = heldOutFrom(drizzle);
    expect(error.message).toBe(
      `Label "rainTomorrow" of training set ${set.uri} has only class 0 in the training window (2014-01-01T00:00:00.000Z to ${iso(drizzle.times[cut - 1]!)}, ${cut} rows): a classifier needs examples of both. Widen the window or change the label's transform.`,
    );
    // Over 2013-2014 it trains, but the validation window (late 2014) has no drizzle either.
    const late = rainTomorrow({ from: '2013-01-01', to: '2014-12-30' }, (next) => next.weather === 'drizzle');
    const lateSet = await store(late, 'binary-classification', RAIN_COLUMNS);
    const lateModel = await train(lateSet);
    const evaluation = await rejection(evaluateTabularModel(artifacts, lateModel, lateSet, { testFraction: TEST_FRACTION }, cpu));
    expect(evaluation.message).toMatch(/^Label "rainTomorrow" of training set \S+ has only class 0 in the validation window \(2014-\d\d-\d\dT00:00:00.000Z to 2014-12-30T00:00:00.000Z, \d+ rows\)/);
  });

  it('a missing column, listing the columns there are', async () => {
    const error = await rejection(train({ ...rainSet, columns: { ...RAIN_COLUMNS, numeric: ['wind', 'humidity'] } }));
    expect(error.message).toBe(
      `Training set ${rainSet.uri} has no column "humidity" (declared as a numeric feature); its columns are "date", "precipitation", "temp_max", "temp_min", "wind", "weather", "city", "season", "rainTomorrow". Declare one of them, or rebuild the training set with it.`,
    );
    const label = await rejection(train({ ...rainSet, columns: { ...RAIN_COLUMNS, label: 'rain' } }));
    expect(label.message).toMatch(/has no column "rain" \(declared as the label\)/);
  });

  it('rows out of time order', async () => {
    const set = await store(temperatures(true), 'regression', TEMPERATURE_COLUMNS);
    const error = await rejection(train(set));
    expect(error.message).toMatch(/^Rows of training set \S+ are not in time order: row 1461 \(2012-01-01T00:00:00.000Z\) comes after row 1460 \(2015-12-31T00:00:00.000Z\) in column "date"/);
  });

  it('a fairness group column with a single group', async () => {
    const error = await rejection(evaluateTabularModel(artifacts, model, rainSet, { testFraction: TEST_FRACTION, fairness: [{ column: 'city' }] }, cpu));
    expect(error.message).toMatch(/^Fairness group column "city" of training set \S+ has a single group \("Seattle"\) in the validation window \(2015-03-14T00:00:00.000Z to 2015-12-30T00:00:00.000Z\)/);
    const missing = await rejection(evaluateTabularModel(artifacts, model, rainSet, { testFraction: TEST_FRACTION, fairness: [{ column: 'county' }] }, cpu));
    expect(missing.message).toMatch(/has no column "county" \(declared as a fairness group column\)/);
  });

  it('a behavioural check on a feature the model does not take', async () => {
    const error = await rejection(
      evaluateTabularModel(artifacts, model, rainSet, { testFraction: TEST_FRACTION, behaviour: [{ kind: 'directional', name: 'later', feature: 'season', delta: 1, direction: 'increase' }] }, cpu),
    );
    expect(error.message).toBe('Behavioural check "later" names feature "season", which the model does not take; its features are "precipitation", "temp_max", "temp_min", "wind", "weather".');
  });

  it('a primary metric the task does not have, a task mismatch, a bad testFraction or parameter', async () => {
    const metric = await rejection(profileTabularReference(artifacts, model, rainSet, { testFraction: TEST_FRACTION, primaryMetric: 'rmse' }, cpu));
    expect(metric.message).toBe('Primary metric "rmse" is not a metric of binary-classification; its metrics are rocAuc, prAuc, logLoss, brier, accuracy, precision, recall, f1.');
    const mismatch = await rejection(evaluateTabularModel(artifacts, model, { ...rainSet, task: 'regression' }, { testFraction: TEST_FRACTION }, cpu));
    expect(mismatch.message).toMatch(/^The model is a binary-classification model but training set \S+ is for regression/);
    expect((await rejection(train(rainSet, { testFraction: 1 }))).message).toBe('testFraction must be between 0 and 1 (exclusive), got 1.');
    expect((await rejection(train(rainSet, { algorithm: 'gradient-boosting', params: { maxIter: 2.5 } }))).message).toBe('Parameter maxIter must be a positive whole number, got 2.5.');
  });
});

describe('the steps, run as the worker runs them (in a CPU thread)', () => {
  let services: TestServices;
  let threaded: CpuPool;

  beforeAll(async () => {
    threaded = new CpuPool({ threads: 1 });
    // A migrated PGlite: a few seconds, more while other tests load the machine.
    services = await createTestServices();
  }, 120_000);
  afterAll(async () => {
    await threaded?.close();
    await services?.close();
  });

  it('trainModel -> evaluateModel -> chooseModel -> profileReference', { timeout: 120_000 }, async () => {
    const run = { services: { ...services, cpuPool: threaded } };
    const data = temperatures();
    const { uri, sha256 } = await services.artifacts.put(data.bytes);
    // A buildTrainingSet output (TrainingSetSummary), extra keys and all.
    const trainingSet = { uri, sha256, bytes: data.bytes.length, rows: data.rows, task: 'regression' as const, columns: TEMPERATURE_COLUMNS, positives: null, from: iso(data.times[0]!), to: iso(data.times.at(-1)!), featureService: 'daily_weather', featureServiceVersion: 1, label: 'temp_max' };
    const progress: unknown[] = [];
    const candidates: Candidate[] = [];
    for (const algorithm of ['linear', 'gradient-boosting'] as const) {
      const model = await runStep(trainModel, { trainingSet, algorithm, params: BOOSTING, testFraction: TEST_FRACTION }, { ...run, onProgress: (p) => progress.push(p) });
      const evaluation = await runStep(evaluateModel, { model, trainingSet, testFraction: TEST_FRACTION, fairness: [{ column: 'location' }], importance: false }, run);
      expect(evaluation.importance).toBeNull();
      expect(evaluation.behaviour).toBeNull();
      candidates.push({ model, evaluation });
    }
    expect(progress).toContainEqual({ phase: 'training', algorithm: 'gradient-boosting', trees: 40, of: 40 });
    // The thread gives the bytes the inline pool gives.
    const onCaller = await trainTabularModel(services.artifacts, trainingSet, { algorithm: 'gradient-boosting', params: BOOSTING, testFraction: TEST_FRACTION }, cpu);
    expect(candidates[1]!.model.modelSha256).toBe(onCaller.modelSha256);

    const chosen = await runStep(chooseModel, { task: 'regression', candidates }, run);
    const rmses = candidates.map((c) => c.evaluation.metrics.rmse!);
    const best = rmses[0]! <= rmses[1]! ? 0 : 1;
    expect(chosen.model).toEqual(candidates[best]!.model);
    expect(chosen.metrics).toEqual(candidates[best]!.evaluation.metrics);
    expect(chosen.ranking).toEqual(
      [0, 1].sort((a, b) => rmses[a]! - rmses[b]!).map((i) => ({ algorithm: candidates[i]!.model.algorithm, metric: 'rmse', value: rmses[i] })),
    );
    const byR2 = await runStep(chooseModel, { task: 'regression', selectBy: 'r2', candidates }, run);
    expect(byR2.ranking[0]!.value).toBe(Math.max(...candidates.map((c) => c.evaluation.metrics.r2!)));

    const refused = await rejection(runStep(chooseModel, { task: 'regression', selectBy: 'rocAuc', candidates }, run));
    expect(refused.message).toBe('selectBy "rocAuc" is not a metric of regression; its metrics are rmse, mae, r2.');

    const reference = await runStep(profileReference, { model: chosen.model, trainingSet, testFraction: TEST_FRACTION }, run);
    expect(reference).toMatchObject({ task: 'regression', primaryMetric: 'rmse', validationMetric: chosen.metrics.rmse, trainRows: chosen.model.trainRows });

    // Lineage: the training set in, the model and its JSON out.
    const lineage = await trainModel.declaration.lineage!(
      { trainingSet, algorithm: 'linear', params: {}, testFraction: TEST_FRACTION },
      { output: candidates[0]!.model },
      services,
    );
    expect(lineage.inputs!.map((d) => d.name)).toEqual([uri]);
    expect(lineage.outputs!.map((d) => d.name)).toEqual([candidates[0]!.model.modelUri, candidates[0]!.model.specUri]);

    // A refusal in the thread comes back as the ValidationError it is.
    const missing = await rejection(runStep(evaluateModel, { model: chosen.model, trainingSet, fairness: [{ column: 'weather' }, { column: 'humidity' }] }, run));
    expect(missing.message).toMatch(/^Training set \S+ has no column "humidity" \(declared as a fairness group column\)/);
    // Many groups (each day of the window is one) are reported with the smallest pooled.
    const pooled = await runStep(evaluateModel, { model: chosen.model, trainingSet, fairness: [{ column: 'date' }], importance: false }, run);
    const groups = (pooled.fairness[0] as RegressionFairness).groups;
    expect(groups).toHaveLength(100);
    expect(groups.map((g) => g.group)).toContain('(other)');
    expect(groups.reduce((n, g) => n + g.size, 0)).toBe(chosen.model.validationRows);

    // A misspelled parameter is refused by the step's schema, naming it.
    const typo = await rejection(runStep(trainModel, { trainingSet, algorithm: 'linear', params: { maxIters: 10 } as never }, run));
    expect(typo.message).toMatch(/field "params": Unrecognized key: "maxIters"/);
  });
});
