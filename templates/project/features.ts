/**
 * Where the model's data comes from and what it is, declared for Steward's feature store: one
 * weather station (Seattle, SEA), one row per day, read from data/seattle-weather.csv. Each day is
 * stamped at its end (the date plus one day): a prediction made at time t sees only days that ended
 * by t, never the day it predicts.
 *
 * `npx steward apply --dry-run` shows what these declarations change in the store; the training
 * pipeline applies them and ingests the file itself. Bring your own data by changing the source's
 * path and the schema (`npx steward features preview <file>` prints a featureView(...) to start from).
 */
import { entity, featureService, featureView } from 'steward/features';

/** The sample data, relative to the project's folder (where steward.config.ts is). */
export const WEATHER_FILE = 'data/seattle-weather.csv';

export const station = entity({
  name: 'station',
  joinKeys: { station: 'string' },
  description: 'A weather station, by its airport code.',
});

export const dailyWeather = featureView({
  name: 'daily_weather',
  entities: [station],
  schema: {
    precipitation: { type: 'float64', description: 'Precipitation that day (mm).' },
    temp_max: { type: 'float64', description: 'Highest temperature (°C).' },
    temp_min: { type: 'float64', description: 'Lowest temperature (°C).' },
    wind: { type: 'float64', description: 'Mean wind speed (m/s).' },
    weather: { type: 'string', description: 'The day summarized: sun, fog, drizzle, rain or snow.' },
  },
  eventTimestamp: 'observed_at',
  // A prediction reads the last day observed, and nothing older than two days.
  ttl: '2d',
  // The file has no station column (the constant supplies it) and dates, not times: each day's row
  // is known at the end of the day.
  source: { kind: 'file', path: WEATHER_FILE, constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '1d' } },
  owner: '__PROJECT_NAME__',
  description: 'Daily weather observations at a station, known at the end of each day.',
  tags: { sensitivity: 'public', domain: 'weather' },
});

/** What the model is trained on and served with: the last observed day. */
export const rainForecast = featureService({
  name: 'rain_forecast',
  version: 1,
  features: [dailyWeather],
  owner: '__PROJECT_NAME__',
  description: 'Features of the rain-tomorrow model: the last observed day at the station.',
});
