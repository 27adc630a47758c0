/**
 * Trains a flight-delay classifier (logistic regression or gradient-boosted trees) on a training
 * set's earlier rows, exports it to ONNX and checks the export against the TypeScript model. The
 * training runs in a thread of the CPU pool; its progress is the step's heartbeat.
 */
import { z } from 'zod';
import { trainFlightDelayModel } from '../ml/flight-delay-model.js';
import { artifactDataset } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';

export const algorithmSchema = z.enum(['logistic-regression', 'gradient-boosting']);

/** A trained model: its ONNX artifact, its parameters as JSON, and how it was validated. */
export const trainedModelSchema = z.object({
  modelUri: z.string(),
  modelSha256: z.string(),
  /** The model's parameters as JSON (coefficients or trees, preprocessing), content-addressed. */
  specUri: z.string(),
  algorithm: algorithmSchema,
  trainRows: z.number(),
  validationRows: z.number(),
  /** The first held-out departure: the model never saw a flight from then on. */
  validatedFrom: z.string(),
  /** The largest difference between the ONNX and the TypeScript model's probabilities. */
  onnxMaxAbsDiff: z.number(),
  signature: z.object({
    inputs: z.array(z.object({ name: z.string(), type: z.enum(['float', 'string']) })),
    outputs: z.array(z.string()),
  }),
});

export type TrainedModel = z.output<typeof trainedModelSchema>;

export const trainModel = defineStep({
  name: 'trainFlightModel',
  // v2: the algorithm is an input (logistic regression or gradient-boosted trees).
  version: '2',
  description: 'Train a flight-delay model and export it to ONNX.',
  input: z.object({
    trainingSetUri: z.string().min(1),
    /** The most recent share of rows held out for validation. */
    testFraction: z.number(),
    algorithm: algorithmSchema,
    /** Logistic regression's inverse L2 strength. */
    C: z.number().optional(),
    /** Gradient boosting's trees and learning rate. */
    maxIter: z.number().optional(),
    learningRate: z.number().optional(),
  }),
  output: trainedModelSchema,
  run: (input, ctx) => trainFlightDelayModel(ctx.artifacts, input.trainingSetUri, input, ctx.cpu),
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.trainingSetUri)],
    outputs: output ? [artifactDataset(output.modelUri), artifactDataset(output.specUri)] : [],
  }),
  startToCloseTimeout: '1 hour',
});
