/**
 * Reference statistics for drift monitoring (src/monitoring/reference.ts): every model feature over
 * the training rows, and the chosen model's predictions and metrics over the validation rows,
 * written as one JSON artifact. It runs in a thread of the CPU pool.
 */
import { z } from 'zod';
import { profileFlightDelayReference } from '../ml/flight-delay-model.js';
import { artifactDataset } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';

/** Where the reference profile is and what it covers (ReferenceProfileResult), stored in the version's metadata. */
export const referenceProfileSchema = z.object({
  uri: z.string(),
  sha256: z.string(),
  features: z.array(z.string()),
  emptyFeatures: z.array(z.string()),
  trainRows: z.number(),
  validationRows: z.number(),
  validationRocAuc: z.number(),
});

export const profileReference = defineStep({
  name: 'profileFlightReference',
  version: '1',
  description: "Profile the training rows' features and the model's validation predictions for drift monitoring.",
  input: z.object({
    /** The chosen model (a trainModel output; only its ONNX artifact is read). */
    model: z.object({ modelUri: z.string().min(1) }),
    trainingSetUri: z.string().min(1),
    testFraction: z.number(),
  }),
  output: referenceProfileSchema,
  run: (input, ctx) => profileFlightDelayReference(ctx.artifacts, input.model.modelUri, input.trainingSetUri, { testFraction: input.testFraction }, ctx.cpu),
  lineage: (input) => ({ inputs: [artifactDataset(input.model.modelUri), artifactDataset(input.trainingSetUri)] }),
  startToCloseTimeout: '30 minutes',
});
