/**
 * The generic release-side steps on real models (vega-datasets' Seattle weather, "rain tomorrow"),
 * run as the worker runs them (runStep) on a temporary database: registerModel's card from the
 * declarations, validateModel's criteria on any recorded metric, and compareModels' champion and
 * challenger on the rows neither trained on, its figures recomputed here from the ONNX files fed
 * straight from the CSV.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Table, TimestampMillisecond, Utf8, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parse } from 'csv-parse/sync';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { trainingSetSummarySchema } from '../../../pipelines/steps/build-training-set.js';
import { compareModels } from '../../../pipelines/steps/compare-models.js';
import { evaluateModel } from '../../../pipelines/steps/evaluate-model.js';
import { profileReference } from '../../../pipelines/steps/profile-reference.js';
import { registerModel, type RegisterModelInput } from '../../../pipelines/steps/register-model.js';
import { trainModel, type TrainedModel } from '../../../pipelines/steps/train-model.js';
import { validateModel } from '../../../pipelines/steps/validate-model.js';
import { entity, featureService, featureView } from '../../../src/features/definitions.js';
import { rocAuc } from '../../../src/ml/metrics/index.js';
import type { TabularColumns } from '../../../src/ml/tabular/task.js';
import { CpuPool } from '../../../src/platform/cpu-pool.js';
import { setAlias } from '../../../src/registry/aliases.js';
import { transitionModelVersion } from '../../../src/registry/lifecycle.js';
import { requireVersion } from '../../../src/registry/lookup.js';
import { readVersionMetadata } from '../../../src/registry/version-metadata.js';
import { createTestServices, runStep, type TestServices } from '../../../src/sdk/testing.js';

const station = entity({ name: 'station', joinKeys: { station: 'string' } });
const daily = featureView({
  name: 'daily_weather',
  entities: [station],
  schema: {
    precipitation: { type: 'float64', description: 'Precipitation that day (mm).' },
    temp_max: { type: 'float64', description: 'Highest temperature (°C).' },
    wind: { type: 'float64', description: 'Mean wind speed (m/s).', tags: { sensitivity: 'internal' } },
    weather: { type: 'string', description: 'The day summarized.' },
  },
  eventTimestamp: 'observed_at',
  source: { kind: 'parquet', path: 'weather.parquet' },
  owner: 'weather-team',
  description: 'Daily weather.',
  tags: { sensitivity: 'public' },
});
const forecast = featureService({ name: 'rain_forecast', version: 1, features: [daily] });

/** A buildTrainingSet output. */
type TrainingSetSummary = z.output<typeof trainingSetSummarySchema>;

const COLUMNS = {
  label: 'rain_tomorrow',
  time: 'observed_at',
  numeric: ['daily_weather__precipitation', 'daily_weather__temp_max', 'daily_weather__wind'],
  categorical: ['daily_weather__weather'],
  keys: ['station'],
} satisfies TabularColumns;

type Row = Record<string, string>;
const ALL = parse(fs.readFileSync(path.resolve('node_modules/vega-datasets/data/seattle-weather.csv'), 'utf8'), { columns: true }) as Row[];

/** Days up to `to` (inclusive), each labelled with whether the next day has precipitation, as a training set table. */
function rainSet(to: string) {
  const days = ALL.slice(0, -1).map((row, i) => ({ row, rain: Number(ALL[i + 1]!.precipitation) > 0 ? 1 : 0 })).filter((d) => d.row.date! <= to);
  const times = days.map((d) => Date.parse(d.row.date!));
  const table = new Table({
    observed_at: vectorFromArray(times, new TimestampMillisecond()),
    station: vectorFromArray(days.map(() => 'SEA'), new Utf8()),
    daily_weather__precipitation: makeVector(Float64Array.from(days, (d) => Number(d.row.precipitation))),
    daily_weather__temp_max: makeVector(Float64Array.from(days, (d) => Number(d.row.temp_max))),
    daily_weather__wind: makeVector(Float64Array.from(days, (d) => Number(d.row.wind))),
    daily_weather__weather: vectorFromArray(days.map((d) => d.row.weather!), new Utf8()),
    rain_tomorrow: makeVector(Int8Array.from(days, (d) => d.rain)),
  });
  return { days, times, bytes: tableToIPC(table, 'file') };
}

