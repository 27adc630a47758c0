/**
 * Flight delays on real 2001 flights (vega-datasets flights-3m.parquet): Steward's worked example,
 * a project like any team's. It declares its own pipelines, steps, feature definitions and serving
 * enrichment; Steward's built-ins (generic steps, purpose approval, declared models' pipelines)
 * come with every project.
 *
 *   flight-delay-summary        ingest flights -> late departures per airport
 *   train-flight-delay          ingest -> quality gate -> features -> training set -> candidates -> register
 *   release-flight-delay        validate -> sign-off by the required roles -> promote (-> deploy)
 *   drift-retrain-flight-delay  monitor a window of predictions -> policy -> challenge-flight-delay
 *   score-flights               batch scoring of a flights file by a registered version
 *
 * At the repository's root, `npm start` runs this example (demo/main.ts); `npm run demo:drift`
 * replays 2001 week by week through the drift-retrain Schedule.
 */
import type { Pipeline } from '../../src/pipeline/definition.js';
import { validateCatalog } from '../../src/pipeline/catalog.js';
import { defineProject } from '../../src/project/define.js';
import { rawFlightsCatalogEntry } from './data/schema.js';
import { enrichments } from './features/enrichments.js';
import { featureDefinitions } from './features/index.js';
import { challengeFlightDelay } from './pipelines/challenge-flight-delay.js';
import { driftRetrainFlightDelay } from './pipelines/drift-retrain-flight-delay.js';
import { flightDelaySummary } from './pipelines/flight-delay-summary.js';
import { releaseFlightDelay } from './pipelines/release-flight-delay.js';
import { scoreFlights } from './pipelines/score-flights.js';
import { trainFlightDelay } from './pipelines/train-flight-delay.js';
import { flightSteps } from './steps/index.js';

export const pipelines: readonly Pipeline[] = [flightDelaySummary, trainFlightDelay, releaseFlightDelay, driftRetrainFlightDelay, challengeFlightDelay, scoreFlights];

validateCatalog(pipelines);

export const flightDelayProject = defineProject({
  name: 'flight-delay',
  description: 'Flight delays on real 2001 flights (vega-datasets flights-3m): Steward\'s worked example',
  pipelines,
  // Registered even when no pipeline of this project uses them, for the tests' and a team's own pipelines.
  steps: flightSteps,
  features: featureDefinitions,
  enrichments,
  catalog: [rawFlightsCatalogEntry],
  start: { pipeline: 'train-flight-delay', params: { rows: 200_000 } },
});

export default flightDelayProject;
