/**
 * The declarations, checked in seconds without Temporal: the project and its model load, the view's
 * file reads into the feature store (and a file that does not match it is refused), the label makes
 * a leak-free training set, and the project's own step summarizes the data. Each runs on a real
 * embedded database in a temporary folder (`steward/testing`), as the worker's steps do; the
 * expectations are checked by the training pipeline (test/train.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineModel, modelPipelineNames } from 'steward';
import { getTable } from 'steward/data';
import { buildTrainingSet, createFeatureStore, ingestFile } from 'steward/features';
import { runStep, withTestServices, type TestServices } from 'steward/testing';
import project, { rainTomorrow } from '../steward.config.js';
import { dailyWeather, rainForecast } from '../features.js';
import { summarizeWeather } from '../src/summarize-weather.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Services holding the project's definitions, as the worker gives them to steps, with the views' tables created. */
function withProject<T>(fn: (services: TestServices) => Promise<T>): Promise<T> {
  return withTestServices(
    async (services) => {
      await createFeatureStore(services.db, project.features).apply();
      return fn(services);
    },
    { features: project.features, projectRoot: root },
  );
}

describe('the declarations', () => {
  it('declare a model Steward makes train, release and drift-retrain pipelines of', () => {
    expect(project.models.map((m) => m.name)).toEqual(['rain-tomorrow']);
    expect(modelPipelineNames(rainTomorrow.name)).toEqual({ train: 'train-rain-tomorrow', release: 'release-rain-tomorrow', driftRetrain: 'drift-retrain-rain-tomorrow' });
    expect(project.start).toEqual({ pipeline: 'train-rain-tomorrow' });
    expect(project.pipelines.map((p) => p.name)).toContain('summarize-weather');
    // A mistake is refused when the project loads, naming the model and the metric.
    expect(() => defineModel({ ...rainTomorrow, release: [{ metric: 'rmse', max: 4 }] })).toThrow(/Model "rain-tomorrow".*"rmse".*rocAuc/);
  });

  it('read the data file into the view and build a leak-free training set', async () => {
    await withProject(async ({ db, artifacts }) => {
      // A file that does not match the view is refused before a row is read, naming the column.
      const other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'weather-')), 'no-wind.csv');
      fs.writeFileSync(other, 'date,precipitation,temp_max,temp_min,weather\n2016-01-01,3.0,5.0,1.0,rain\n');
      try {
        await expect(ingestFile(db, dailyWeather, { root, path: other })).rejects.toThrow(/no-wind.csv has no column "wind".*feature view "daily_weather"/);
      } finally {
        fs.rmSync(path.dirname(other), { recursive: true, force: true });
      }

      const ingested = await ingestFile(db, dailyWeather, { root });
      expect(ingested).toMatchObject({ rows: 1461, reused: false, format: 'csv' });
      // The same content again is the same ingestion: nothing is written twice.
      expect(await ingestFile(db, dailyWeather, { root })).toMatchObject({ ingestionId: ingested.ingestionId, reused: true });

      const set = await buildTrainingSet(db, artifacts, project.features, { service: rainForecast, label: rainTomorrow.label, task: rainTomorrow.task });
      // Every day but the last has a next day to label it; 623 of those next days are wet.
      expect(set).toMatchObject({ rows: 1460, positives: 623, from: '2012-01-02T00:00:00.000Z', featureService: 'rain_forecast' });
      expect([...set.columns.numeric].sort()).toEqual(['daily_weather__precipitation', 'daily_weather__temp_max', 'daily_weather__temp_min', 'daily_weather__wind']);
      expect(set.columns.categorical).toEqual(['daily_weather__weather']);

      // Point in time: the example at the end of 2012-01-02 sees that day's 10.9 mm, and is
      // labelled by 2012-01-03, which had 0.8 mm: it rained.
      const row = (await getTable(artifacts, set.uri)).get(1)!.toJSON();
      expect(new Date(row[set.columns.time] as number).toISOString()).toBe('2012-01-03T00:00:00.000Z');
      expect(row['daily_weather__precipitation']).toBe(10.9);
      expect(row[set.columns.label]).toBe(1);
    });
  });
});

describe("the project's own step", () => {
  it('summarizes the weather and the persistence forecast the model has to beat', async () => {
    await withTestServices(
      async (services) => {
        const summary = await runStep(summarizeWeather, {}, { services });
        expect(summary).toMatchObject({ days: 1461, from: '2012-01-01', to: '2015-12-31' });
        expect(summary.wetShare).toBeCloseTo(623 / 1461, 10);
        // "Tomorrow is like today" is right on 1,052 of 1,460 days, and on 211 of the 292 most recent.
        expect(summary.persistence.accuracy).toBeCloseTo(1052 / 1460, 10);
        expect(summary.persistence).toMatchObject({ heldOutDays: 292 });
        expect(summary.persistence.heldOutAccuracy).toBeCloseTo(211 / 292, 10);
        // Seattle: July is the driest month (11 wet days of 124), December among the wettest (81 of 124).
        expect(summary.months).toHaveLength(12);
        expect(summary.months[6]).toMatchObject({ month: 7, days: 124 });
        expect(summary.months[6]!.wetShare).toBeCloseTo(11 / 124, 10);
        expect(summary.months[11]!.wetShare).toBeCloseTo(81 / 124, 10);

        // Input its schema refuses is refused as in a pipeline run, naming the step and the field.
        await expect(runStep(summarizeWeather, { testFraction: 2 }, { services })).rejects.toThrow(/weather\.summarize.*field "testFraction"/);
      },
      { projectRoot: root },
    );
  });
});