let services: TestServices;
const card = { purpose: 'Tell whether it rains tomorrow.', owner: 'weather-team', intendedUse: 'Planning outdoor work.', limitations: 'One station, 2012-2015.' };
const trained: Array<{ set: TrainingSetSummary; model: TrainedModel; input: RegisterModelInput; days: ReturnType<typeof rainSet>['days']; times: number[] }> = [];

/** Trains, evaluates, profiles: what train-<model> hands registerModel. */
async function candidate(to: string) {
  const { days, times, bytes } = rainSet(to);
  const stored = await services.artifacts.put(bytes);
  const set: TrainingSetSummary = {
    uri: stored.uri,
    sha256: stored.sha256,
    bytes: bytes.byteLength,
    rows: days.length,
    task: 'binary-classification',
    columns: COLUMNS,
    positives: days.filter((d) => d.rain).length,
    from: new Date(times[0]!).toISOString(),
    to: new Date(times.at(-1)!).toISOString(),
    featureService: 'rain_forecast',
    featureServiceVersion: 1,
    label: 'rain tomorrow',
  };
  const model = await runStep(trainModel, { trainingSet: set, algorithm: 'linear', params: { C: 1 }, testFraction: 0.2 }, { services });
  const evaluation = await runStep(
    evaluateModel,
    {
      model,
      trainingSet: set,
      testFraction: 0.2,
      importance: false,
      fairness: [{ column: 'daily_weather__weather', minDisparateImpactRatio: 0.5 }],
      behaviour: [{ kind: 'directional', name: 'a wetter day never lowers the chance of rain', feature: 'daily_weather__precipitation', delta: 10, direction: 'non-decreasing', tolerance: 0.05 }],
    },
    { services },
  );
  const reference = await runStep(profileReference, { model, trainingSet: set, testFraction: 0.2 }, { services });
  const input: RegisterModelInput = { modelName: 'rain-tomorrow', model, trainingSet: set, evaluation, reference, card, params: { to }, ranking: [{ algorithm: 'linear', metric: 'rocAuc', value: evaluation.metrics.rocAuc! }] };
  trained.push({ set, model, input, days, times });
}

beforeAll(async () => {
  services = await createTestServices();
  services.features = [station, daily, forecast];
  services.cpuPool = new CpuPool({ threads: 0 });
  await candidate('2014-06-30');
  await candidate('2015-12-30');
}, 120_000);

afterAll(async () => {
  await services?.close();
});

/** The ONNX model's P(rain) for some days, fed from the CSV's values. */
async function probabilities(model: TrainedModel, days: Array<{ row: Row }>): Promise<Float64Array> {
  const session = await InferenceSession.create(await services.artifacts.get(model.modelUri));
  const n = days.length;
  const float = (key: string) => new Tensor('float32', Float32Array.from(days, (d) => Number(d.row[key])), [n, 1]);
  const feeds: Record<string, Tensor> = {
    daily_weather__precipitation: float('precipitation'),
    daily_weather__temp_max: float('temp_max'),
    daily_weather__wind: float('wind'),
    daily_weather__weather: new Tensor('string', days.map((d) => d.row.weather!), [n, 1]),
  };
  const out = await session.run(feeds);
  await session.release();
  const p = out.probabilities!.data as Float32Array;
  return Float64Array.from({ length: n }, (_, i) => p[2 * i + 1]!);
}

