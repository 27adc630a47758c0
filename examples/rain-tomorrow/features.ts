/**
 * Where the rain model's data comes from and what it is: one weather station (Seattle, SEA), one
 * row per day, read from vega-datasets' seattle-weather.csv. Each day is stamped at its end (the
 * date plus one day): a prediction made at time t sees only days that ended by t, never the day it
 * predicts.
 */
import { entity, featureService, featureView } from 'steward/features';

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
  ttl: '2d',
  source: { kind: 'file', path: 'vega:seattle-weather.csv', constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '1d' } },
  owner: 'weather-team',
  description: 'Daily weather observations at a station, known at the end of each day.',
  tags: { sensitivity: 'public', domain: 'weather' },
});

/** What the model is trained on and served with: the last observed day. */
export const rainForecast = featureService({
  name: 'rain_forecast',
  version: 1,
  features: [dailyWeather],
  owner: 'weather-team',
  description: 'Features of the rain-tomorrow model: the last observed day at the station.',
});
