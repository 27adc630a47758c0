/**
 * The pipelines Steward makes of a declared model (pipelines/models.ts): their steps, inputs,
 * conditions and parameters, and how a project's models become pipelines when it is combined with
 * the built-ins (src/project/define.ts).
 */
import { describe, expect, it } from 'vitest';
import { driftRetrainPipeline, ingestedViews, modelPipelines, releasePipeline, trainPipeline } from '../../../pipelines/models.js';
import { ValidationError } from '../../../src/errors.js';
import { entity, featureService, featureView } from '../../../src/features/definitions.js';
import { expect as expectation, expectationSuite } from '../../../src/governance/expectations.js';
import { validateCatalog, validateParams } from '../../../src/pipeline/catalog.js';
import type { Pipeline } from '../../../src/pipeline/definition.js';
import { defineModel } from '../../../src/pipeline/model.js';
import type { ActivityStepSpec, ApprovalStepSpec, DeploymentStepSpec, PipelineStepSpec, StepSpec } from '../../../src/pipeline/spec.js';
import { combineProjects, defineProject } from '../../../src/project/define.js';

const station = entity({ name: 'station', joinKeys: { station: 'string' } });
const daily = featureView({
  name: 'daily_weather',
  entities: [station],
  schema: {
    precipitation: { type: 'float64', description: 'mm' },
    temp_max: { type: 'float64', description: '°C' },
    weather: { type: 'string', description: 'summary' },
  },
  eventTimestamp: 'observed_at',
  source: { kind: 'parquet', path: 'weather.parquet' },
  owner: 'weather-team',
  description: 'Daily weather.',
  tags: { sensitivity: 'public' },
});
const forecast = featureService({ name: 'rain_forecast', version: 1, features: [daily] });
const suite = expectationSuite({ name: 'daily weather', dataset: 'feature_view:daily_weather', table: 'fv_daily_weather', expectations: [expectation.rowCount({ min: 1 })] });

const rain = defineModel({
  name: 'rain-tomorrow',
  task: 'binary-classification',
  features: forecast,
  label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } },
  candidates: [{ algorithm: 'linear', C: 0.5 }, { algorithm: 'gradient-boosting', maxIter: 60, learningRate: 0.1 }],
  fairness: [{ column: 'weather', minDisparateImpactRatio: 0.7 }],
  behaviour: [{ kind: 'directional', name: 'wetter today', feature: 'precipitation', delta: 10, direction: 'non-decreasing', tolerance: 0.05 }],
  release: [{ metric: 'rocAuc', min: 0.6 }, { metric: 'brier', max: 0.25 }],
  card: { purpose: 'Rain tomorrow?', owner: 'weather-team', intendedUse: 'Planning.', limitations: 'One station.' },
  approvals: { technical: 1, domain: 1 },
  monitoring: { window: '14d', maxDriftedShare: 0.3, seasonalFeatures: ['temp_max'] },
});

const rainfall = defineModel({
  name: 'rainfall',
  task: 'regression',
  features: forecast,
  label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d' },
  candidates: [{ algorithm: 'gradient-boosting' }],
  release: [{ metric: 'rmse', max: 4 }],
  card: { purpose: 'How much rain tomorrow?', owner: 'weather-team' },
  ingest: [],
});

