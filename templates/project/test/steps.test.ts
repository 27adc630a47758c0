/**
 * The steps, run as the worker runs them (input and output validated against their schemas) on a
 * real embedded database and artifact store in a temporary folder: no Temporal, no mocks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestServices, runStep, testServices } from 'steward/testing';
import { listVersions } from 'steward/registry';
import { getTable } from 'steward/data';
import { buildTrainingSet, LABEL } from '../src/steps/build-training-set.js';
import { loadWeather } from '../src/steps/load-weather.js';
import { registerModel } from '../src/steps/register-model.js';
import { trainModel } from '../src/steps/train-model.js';

afterAll(closeTestServices);

describe('the rain-tomorrow steps', () => {
  it('load the sample, build a leak-free training set, train, export and register a model', async () => {
    const loaded = await runStep(loadWeather, { file: 'data/seattle-weather.csv' });
    expect(loaded).toMatchObject({ rows: 1461, from: '2012-01-01', to: '2015-12-31' });

    const trainingSet = await runStep(buildTrainingSet, { datasetUri: loaded.datasetUri });
    expect(trainingSet.rows).toBe(1460);
    expect(trainingSet.positives / trainingSet.rows).toBeGreaterThan(0.3);

    // Point in time: the question asked at the start of 2012-01-03 sees the weather of 2012-01-02,
    // whose precipitation (10.9 mm) is in the data; the answer is 2012-01-03's rain (0.8 mm).
    const services = await testServices();
    const table = await getTable(services.artifacts, trainingSet.trainingSetUri);
    const row = table.get(1)!.toJSON();
    expect(row['daily_weather__precipitation']).toBe(10.9);
    expect(row[LABEL]).toBe(true);

    const trained = await runStep(trainModel, { trainingSetUri: trainingSet.trainingSetUri });
    expect(trained.metrics.rocAuc).toBeGreaterThan(0.6);
    expect(trained.onnxMaxAbsDiff).toBeLessThan(1e-4);

    const registered = await runStep(registerModel, { modelName: 'rain-tomorrow', model: trained, trainingSet });
    expect(registered).toMatchObject({ modelName: 'rain-tomorrow', version: 1, created: true });
    // Idempotent: the same artifact again is the same version.
    expect(await runStep(registerModel, { modelName: 'rain-tomorrow', model: trained, trainingSet })).toMatchObject({ version: 1, created: false });
    expect((await listVersions(services.db, 'rain-tomorrow')).map((v) => v.version)).toEqual([1]);
  });

  it('refuses input its schema refuses, naming the step and the field', async () => {
    await expect(runStep(trainModel, { trainingSetUri: 'artifact://sha256/none', testFraction: 2 })).rejects.toThrow(/weather\.train.*field "testFraction"/);
  });
});
