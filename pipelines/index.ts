// Every pipeline this deployment can run: `steward run <name>`, the HTTP API and schedules find them here.
import type { Pipeline } from '../src/pipeline/definition.js';
import { validateCatalog } from '../src/pipeline/catalog.js';
import { approvePurpose } from './approve-purpose.js';
import { challengeFlightDelay } from './challenge-flight-delay.js';
import { driftRetrainFlightDelay } from './drift-retrain-flight-delay.js';
import { flightDelaySummary } from './flight-delay-summary.js';
import { releaseFlightDelay } from './release-flight-delay.js';
import { scoreFlights } from './score-flights.js';
import { trainFlightDelay } from './train-flight-delay.js';

export const pipelines: readonly Pipeline[] = [flightDelaySummary, trainFlightDelay, releaseFlightDelay, approvePurpose, driftRetrainFlightDelay, challengeFlightDelay, scoreFlights];

validateCatalog(pipelines);