describe('registerModel', () => {
  it('registers each candidate with its metrics and a card from the declarations, once', async () => {
    const [first, second] = trained;
    const v1 = await runStep(registerModel, first!.input, { services, runId: 'train-1' });
    expect(v1).toMatchObject({ modelName: 'rain-tomorrow', version: 1, task: 'binary-classification', algorithm: 'linear', created: true });
    // A retry of the same step finds the version (and the experiment run) it made.
    expect(await runStep(registerModel, first!.input, { services, runId: 'train-1' })).toEqual({ ...v1, created: false });
    expect((await runStep(registerModel, second!.input, { services, runId: 'train-2' })).version).toBe(2);

    const version = await requireVersion(services.db, 'rain-tomorrow', 1);
    expect(version.metrics).toEqual(first!.input.evaluation.metrics);
    const { metadata, unreadable } = readVersionMetadata(version.metadata);
    expect(unreadable).toEqual([]);
    expect(metadata).toMatchObject({ ...card, training: { from: first!.model.trainFrom, to: first!.model.trainTo, rows: first!.model.trainRows, label: 'rain tomorrow', source: 'feature service rain_forecast v1' } });
    expect(metadata.features).toEqual([
      { name: 'daily_weather__precipitation', type: 'float', description: 'Precipitation that day (mm).', sensitivity: 'public', tags: ['view:daily_weather'] },
      { name: 'daily_weather__temp_max', type: 'float', description: 'Highest temperature (°C).', sensitivity: 'public', tags: ['view:daily_weather'] },
      { name: 'daily_weather__wind', type: 'float', description: 'Mean wind speed (m/s).', sensitivity: 'internal', tags: ['view:daily_weather'] },
      { name: 'daily_weather__weather', type: 'string', description: 'The day summarized.', sensitivity: 'public', tags: ['view:daily_weather'] },
    ]);
    expect(metadata.reference).toMatchObject({ primaryMetric: 'rocAuc', validationMetric: first!.input.evaluation.metrics.rocAuc, task: 'binary-classification' });
    expect(metadata.fairness).toMatchObject({ groupColumn: 'daily_weather__weather' });
    expect(metadata.fairnessReports).toEqual([expect.objectContaining({ task: 'binary-classification', column: 'daily_weather__weather', minAllowedDisparateImpactRatio: 0.5 })]);
    expect(metadata.behaviour?.results.map((r) => r.name)).toEqual(['a wetter day never lowers the chance of rain']);
    expect(metadata.curves?.roc?.fpr.length).toBeGreaterThan(2);
    expect(version.description).toBe('linear binary-classification model trained by the train-rain-tomorrow pipeline.');
  });

  it('refuses a training set whose feature service the project does not define', async () => {
    const input = { ...trained[0]!.input, trainingSet: { ...trained[0]!.set, featureService: 'elsewhere' } };
    await expect(runStep(registerModel, input, { services })).rejects.toThrow(/Feature service "elsewhere" of training set artifact:\/\/sha256\/\w+ is not among the project's feature definitions/);
  });
});

describe('validateModel', () => {
  it('checks criteria on any recorded metric, and a metric the version never recorded is named without touching it', async () => {
    await expect(runStep(validateModel, { modelName: 'rain-tomorrow', version: 1, criteria: [{ metric: 'rmse', max: 4 }], behaviour: 'review' }, { services })).rejects.toThrow(
      'Release criterion on "rmse" cannot be checked: rain-tomorrow v1 recorded no such metric; it recorded accuracy, brier, f1, logLoss, prAuc, precision, recall, rocAuc. Fix the criterion\'s metric.',
    );
    expect((await requireVersion(services.db, 'rain-tomorrow', 1)).status).toBe('registered');
    const metrics = trained[0]!.input.evaluation.metrics;
    const passed = await runStep(validateModel, { modelName: 'rain-tomorrow', version: 1, criteria: [{ metric: 'rocAuc', min: 0.5 }, { metric: 'brier', max: 0.3 }], behaviour: 'review' }, { services });
    expect(passed).toMatchObject({ passed: true, status: 'validated', rocAuc: metrics.rocAuc, checks: 1 });
    expect(passed.criteria).toEqual([
      { metric: 'rocAuc', min: 0.5, value: metrics.rocAuc, passed: true },
      { metric: 'brier', max: 0.3, value: metrics.brier, passed: true },
    ]);
  });

  it('rejects a version below a criterion, with every reason', async () => {
    const auc = trained[1]!.input.evaluation.metrics.rocAuc!;
    await expect(runStep(validateModel, { modelName: 'rain-tomorrow', version: 2, minRocAuc: 0.99, criteria: [{ metric: 'logLoss', max: 0.01 }], behaviour: 'block' }, { services })).rejects.toThrow(
      new RegExp(`^rain-tomorrow v2 is not releasable: logLoss [0-9.]+ is above the release maximum 0\\.01; rocAuc ${auc.toFixed(4)} is below the release minimum 0\\.99`),
    );
    expect((await requireVersion(services.db, 'rain-tomorrow', 2)).status).toBe('rejected');
  });
});

describe('compareModels', () => {
  beforeAll(async () => {
    const { status } = await requireVersion(services.db, 'rain-tomorrow', 1);
    for (const to of [...(status === 'registered' ? ['validated'] : []), 'pending_approval', 'approved']) await transitionModelVersion(services.db, { modelName: 'rain-tomorrow', version: 1, to, actor: 'test', reason: 'test' });
    await setAlias(services.db, { modelName: 'rain-tomorrow', alias: 'champion', version: 1, actor: 'test', reason: 'test', principal: null });
  });

  it('scores champion and challenger on the rows after both training windows, by the primary metric', async () => {
    const [champion, challenger] = trained;
    const result = await runStep(compareModels, { modelName: 'rain-tomorrow', challenger: 2, trainingSet: challenger!.set }, { services });
    // Independently: the challenger's set's days after the challenger's last training day (later than the champion's).
    const after = Date.parse(challenger!.model.trainTo);
    expect(after).toBeGreaterThan(Date.parse(champion!.model.trainTo));
    const unseen = challenger!.days.filter((_, i) => challenger!.times[i]! > after);
    const labels = Float64Array.from(unseen, (d) => d.rain);
    const championAuc = rocAuc(labels, await probabilities(champion!.model, unseen));
    const challengerAuc = rocAuc(labels, await probabilities(challenger!.model, unseen));
    expect(result).toMatchObject({ modelName: 'rain-tomorrow', version: 2, championVersion: 1, metric: 'rocAuc', rows: unseen.length, margin: 0, to: challenger!.set.to });
    expect(result.rows).toBeGreaterThan(250);
    expect(result.from).toBe(new Date(Date.parse(unseen[0]!.row.date!)).toISOString());
    expect(result.champion).toBeCloseTo(championAuc, 6);
    expect(result.challenger).toBeCloseTo(challengerAuc, 6);
    expect(result.improvement).toBeCloseTo(challengerAuc - championAuc, 6);
    expect(result.decision).toBe(challengerAuc > championAuc ? 'promote' : 'keep-champion');
  });

  it('keeps the champion, as a completed decision, when the challenger is not better by the margin, is the champion itself, or there is too little to compare', async () => {
    const set = trained[1]!.set;
    const margin = await runStep(compareModels, { modelName: 'rain-tomorrow', challenger: 2, trainingSet: set, margin: 0.5 }, { services });
    expect(margin).toMatchObject({ decision: 'keep-champion', metric: 'rocAuc' });
    expect(margin.reason).toMatch(/^The challenger is not better by the margin: ROC AUC 0\.\d{4} for challenger v2 vs 0\.\d{4} for champion v1 on \d+ labelled rows from .* which neither trained on \(improvement -?0\.\d{4} < margin 0\.5\)\. The champion stays\.$/);
    const same = await runStep(compareModels, { modelName: 'rain-tomorrow', challenger: 1, trainingSet: set }, { services });
    expect(same).toMatchObject({ decision: 'keep-champion', rows: 0, champion: null, challenger: null, improvement: null, metric: 'rocAuc' });
    expect(same.reason).toBe('The retrain reproduced the champion v1 itself (the same model artifact): there was no new data to learn from. The champion stays.');
    const few = await runStep(compareModels, { modelName: 'rain-tomorrow', challenger: 2, trainingSet: set, minRows: 10_000 }, { services });
    expect(few).toMatchObject({ decision: 'keep-champion', rows: 0, improvement: null });
    expect(few.reason).toMatch(/^Only \d+ labelled rows of the training set come after .*, the end of the later training window; at least 10000 are needed to compare\. The champion stays\.$/);
  });
});
