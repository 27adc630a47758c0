/**
 * The project Steward loads (`steward start`, `steward dev`, `steward run`, `steward apply`, ...
 * find this file from the working folder upward): its pipelines, the steps they use, its feature
 * definitions and catalog entries. Steward's built-in pipelines stay available beside them.
 */
import { defineProject } from 'steward';
import { features } from './src/features.js';
import { trainRainTomorrow } from './src/pipelines/train-rain-tomorrow.js';

export default defineProject({
  name: '__PROJECT_NAME__',
  description: 'Rain tomorrow? A sample Steward project on Seattle weather (vega-datasets, 2012-2015).',
  pipelines: [trainRainTomorrow],
  features,
  catalog: [
    {
      name: 'data/seattle-weather.csv',
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
