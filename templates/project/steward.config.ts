/**
 * The project Steward loads (`npm start`, `npx steward dev`, `run`, `apply`, ... find this file from
 * the working folder upward). It is made of declarations: the features (./features.ts), what the
 * data must satisfy, and the model. From the model Steward makes three pipelines of built-in steps:
 *
 *   train-rain-tomorrow         ingest data/seattle-weather.csv -> check it -> training set -> two
 *                               candidates -> evaluate -> choose -> reference profile -> register
 *   release-rain-tomorrow       validate against the release criteria -> sign-off -> promote -> deploy
 *   drift-retrain-rain-tomorrow monitor a window of predictions -> policy -> retrain and compare
 *
 * plus the project's own pipeline, summarize-weather (./src/summarize-weather.ts).
 */
import { defineModel, defineProject } from 'steward';
import { expect, expectationSuite } from 'steward/features';
import { dailyWeather, rainForecast, station, WEATHER_FILE } from './features.js';
import { summarizeWeatherPipeline } from './src/summarize-weather.js';

export const rainTomorrow = defineModel({
  name: 'rain-tomorrow',
  task: 'binary-classification',
  features: rainForecast,
  // Each day is an example; its label is the next day's: does it rain (precipitation above 0 mm)?
  label: {
    kind: 'future',
    view: 'daily_weather',
    feature: 'precipitation',
    horizon: '1d',
    transform: { gt: 0 },
    description: 'it rains tomorrow: the next day has precipitation above 0 mm',
  },
  // Fitted side by side on the oldest 80% of the days, ranked by ROC AUC on the most recent 20%.
  candidates: [{ algorithm: 'linear' }, { algorithm: 'gradient-boosting', maxIter: 60, learningRate: 0.1 }],
  behaviour: [
    { kind: 'directional', name: 'a wetter day never lowers the chance of rain', feature: 'precipitation', delta: 10, direction: 'non-decreasing', tolerance: 0.05 },
  ],
  // What release-rain-tomorrow checks before anyone is asked to sign off: better than chance, and
  // right at least as often as "tomorrow is like today" (72% of the held-out days: summarize-weather).
  release: [
    { metric: 'rocAuc', min: 0.6 },
    { metric: 'accuracy', min: 0.72 },
  ],
  card: {
    purpose: 'Tell whether it will rain tomorrow at the station, from the weather observed today.',
    owner: '__PROJECT_NAME__',
    intendedUse: 'A daily rain flag for planning outdoor work in Seattle.',
    limitations: 'Trained on one station (Seattle, 2012-2015); it knows nothing of forecasts, pressure or humidity.',
  },
  // Who signs a release off: one reviewer with the technical role.
  approvals: { technical: 1 },
  // What drift-retrain-rain-tomorrow watches: a week of predictions; a retrain when ROC AUC falls 0.05.
  monitoring: { window: '7d', maxDecay: 0.05 },
});

export default defineProject({
  name: '__PROJECT_NAME__',
  description: 'Rain tomorrow? Seattle weather (vega-datasets, 2012-2015), declared for Steward.',
  features: [station, dailyWeather, rainForecast],
  models: [rainTomorrow],
  // Checked by train-rain-tomorrow after each ingestion of the file: a failure stops the run before training.
  expectations: [
    expectationSuite({
      name: 'daily weather',
      dataset: 'feature_view:daily_weather',
      table: 'fv_daily_weather',
      expectations: [
        expect.rowCount({ min: 1000 }),
        expect.nullFraction('precipitation', 0),
        expect.between('precipitation', 0, 100),
        expect.between('temp_max', -20, 50),
        expect.inSet('weather', ['sun', 'fog', 'drizzle', 'rain', 'snow']),
      ],
    }),
  ],
  pipelines: [summarizeWeatherPipeline],
  // The raw file in the catalog (`npx steward catalog list`), beside the views Steward registers itself.
  catalog: [
    {
      name: WEATHER_FILE,
      kind: 'raw',
      description: 'Daily weather in Seattle, 2012-2015 (vega-datasets seattle-weather.csv): one row per day.',
      owner: '__PROJECT_NAME__',
      sensitivity: 'public',
      tags: ['weather', 'raw', 'source:vega-datasets'],
      retention: null,
      columns: [
        { name: 'date', type: 'date', description: 'the day observed' },
        { name: 'precipitation', type: 'float', description: 'precipitation (mm)' },
        { name: 'temp_max', type: 'float', description: 'highest temperature (°C)' },
        { name: 'temp_min', type: 'float', description: 'lowest temperature (°C)' },
        { name: 'wind', type: 'float', description: 'mean wind speed (m/s)' },
        { name: 'weather', type: 'text', description: 'sun, fog, drizzle, rain or snow' },
      ],
    },
  ],
  // What `npm start` (`steward start`) runs.
  start: { pipeline: 'train-rain-tomorrow' },
});
