/**
 * Rain tomorrow? A Steward project with no code of its own: the data, its expectations, the
 * features, and the model are declarations, and Steward's built-in pipelines do the rest:
 *
 *   train-rain-tomorrow         ingest the CSV -> check it -> training set -> two candidates ->
 *                               evaluate -> choose -> reference profile -> register
 *   release-rain-tomorrow       validate against the release criteria -> sign-off -> promote -> deploy
 *   drift-retrain-rain-tomorrow monitor a window of predictions -> policy -> retrain and compare
 *
 * `npm start` runs the training pipeline; `npm test` runs the whole loop through Temporal.
 */
import { defineModel, defineProject } from 'steward';
import { expect, expectationSuite } from 'steward/features';
import { dailyWeather, rainForecast, station } from './features.js';

export const rainTomorrow = defineModel({
  name: 'rain-tomorrow',
  task: 'binary-classification',
  features: rainForecast,
  label: {
    kind: 'future',
    view: 'daily_weather',
    feature: 'precipitation',
    horizon: '1d',
    transform: { gt: 0 },
    description: 'it rains tomorrow: the next day has precipitation above 0 mm',
  },
  candidates: [{ algorithm: 'linear' }, { algorithm: 'gradient-boosting', maxIter: 60, learningRate: 0.1 }],
  behaviour: [
    { kind: 'directional', name: 'a wetter day never lowers the chance of rain', feature: 'precipitation', delta: 10, direction: 'non-decreasing', tolerance: 0.05 },
  ],
  release: [{ metric: 'rocAuc', min: 0.6 }],
  card: {
    purpose: 'Tell whether it will rain tomorrow at the station, from the weather observed today.',
    owner: 'weather-team',
    intendedUse: 'A daily rain flag for planning outdoor work in Seattle.',
    limitations: 'Trained on one station (Seattle, 2012-2015); it knows nothing of forecasts, pressure or humidity.',
  },
  approvals: { technical: 1 },
});

export default defineProject({
  name: 'rain-tomorrow',
  description: 'Rain tomorrow? Seattle weather (vega-datasets), declarations only.',
  features: [station, dailyWeather, rainForecast],
  models: [rainTomorrow],
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
  start: { pipeline: 'train-rain-tomorrow' },
});
