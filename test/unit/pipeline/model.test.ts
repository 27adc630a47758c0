/**
 * defineModel: a declaration is checked before any run, and each refusal names the model, the field
 * and what to write instead.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { entity, featureService, featureView } from '../../../src/features/definitions.js';
import { defineModel, featureColumn, isModelDeclaration, modelCandidates, modelDecay, modelPipelineNames, modelSelectBy, type ModelDeclaration } from '../../../src/pipeline/model.js';

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

const base: ModelDeclaration = {
  name: 'rain-tomorrow',
  task: 'binary-classification',
  features: forecast,
  label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } },
  card: { purpose: 'Tell whether it rains tomorrow.', owner: 'weather-team' },
};

const refused = (change: Partial<ModelDeclaration> | Record<string, unknown>) => {
  try {
    defineModel({ ...base, ...change } as ModelDeclaration);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('defineModel accepted the declaration');
};

describe('defineModel', () => {
  it('returns the declaration frozen, marked, with its defaults resolvable', () => {
    const model = defineModel({ ...base, release: [{ metric: 'rocAuc', min: 0.6 }], candidates: [{ algorithm: 'linear', C: 0.5 }, { algorithm: 'gradient-boosting', maxIter: 50 }] });
    expect(Object.isFrozen(model)).toBe(true);
    expect(Object.isFrozen(model.release)).toBe(true);
    expect(Object.isFrozen(model.release![0])).toBe(true);
    expect(isModelDeclaration(model)).toBe(true);
    expect(isModelDeclaration({ ...base })).toBe(false);
    expect(model).toMatchObject({ name: 'rain-tomorrow', task: 'binary-classification', release: [{ metric: 'rocAuc', min: 0.6 }] });
    expect(modelCandidates(model).map((c) => c.name)).toEqual(['Linear', 'GradientBoosting']);
    expect(modelCandidates(base)).toEqual([
      { algorithm: 'linear', name: 'Linear' },
      { algorithm: 'gradient-boosting', name: 'GradientBoosting' },
    ]);
    expect(modelSelectBy(model)).toBe('rocAuc');
    expect(modelSelectBy({ task: 'regression' })).toBe('rmse');
    expect(modelDecay(model)).toEqual({ threshold: 0.05, relative: false });
    expect(modelDecay({ task: 'regression' })).toEqual({ threshold: 0.1, relative: true });
    expect(modelDecay({ task: 'regression', monitoring: { maxDecay: 2 } })).toEqual({ threshold: 2, relative: false });
    // Declared names become the training set's columns; an entity key stays as it is.
    expect(['precipitation', 'daily_weather__weather', 'station'].map((name) => featureColumn(model, name))).toEqual(['daily_weather__precipitation', 'daily_weather__weather', 'station']);
    expect(modelPipelineNames('rain-tomorrow')).toEqual({ train: 'train-rain-tomorrow', release: 'release-rain-tomorrow', driftRetrain: 'drift-retrain-rain-tomorrow' });
  });

  it('accepts every field in range, features by plain or column name, and a regression model with its own measures', () => {
    const model = defineModel({
      ...base,
      name: 'rain-mm',
      task: 'regression',
      label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d' },
      testFraction: 0.25,
      selectBy: 'mae',
      fairness: [{ column: 'weather', maxErrorRatio: 2 }, { column: 'station' }],
      behaviour: [
        { kind: 'directional', name: 'wetter today, wetter tomorrow', feature: 'daily_weather__precipitation', delta: 5, direction: 'non-decreasing' },
        { kind: 'invariance', name: 'summary words', feature: 'weather', values: ['sun', 'fog'], tolerance: 0.5 },
      ],
      release: [{ metric: 'rmse', max: 4 }, { metric: 'r2', min: 0.1, max: 1 }],
      approvals: { technical: 1, domain: 2 },
      monitoring: { window: '14d', maxDriftedShare: 0.3, maxRelativeDecay: 0.2, seasonalFeatures: ['temp_max'] },
      ingest: ['daily_weather'],
    });
    expect(model.task).toBe('regression');
  });

  it('refuses a bad name, task, label or feature service, naming each', () => {
    expect(refused({ name: 'Rain_Tomorrow' })).toBe(
      `Model name "Rain_Tomorrow" is not allowed: use lowercase letters, digits and '-', starting with a letter, at most 50 characters (it names the model in the registry and its pipelines, e.g. 'rain-tomorrow').`,
    );
    expect(refused({ name: 'a'.repeat(51) })).toMatch(/^Model name "a{51}" is not allowed/);
    expect(refused({ task: 'multiclass' as never })).toBe(`Model "rain-tomorrow": task "multiclass" is not a task Steward trains; use one of 'binary-classification', 'regression'.`);
    expect(refused({ features: daily as never })).toBe('Model "rain-tomorrow": features must be a feature service: features: featureService({ name, version, features: [...] }).');
    expect(refused({ label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: 'tomorrow' } })).toBe(
      'Model "rain-tomorrow": label.horizon must be a positive duration such as 30m, 1h or 7d (or milliseconds), got "tomorrow".',
    );
    expect(refused({ label: { kind: 'column', view: 'outcomes', column: '' } })).toBe(
      `Model "rain-tomorrow": label names no column of view "outcomes"; e.g. label: { kind: 'column', view: 'outcomes', column: 'delayed' }.`,
    );
    expect(refused({ label: { kind: 'later', view: 'x' } as never })).toBe(
      `Model "rain-tomorrow": label has kind "later"; use 'column' (a column of a labels view) or 'future' (a later value of a feature).`,
    );
    expect(refused({ label: { ...base.label, transform: { above: 0 } as never } })).toBe('Model "rain-tomorrow": label.transform has unknown rule "above"; use one of gt, gte, lt, lte, eq, oneOf.');
    expect(refused({ label: { ...base.label, transform: { gt: '0' as never } } })).toBe('Model "rain-tomorrow": label.transform.gt must be a number, got "0".');
  });

  it('refuses release criteria and a selection metric the task does not report, listing the task’s metrics', () => {
    expect(refused({ release: [{ metric: 'rmse', max: 4 }] })).toBe(
      'Model "rain-tomorrow": release criterion 1 names metric "rmse", which binary-classification does not report; its metrics are rocAuc, prAuc, logLoss, brier, accuracy, precision, recall, f1.',
    );
    expect(refused({ task: 'regression', label: { ...base.label, transform: undefined }, selectBy: 'rocAuc' })).toBe(
      'Model "rain-tomorrow": selectBy names metric "rocAuc", which regression does not report; its metrics are rmse, mae, r2.',
    );
    expect(refused({ release: [{ metric: 'rocAuc' }] })).toBe('Model "rain-tomorrow": release criterion on rocAuc has neither min nor max; give at least one.');
    expect(refused({ release: [{ metric: 'rocAuc', min: 1.2 }] })).toBe('Model "rain-tomorrow": release criterion on rocAuc has min 1.2; rocAuc lies between 0 and 1.');
    expect(refused({ release: [{ metric: 'logLoss', max: -1 }] })).toBe('Model "rain-tomorrow": release criterion on logLoss has max -1; logLoss lies at 0 or above.');
    expect(refused({ release: [{ metric: 'f1', min: 0.8, max: 0.7 }] })).toBe('Model "rain-tomorrow": release criterion on f1 has min 0.8 above max 0.7; no version could pass.');
    expect(refused({ release: [{ metric: 'f1', min: 0.5 }, { metric: 'f1', max: 0.9 }] })).toBe('Model "rain-tomorrow": release names f1 twice; give one criterion with min and/or max.');
    const error = (() => {
      try {
        defineModel({ ...base, release: [{ metric: 'rmse', max: 4 }] });
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(error?.details).toMatchObject({ model: 'rain-tomorrow', metric: 'rmse', metrics: ['rocAuc', 'prAuc', 'logLoss', 'brier', 'accuracy', 'precision', 'recall', 'f1'] });
  });

  it('refuses unknown algorithms, parameters out of range or of the other algorithm, and clashing candidate steps', () => {
    expect(refused({ candidates: [] })).toBe(`Model "rain-tomorrow": candidates is empty; declare at least one, e.g. candidates: [{ algorithm: 'linear' }], or leave it out for the default two.`);
    expect(refused({ candidates: [{ algorithm: 'random-forest' as never }] })).toBe(`Model "rain-tomorrow": candidate 1 has algorithm "random-forest"; use one of 'linear', 'gradient-boosting'.`);
    expect(refused({ candidates: [{ algorithm: 'linear', maxIter: 10 }] })).toBe('Model "rain-tomorrow": candidate 1 (linear) sets maxIter, which only gradient-boosting reads; remove it or change the algorithm.');
    expect(refused({ candidates: [{ algorithm: 'linear', depth: 3 } as never] })).toBe(
      'Model "rain-tomorrow": candidate 1 has an unknown parameter "depth"; the parameters are C and classWeight (linear), maxIter, learningRate, maxLeafNodes (gradient-boosting) and seed.',
    );
    expect(refused({ candidates: [{ algorithm: 'linear', C: 0 }] })).toBe('Model "rain-tomorrow": candidate 1 has C = 0; the inverse regularization strength is a positive number (default 1).');
    expect(refused({ candidates: [{ algorithm: 'gradient-boosting', learningRate: 1.5 }] })).toBe('Model "rain-tomorrow": candidate 1 has learningRate = 1.5; it is above 0 and at most 1 (default 0.1).');
    expect(refused({ candidates: [{ algorithm: 'gradient-boosting', maxIter: 2.5 }] })).toBe('Model "rain-tomorrow": candidate 1 has maxIter = 2.5; the number of trees is a whole number from 1 to 10,000 (default 100).');
    expect(refused({ candidates: [{ algorithm: 'linear' }, { algorithm: 'linear', C: 0.1 }] })).toBe(
      `Model "rain-tomorrow": candidates 1 and 2 would both train as step "trainLinear"; give each its own name, e.g. { algorithm: 'linear', name: 'strongRidge' }.`,
    );
    expect(modelCandidates({ candidates: [{ algorithm: 'linear' }, { algorithm: 'linear', C: 0.1, name: 'strongRidge' }] }).map((c) => c.name)).toEqual(['Linear', 'StrongRidge']);
    expect(refused({ testFraction: 1 })).toBe('Model "rain-tomorrow": testFraction is 1; it is the held-out share of the most recent rows, between 0 and 1 (exclusive), e.g. 0.2.');
  });

  it('refuses fairness thresholds out of range or of the other task, and group columns the model does not have', () => {
    expect(refused({ fairness: [{ column: 'weather', minDisparateImpactRatio: 1.2 }] })).toBe(
      'Model "rain-tomorrow": fairness 1 ("weather") has minDisparateImpactRatio 1.2; it is above 0 and at most 1 (the four-fifths rule is 0.8).',
    );
    expect(refused({ fairness: [{ column: 'weather', maxErrorRatio: 2 }] })).toBe(
      `Model "rain-tomorrow": fairness 1 ("weather") sets maxErrorRatio, a regression model's measure; a classifier's is minDisparateImpactRatio.`,
    );
    expect(refused({ task: 'regression', label: { ...base.label, transform: undefined }, fairness: [{ column: 'weather', maxErrorRatio: 0.5 }] })).toBe(
      `Model "rain-tomorrow": fairness 1 ("weather") has maxErrorRatio 0.5; the worst group's RMSE over the overall RMSE is at least 1 (default 1.5).`,
    );
    expect(refused({ fairness: [{ column: 'region' }] })).toBe(
      'Model "rain-tomorrow": fairness 1 groups by "region", which is neither a feature of service rain_forecast nor an entity key; the features are daily_weather__precipitation, daily_weather__temp_max, daily_weather__weather, the keys station.',
    );
    expect(refused({ fairness: [{ column: 'weather' }, { column: 'weather' }] })).toBe('Model "rain-tomorrow": fairness declares column "weather" twice; declare each column once.');
  });

  it('refuses behavioural checks on unknown features or with bad settings', () => {
    const check = { kind: 'directional' as const, name: 'wetter', feature: 'precipitation', delta: 5, direction: 'non-decreasing' as const };
    expect(refused({ behaviour: [{ ...check, feature: 'humidity' }] })).toBe(
      'Model "rain-tomorrow": check "wetter" perturbs "humidity", which is not a feature of service rain_forecast; its features are daily_weather__precipitation, daily_weather__temp_max, daily_weather__weather.',
    );
    expect(refused({ behaviour: [{ ...check, delta: 0 }] })).toBe('Model "rain-tomorrow": directional check "wetter" has delta 0; it is the non-zero amount added to "precipitation".');
    expect(refused({ behaviour: [{ ...check, direction: 'up' as never }] })).toBe(
      `Model "rain-tomorrow": directional check "wetter" has direction "up"; use one of 'increase', 'decrease', 'non-decreasing', 'non-increasing'.`,
    );
    expect(refused({ behaviour: [check, check] })).toBe('Model "rain-tomorrow": two behavioural checks are named "wetter"; name each once.');
    expect(refused({ behaviour: [{ kind: 'invariance', name: 'words', feature: 'weather', values: [] }] })).toBe(
      `Model "rain-tomorrow": invariance check "words" needs values to swap in: a non-empty list of strings or numbers, e.g. values: ['north', 'south'].`,
    );
    expect(refused({ behaviour: [{ ...check, tolerance: -1 }] })).toBe('Model "rain-tomorrow": check "wetter" has tolerance -1; it is 0 or more.');
  });

  it('refuses a card without purpose or owner, bad sign-off roles, monitoring settings and ingestion views', () => {
    expect(refused({ card: undefined as never })).toBe(`Model "rain-tomorrow": card is missing; write card: { purpose: 'what the model is for', owner: 'the team answerable for it' }.`);
    expect(refused({ card: { purpose: 'x', owner: ' ' } })).toBe('Model "rain-tomorrow": card.owner is missing; the model card and the sign-off show it.');
    expect(refused({ card: { purpose: 'x', owner: 'y', limitations: '' } })).toBe('Model "rain-tomorrow": card.limitations must be text of 1 to 10,000 characters.');
    expect(refused({ approvals: {} })).toBe(`Model "rain-tomorrow": approvals names no role; write e.g. approvals: { technical: 1 }, or leave it out for one technical reviewer.`);
    expect(refused({ approvals: { Technical: 1 } })).toBe('Model "rain-tomorrow": approval role "Technical" must be lowercase letters, digits, - or _ (at most 40).');
    expect(refused({ approvals: { technical: 0 } })).toBe('Model "rain-tomorrow": approval role "technical" needs a quorum of at least 1, got 0.');
    expect(refused({ monitoring: { window: 'weekly' } })).toBe('Model "rain-tomorrow": monitoring.window must be a positive duration such as 30m, 1h or 7d (or milliseconds), got "weekly".');
    expect(refused({ monitoring: { maxDriftedShare: 0 } })).toBe(
      'Model "rain-tomorrow": monitoring.maxDriftedShare is 0; the share of drifted features that calls for a retrain is above 0 and at most 1.',
    );
    expect(refused({ monitoring: { maxDecay: 0.05, maxRelativeDecay: 0.1 } })).toBe('Model "rain-tomorrow": monitoring sets both maxDecay and maxRelativeDecay; give one.');
    expect(refused({ monitoring: { maxDecay: -0.05 } })).toBe('Model "rain-tomorrow": monitoring.maxDecay is -0.05; it is a positive amount of rocAuc (e.g. 0.05).');
    expect(refused({ monitoring: { seasonalFeatures: ['month'] } })).toBe(
      'Model "rain-tomorrow": monitoring.seasonalFeatures names "month", which is not a feature of service rain_forecast; its features are daily_weather__precipitation, daily_weather__temp_max, daily_weather__weather.',
    );
    expect(refused({ ingest: ['stations'] })).toBe('Model "rain-tomorrow": ingest names view "stations", which the model neither reads features from nor takes its label from; name one of daily_weather.');
    expect(refused({ trainTaskQueue: 'gpu' })).toBe(
      `Model "rain-tomorrow": trainTaskQueue is not supported yet: every step runs on the project's task queue. Remove it, or run a dedicated worker for the whole project.`,
    );
  });
});
