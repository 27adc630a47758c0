/**
 * Reference statistics for drift monitoring (src/ml/tabular/profile.ts): every feature the model
 * takes over the training rows, and the model's predictions and metrics over the validation rows,
 * written as one JSON artifact. The output is what a version's `reference` metadata holds. It runs
 * in a thread of the CPU pool.
 */
import { z } from 'zod';
import { artifactDataset } from '../../src/lineage/datasets.js';
import { profileTabularReference } from '../../src/monitoring/tabular-reference.js';
import { defineStep } from '../../src/pipeline/step.js';
import { modelRefSchema } from './evaluate-model.js';
import { taskSchema, testFractionSchema, trainingSetRefSchema } from './train-model.js';

/** Where the reference profile is and what it covers (TabularReference). */
export const referenceProfileSchema = z.object({
  uri: z.string(),
  sha256: z.string(),
  features: z.array(z.string()),
  emptyFeatures: z.array(z.string()),
  trainRows: z.number().int(),
  validationRows: z.number().int(),
  task: taskSchema,
  /** The metric performance decay is measured on, and its value on the validation rows. */
  primaryMetric: z.string(),
  validationMetric: z.number(),
  /** A classifier's validation ROC AUC; absent for a regressor. */
  validationRocAuc: z.number().optional(),
});

export const profileReferenceInput = z.object({
  /** The chosen model (a trainModel output fits as it is). */
  model: modelRefSchema,
  trainingSet: trainingSetRefSchema,
  testFraction: testFractionSchema,
  /** A metric of the task decay is measured on (default: its primary metric). */
  primaryMetric: z.string().min(1).optional(),
});

export type ProfileReferenceInput = z.input<typeof profileReferenceInput>;
export type ReferenceProfileSummary = z.output<typeof referenceProfileSchema>;

export const profileReference = defineStep({
  name: 'profileReference',
  version: '1',
  description: "Profile the training rows' features and the model's validation predictions for drift monitoring.",
  input: profileReferenceInput,
  output: referenceProfileSchema,
  run: (input, ctx) =>
    profileTabularReference(ctx.artifacts, input.model, input.trainingSet, { testFraction: input.testFraction, ...(input.primaryMetric ? { primaryMetric: input.primaryMetric } : {}) }, ctx.cpu),
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.model.modelUri), artifactDataset(input.trainingSet.uri)],
    outputs: output ? [artifactDataset(output.uri)] : [],
  }),
  startToCloseTimeout: '30 minutes',
});
