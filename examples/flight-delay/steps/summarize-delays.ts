/** Summarizes an ingestion's departure delays per origin airport (written once per step run). */
import { z } from 'zod';
import { summarizeDelays as summarize } from '../data/flights.js';

import { defineStep } from '../../../src/pipeline/step.js';
import { rawFlightsDataset } from '../data/schema.js';

export const airportDelaySchema = z.object({
  origin: z.string(),
  flights: z.number(),
  meanDelayMinutes: z.number(),
  delayedShare: z.number(),
});

export const summarizeDelays = defineStep({
  name: 'summarizeDelays',
  version: '1',
  description: 'Summarize departure delays per origin airport.',
  input: z.object({
    ingestionId: z.string().min(1),
    delayThresholdMinutes: z.number(),
  }),
  output: z.object({
    summaryId: z.string(),
    flights: z.number(),
    airports: z.number(),
    delayedShare: z.number(),
    /** The airports with the highest share of delayed departures (at least 500 flights). */
    worstAirports: z.array(airportDelaySchema),
    reused: z.boolean(),
  }),
  run: (input, ctx) => summarize(ctx.db, input.ingestionId, ctx.idempotencyKey, { ...ctx.writeOptions, delayThresholdMinutes: input.delayThresholdMinutes }),
  lineage: (input) => ({ inputs: [rawFlightsDataset(input.ingestionId)] }),
  startToCloseTimeout: '5 minutes',
});
