/**
 * The flight-delay training set built through the feature store (examples/flight-delay/features/
 * flight-training-set.ts): each flight gets the flight_delay service's features as of its
 * departure. Its outputs are buildTrainingSet's plus the feature service used.
 */
import { z } from 'zod';
import type { StepAccess } from '../../../src/pipeline/step-runtime.js';
import { viewsOfService } from '../../../src/features/definitions.js';
import { viewSensitivity } from '../../../src/governance/catalog.js';
import { serviceViewDatasets } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { buildFlightTrainingSetFromStore } from '../features/flight-training-set.js';
import { FLIGHT_FEATURES_VERSION, flightDelayService } from '../features/flights.js';
import { definitionsFingerprint } from '../../../pipelines/steps/apply-features.js';
import { featureDefinitions } from '../features/index.js';
import { trainingSetDataset, trainingSetInput, trainingSetSchema } from './build-training-set.js';
import { rawFlightsDataset } from '../data/schema.js';

export const buildTrainingSetFromStore = defineStep({
  name: 'buildTrainingSetFromStore',
  version: '1',
  description: 'Build the flight-delay training set point in time through the feature store.',
  input: trainingSetInput,
  output: trainingSetSchema.extend({
    featureService: z.string(),
    featureServiceVersion: z.number(),
  }),
  run: (input, ctx) => buildFlightTrainingSetFromStore(ctx.db, ctx.artifacts, input.ingestionId, { delayThresholdMinutes: input.delayThresholdMinutes }),
  fingerprint: async () => `${definitionsFingerprint(featureDefinitions)}:v${FLIGHT_FEATURES_VERSION}`,
  // The step computes the service's views from raw flights, then joins each flight (entity rows and
  // labels) to them point in time: the views are its outputs and its inputs (graph.ts shows two stages).
  lineage: (input, { output }) => ({
    inputs: [rawFlightsDataset(input.ingestionId), ...serviceViewDatasets(flightDelayService)],
    outputs: output ? [trainingSetDataset(output), ...serviceViewDatasets(flightDelayService)] : [],
  }),
  access: () => [
    { permission: 'train-on', resource: 'dataset:raw_flights', sensitivity: 'internal' },
    ...viewsOfService(flightDelayService).map((view): StepAccess => ({ permission: 'train-on', resource: `feature_view:${view.name}`, sensitivity: viewSensitivity(view) })),
  ],
  startToCloseTimeout: '1 hour',
  // Its statements cover the whole ingestion, and PGlite runs them on the worker's own thread, so no
  // heartbeat leaves while one runs: on 966,409 flights (January-February) the thread was held for
  // over three minutes and the default 20 s timeout killed a step that was working.
  heartbeatTimeout: '10 minutes',
});
