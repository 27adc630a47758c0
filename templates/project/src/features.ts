/**
 * The project's feature store definitions: `steward apply` registers them (`--dry-run` shows the
 * plan), the training pipeline writes the daily rows into the offline store and reads them back
 * point-in-time correct, and `steward materialize` copies the latest into the online store.
 */
import { entity, featureService, featureView } from 'steward/features';

/** A weather station, by its code: the sample data is Seattle's (SEA). */
export const station = entity({
  name: 'station',
  joinKeys: { station: 'string' },
  description: 'A weather station (airport code).',
});

/**
 * One row per station and day, stamped at the end of the day it describes (`observed_at`): a
 * prediction made at time t sees only days that ended at or before t, never the day it predicts.
 */
export const dailyWeather = featureView({
  name: 'daily_weather',
  entities: [station],
  schema: {
    precipitation: { type: 'float64', description: 'Precipitation that day (mm).' },
    precipitation_3d: { type: 'float64', description: 'Precipitation over that day and the two before (mm).' },
    temp_max: { type: 'float64', description: 'Highest temperature (°C).' },
    temp_min: { type: 'float64', description: 'Lowest temperature (°C).' },
    wind: { type: 'float64', description: 'Mean wind speed (m/s).' },
    weather: { type: 'string', description: 'The day summarized: sun, fog, drizzle, rain or snow.' },
    month: { type: 'string', description: 'Month of the day, 01 to 12 (the season).' },
  },
  eventTimestamp: 'observed_at',
  ttl: '2d',
  source: { kind: 'pipeline', name: 'train-rain-tomorrow', description: 'the weather.trainingSet step, from data/seattle-weather.csv' },
  owner: '__PROJECT_NAME__',
  description: 'Daily weather observations per station, known at the end of each day.',
  tags: { sensitivity: 'public', domain: 'weather' },
});

/** The features the rain model is trained on and served with. */
export const rainForecast = featureService({
  name: 'rain_forecast',
  version: 1,
  features: [dailyWeather],
  owner: '__PROJECT_NAME__',
  description: 'Features of the rain-tomorrow model: the last observed day.',
});

export const features = [station, dailyWeather, rainForecast];