const step = <S extends StepSpec = ActivityStepSpec>(pipeline: Pipeline, name: string): S => {
  const found = pipeline.spec.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name} in ${pipeline.name}: ${pipeline.spec.steps.map((s) => s.name).join(', ')}`);
  return found as S;
};
const ref = (step: string, ...path: string[]) => ({ $output: { step, path } });
const param = (name: string) => ({ $param: name });

describe('train-<model>', () => {
  const train = trainPipeline(rain, { expectations: [suite] });

  it('applies the definitions, ingests and checks the file views, builds the set, trains and evaluates each candidate in parallel, chooses, profiles and registers', () => {
    expect(train.name).toBe('train-rain-tomorrow');
    expect(train.spec.steps.map((s) => [s.name, s.kind === 'activity' ? s.uses : s.kind, s.after])).toEqual([
      ['applyFeatures', 'applyFeatures', []],
      ['ingestDailyWeather', 'ingestFile', ['applyFeatures']],
      ['checkDailyWeather', 'checkExpectations', ['ingestDailyWeather']],
      ['trainingSet', 'buildTrainingSet', ['applyFeatures', 'ingestDailyWeather', 'checkDailyWeather']],
      ['trainLinear', 'trainModel', ['trainingSet']],
      ['evaluateLinear', 'evaluateModel', ['trainLinear', 'trainingSet']],
      ['trainGradientBoosting', 'trainModel', ['trainingSet']],
      ['evaluateGradientBoosting', 'evaluateModel', ['trainGradientBoosting', 'trainingSet']],
      ['choose', 'chooseModel', ['trainLinear', 'evaluateLinear', 'trainGradientBoosting', 'evaluateGradientBoosting']],
      ['reference', 'profileReference', ['choose', 'trainingSet']],
      ['register', 'registerModel', ['choose', 'trainingSet', 'reference', 'ingestDailyWeather']],
    ]);
    expect(train.steps.map((s) => s.name).sort()).toEqual(
      ['applyFeatures', 'buildTrainingSet', 'checkExpectations', 'chooseModel', 'evaluateModel', 'ingestFile', 'profileReference', 'registerModel', 'trainModel'].sort(),
    );
  });

  it('passes the declarations into the steps', () => {
    expect(step(train, 'checkDailyWeather').input).toEqual({ dataset: 'daily_weather', ingestionId: ref('ingestDailyWeather', 'ingestionId') });
    expect(step(train, 'trainingSet').input).toEqual({
      service: 'rain_forecast',
      label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } },
      task: 'binary-classification',
      from: param('from'),
      to: param('to'),
      maxRows: param('maxRows'),
      model: 'rain-tomorrow',
    });
    expect(step(train, 'trainLinear').input).toEqual({ trainingSet: ref('trainingSet'), algorithm: 'linear', params: { C: 0.5 }, testFraction: param('testFraction') });
    expect(step(train, 'trainGradientBoosting').input).toMatchObject({ algorithm: 'gradient-boosting', params: { maxIter: 60, learningRate: 0.1 } });
    expect(step(train, 'evaluateLinear').input).toEqual({
      model: ref('trainLinear'),
      trainingSet: ref('trainingSet'),
      testFraction: param('testFraction'),
      // Declared by plain name, passed as the training set's columns.
      fairness: [{ column: 'daily_weather__weather', minDisparateImpactRatio: 0.7 }],
      behaviour: [{ kind: 'directional', name: 'wetter today', feature: 'daily_weather__precipitation', delta: 10, direction: 'non-decreasing', tolerance: 0.05 }],
    });
    expect(step(train, 'choose').input).toEqual({
      task: 'binary-classification',
      selectBy: 'rocAuc',
      candidates: [
        { model: ref('trainLinear'), evaluation: ref('evaluateLinear') },
        { model: ref('trainGradientBoosting'), evaluation: ref('evaluateGradientBoosting') },
      ],
    });
    expect(step(train, 'register').input).toMatchObject({
      modelName: 'rain-tomorrow',
      model: ref('choose', 'model'),
      evaluation: ref('choose', 'evaluation'),
      reference: ref('reference'),
      card: { purpose: 'Rain tomorrow?', owner: 'weather-team', intendedUse: 'Planning.', limitations: 'One station.' },
      ingestionIds: [ref('ingestDailyWeather', 'ingestionId')],
    });
  });

  it('takes an optional window and the held-out share as parameters', () => {
    expect(validateParams(train, {})).toEqual({ testFraction: 0.2 });
    expect(validateParams(train, { to: '2015-06-01', maxRows: '500', testFraction: '0.3' })).toEqual({ to: '2015-06-01', maxRows: 500, testFraction: 0.3 });
    expect(() => validateParams(train, { testFraction: '1' })).toThrow(ValidationError);
  });

  it('ingests only what is declared, and nothing for views fed by a pipeline', () => {
    expect(ingestedViews(rain)).toEqual(['daily_weather']);
    expect(ingestedViews(rainfall)).toEqual([]);
    const fed = featureView({ ...daily, name: 'fed_weather', entities: [station], schema: { rain: { type: 'float64', description: 'mm' } }, source: { kind: 'pipeline', name: 'load' } } as never);
    const model = defineModel({ ...rain, name: 'fed', features: featureService({ name: 'fed', version: 1, features: [fed] }), fairness: [], behaviour: [], monitoring: {}, label: { kind: 'future', view: 'fed_weather', feature: 'rain', horizon: '1d', transform: { gt: 0 } } });
    expect(ingestedViews(model)).toEqual([]);
    // Without a suite for the view, it is ingested but not checked.
    expect(trainPipeline(rain).spec.steps.map((s) => s.name).slice(0, 3)).toEqual(['applyFeatures', 'ingestDailyWeather', 'trainingSet']);
    expect(trainPipeline(rainfall).spec.steps.map((s) => s.name)).toEqual(['applyFeatures', 'trainingSet', 'trainGradientBoosting', 'evaluateGradientBoosting', 'choose', 'reference', 'register']);
  });
});

describe('release-<model>', () => {
  const release = releasePipeline(rain);

  it('validates against the declared criteria, waits for the declared roles, promotes and deploys', () => {
    expect(release.spec.steps.map((s) => [s.name, s.kind, s.after])).toEqual([
      ['validate', 'activity', []],
      ['signoff', 'approval', ['validate']],
      ['promote', 'activity', ['validate', 'signoff']],
      ['deploy', 'deployment', ['promote', 'validate']],
    ]);
    expect(step(release, 'validate').input).toEqual({
      modelName: 'rain-tomorrow',
      version: param('version'),
      criteria: [{ metric: 'rocAuc', min: 0.6 }, { metric: 'brier', max: 0.25 }],
      behaviour: param('behaviour'),
      requireChecks: true,
    });
    const signoff = step<ApprovalStepSpec>(release, 'signoff');
    expect(signoff.policy).toMatchObject({
      roles: { technical: 1, domain: 1 },
      deadline: '3 days',
      separationOfDuties: true,
      conditions: [
        { role: 'compliance', when: { piiFeatures: true } },
        { role: 'ethics', when: { fairnessGapAbove: 0.1 } },
      ],
    });
    expect(signoff.subject).toMatchObject({ model: ref('validate', 'modelName'), version: ref('validate', 'version'), criteria: ref('validate', 'criteria') });
    expect(step(release, 'promote').input).toMatchObject({ alias: 'champion', approvalId: ref('signoff', 'approvalId') });
    expect(step<DeploymentStepSpec>(release, 'deploy').input).toMatchObject({ strategy: param('deployStrategy'), thresholds: { minRequests: param('deployMinRequests') } });
  });

  it('needs the version to release, and defaults the rest', () => {
    expect(() => validateParams(release, {})).toThrow(/Invalid parameters for pipeline "release-rain-tomorrow": version: /);
    expect(validateParams(release, { version: '3' })).toEqual({ version: 3, behaviour: 'review', deployStrategy: 'canary', deployMinRequests: 200, deployMaxWaitSeconds: 900, deployBakeSeconds: 30 });
    expect(step(releasePipeline(rainfall), 'validate').input).toMatchObject({ criteria: [{ metric: 'rmse', max: 4 }], requireChecks: false });
    expect(step<ApprovalStepSpec>(releasePipeline(rainfall), 'signoff').policy?.roles).toEqual({ technical: 1 });
  });
});

describe('drift-retrain-<model>', () => {
  const drift = driftRetrainPipeline(rain);

  it('monitors, decides, and only on retrain trains a challenger, compares it and releases it when better', () => {
    expect(drift.spec.steps.map((s) => [s.name, s.kind, s.when ?? null])).toEqual([
      ['monitor', 'activity', null],
      ['policy', 'activity', null],
      ['train', 'pipeline', { ref: ref('policy', 'decision'), op: 'eq', value: 'retrain' }],
      ['compare', 'activity', null],
      ['validate', 'activity', { ref: ref('compare', 'decision'), op: 'eq', value: 'promote' }],
      ['signoff', 'approval', null],
      ['promote', 'activity', null],
      ['deploy', 'deployment', null],
    ]);
    const train = step<PipelineStepSpec>(drift, 'train');
    expect(train).toMatchObject({ pipeline: 'train-rain-tomorrow', params: { to: ref('monitor', 'windowTo'), testFraction: param('testFraction') }, outputs: ['trainingSet', 'register'] });
    expect(step(drift, 'compare')).toMatchObject({
      uses: 'compareModels',
      after: ['train', 'monitor'],
      input: { modelName: 'rain-tomorrow', champion: 'champion', challenger: ref('train', 'register', 'version'), trainingSet: ref('train', 'trainingSet'), margin: param('margin') },
    });
    expect(step(drift, 'monitor').input).toMatchObject({ version: 'champion', scheduledAt: { $run: 'scheduledAt' }, decayThreshold: param('decayThreshold'), decayRelative: param('decayRelative'), driftShare: param('driftShare') });
    expect(step(drift, 'validate').input).toMatchObject({ version: ref('compare', 'version'), criteria: [{ metric: 'rocAuc', min: 0.6 }, { metric: 'brier', max: 0.25 }], behaviour: 'review' });
    expect(step<ApprovalStepSpec>(drift, 'signoff').subject).toMatchObject({ metric: ref('compare', 'metric'), champion: ref('compare', 'champion'), challenger: ref('compare', 'challenger') });
  });

  it('defaults its parameters from the declaration: window, drift share, seasonal features, decay per task', () => {
    expect(validateParams(drift, {})).toMatchObject({
      windowEnd: '',
      windowDays: 14,
      decayThreshold: 0.05,
      decayRelative: false,
      driftShare: 0.3,
      seasonalFeatures: 'daily_weather__temp_max',
      triggers: 'drift,decay',
      testFraction: 0.2,
      margin: 0,
      minCompareRows: 100,
    });
    expect(validateParams(driftRetrainPipeline(rainfall), { decayRelative: 'false' })).toMatchObject({ windowDays: 7, decayThreshold: 0.1, decayRelative: false, driftShare: 0.5, seasonalFeatures: '' });
    expect(validateParams(driftRetrainPipeline(rainfall), {})).toMatchObject({ decayRelative: true });
  });

  it('makes a catalog on its own: the drift pipeline runs the train pipeline as a child with parameters it takes', () => {
    const all = modelPipelines(rain, { expectations: [suite] });
    expect(all.map((p) => p.name)).toEqual(['train-rain-tomorrow', 'release-rain-tomorrow', 'drift-retrain-rain-tomorrow']);
    expect(() => validateCatalog(all)).not.toThrow();
    expect(() => validateCatalog([all[2]!])).toThrow(/step "train" runs unknown pipeline "train-rain-tomorrow"/);
  });
});

describe('a project with models', () => {
  const builtins = defineProject({ name: 'steward', modelPipelines: (model, project) => modelPipelines(model, project) });

  it('makes its models’ pipelines when combined with the built-ins, and starts one of them', () => {
    const team = defineProject({ name: 'weather', features: [station, daily, forecast], expectations: [suite], models: [rain], start: { pipeline: 'train-rain-tomorrow' } });
    expect(team.pipelines).toEqual([]);
    expect(team.pendingModels.map((m) => m.name)).toEqual(['rain-tomorrow']);
    const combined = combineProjects(builtins, team);
    expect(combined.pipelines.map((p) => p.name)).toEqual(['train-rain-tomorrow', 'release-rain-tomorrow', 'drift-retrain-rain-tomorrow']);
    expect(combined.models.map((m) => m.name)).toEqual(['rain-tomorrow']);
    expect([...combined.steps.keys()].sort()).toEqual(
      ['applyFeatures', 'buildTrainingSet', 'checkExpectations', 'chooseModel', 'compareModels', 'evaluateModel', 'ingestFile', 'monitorDrift', 'profileReference', 'promoteModel', 'registerModel', 'retrainPolicy', 'trainModel', 'validateModel'].sort(),
    );
    // The project's expectations reached the factory: the view is checked.
    expect(combined.pipelines[0]!.spec.steps.map((s) => s.name)).toContain('checkDailyWeather');
  });

  it('refuses a start pipeline no model or pipeline makes, two models of one name, and models with nothing to make their pipelines', () => {
    expect(() => defineProject({ name: 'weather', models: [rain], start: { pipeline: 'train-rain' } })).toThrow(
      'Project "weather": start names pipeline "train-rain", which the project does not declare (pipelines: train-rain-tomorrow, release-rain-tomorrow, drift-retrain-rain-tomorrow).',
    );
    expect(() => defineProject({ name: 'weather', models: [rain, rain] })).toThrow('Project "weather": two models are named "rain-tomorrow"; rename one.');
    expect(() => defineProject({ name: 'weather', models: [{ ...rain, release: [{ metric: 'rmse', max: 1 }] }] })).toThrow(
      'Project "weather": Model "rain-tomorrow": release criterion 1 names metric "rmse", which binary-classification does not report; its metrics are rocAuc, prAuc, logLoss, brier, accuracy, precision, recall, f1.',
    );
    expect(() => combineProjects(defineProject({ name: 'steward' }), defineProject({ name: 'weather', models: [rain] }))).toThrow(
      /^Project "weather" declares models \(rain-tomorrow\), but nothing makes their pipelines/,
    );
    const clash = defineProject({ name: 'weather', models: [rain], pipelines: [releasePipeline(rain)] });
    expect(() => combineProjects(builtins, clash)).toThrow('Project "weather": two pipelines are named "release-rain-tomorrow"; rename one.');
  });
});
