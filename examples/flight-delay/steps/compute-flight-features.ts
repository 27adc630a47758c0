/**
 * The flight feature pipeline (examples/flight-delay/features/flights.ts): computes origin_delays and
 * route_delays from an ingestion's raw flights into the offline store, idempotently.
 */
import { z } from 'zod';
import { featureViewDataset, rowCountFacets } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { FLIGHT_FEATURES_VERSION, computeFlightFeatures as compute } from '../features/flights.js';
import { definitionsFingerprint } from '../../../pipelines/steps/apply-features.js';
import { featureDefinitions } from '../features/index.js';
import { rawFlightsDataset } from '../data/schema.js';

export const computeFlightFeatures = defineStep({
  name: 'computeFlightFeatures',
  version: '1',
  description: "Compute the flight feature views from an ingestion's raw flights into the offline store.",
  input: z.object({ ingestionId: z.string().min(1) }),
  output: z.object({
    flights: z.number(),
    /** Each view's ingestion into the offline store (reused when the same rows were ingested before). */
    views: z.array(z.object({ view: z.string(), ingestionId: z.number(), rows: z.number(), reused: z.boolean() })),
  }),
  run: async (input, ctx) => {
    const result = await compute(ctx.db, input.ingestionId, { onProgress: (view, rowsWritten) => ctx.progress({ view, rowsWritten }) });
    return {
      flights: result.flights,
      views: result.views.map((v) => ({ view: v.view, ingestionId: v.ingestionId, rows: v.rows, reused: v.reused })),
    };
  },
  fingerprint: async () => `${definitionsFingerprint(featureDefinitions)}:v${FLIGHT_FEATURES_VERSION}`,
  lineage: (input, { output }) => ({
    inputs: [rawFlightsDataset(input.ingestionId)],
    outputs: (output?.views ?? []).map((v) => ({ ...featureViewDataset(v.view), outputFacets: rowCountFacets(v.rows) })),
  }),
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
});
