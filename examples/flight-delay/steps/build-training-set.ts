/**
 * The flight-delay training set straight from raw flights (examples/flight-delay/features/raw-training-set.ts):
 * calendar features, distance and the origin's trailing 7-day delays, each flight seeing only
 * flights that left before it. buildTrainingSetFromStore builds the same columns through the store.
 */
import { z } from 'zod';
import { buildFlightTrainingSet } from '../features/raw-training-set.js';
import { artifactDataset, rowCountFacets } from '../../../src/lineage/datasets.js';
import type { OutputDataset } from '../../../src/lineage/openlineage.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { rawFlightsDataset } from '../data/schema.js';

/** A training set artifact (Arrow IPC) and what it holds: what the trainer's steps read. */
export const trainingSetSchema = z.object({
  /** `artifact://sha256/<hex>` */
  uri: z.string(),
  sha256: z.string(),
  bytes: z.number(),
  rows: z.number(),
  positives: z.number(),
  /** The first and last departure, ISO 8601. */
  from: z.string(),
  to: z.string(),
  features: z.array(z.string()),
  label: z.string(),
});

export type TrainingSet = z.output<typeof trainingSetSchema>;

/** The training set as an OpenLineage output, with its row count and size. */
export const trainingSetDataset = (o: { uri: string; bytes?: number; rows?: number }): OutputDataset => ({
  ...artifactDataset(o.uri),
  ...(o.rows !== undefined ? { outputFacets: rowCountFacets(o.rows, o.bytes) } : {}),
});

export const trainingSetInput = z.object({
  ingestionId: z.string().min(1),
  /** A flight is labelled delayed when it left more than this many minutes late. */
  delayThresholdMinutes: z.number(),
});

export const buildTrainingSet = defineStep({
  name: 'buildFlightTrainingSet',
  version: '1',
  description: 'Build the point-in-time flight-delay training set from raw flights.',
  input: trainingSetInput,
  output: trainingSetSchema,
  run: (input, ctx) => buildFlightTrainingSet(ctx.db, ctx.artifacts, input.ingestionId, { delayThresholdMinutes: input.delayThresholdMinutes }),
  lineage: (input, { output }) => ({
    inputs: [rawFlightsDataset(input.ingestionId)],
    outputs: output ? [trainingSetDataset(output)] : [],
  }),
  access: () => [{ permission: 'train-on', resource: 'dataset:raw_flights', sensitivity: 'internal' }],
  startToCloseTimeout: '30 minutes',
});
