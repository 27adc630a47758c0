// Steward's built-in project: every pipeline, feature definition and enrichment that ships with
// Steward. A team's steward.config.ts adds its own beside them (src/app/project.ts).
import type { Pipeline } from '../src/pipeline/definition.js';
import { validateCatalog } from '../src/pipeline/catalog.js';
import { defineProject } from '../src/project/define.js';
import { approvePurpose } from './approve-purpose.js';
import { challengeFlightDelay } from './flight-delay/challenge-flight-delay.js';
import { driftRetrainFlightDelay } from './flight-delay/drift-retrain-flight-delay.js';
import { enrichments } from './flight-delay/features/enrichments.js';
import { featureDefinitions } from './flight-delay/features/index.js';
import { flightDelaySummary } from './flight-delay/flight-delay-summary.js';
import { releaseFlightDelay } from './flight-delay/release-flight-delay.js';
import { scoreFlights } from './flight-delay/score-flights.js';
import { flightSteps } from './flight-delay/steps/index.js';
import { modelPipelines } from './models.js';
import { builtinSteps } from './steps/index.js';
import { trainFlightDelay } from './flight-delay/train-flight-delay.js';

export const pipelines: readonly Pipeline[] = [flightDelaySummary, trainFlightDelay, releaseFlightDelay, approvePurpose, driftRetrainFlightDelay, challengeFlightDelay, scoreFlights];

validateCatalog(pipelines);

export const builtinProject = defineProject({
  name: 'steward',
  description: "Steward's built-in pipelines: the flight-delay example, release, drift retraining, batch scoring and purpose approval",
  pipelines,
  // Registered even when no built-in pipeline uses them, for teams' pipelines to.
  steps: [...builtinSteps, ...flightSteps],
  features: featureDefinitions,
  enrichments,
  // A project's declared models become their train, release and drift-retrain pipelines here.
  modelPipelines: (model, project) => modelPipelines(model, project),
});
