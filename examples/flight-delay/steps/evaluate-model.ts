/**
 * Evaluates an ONNX model through onnxruntime-node on a training set's most recent rows: the
 * metrics, plus the validation set, fairness by origin hub size, behavioural checks and curves for
 * the model card. It runs in a thread of the CPU pool.
 */
import { z } from 'zod';
import { evaluateFlightDelayModel } from '../ml/flight-delay-model.js';
import { artifactDataset } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';
import type { BehaviourMetadata, CurvesMetadata, FairnessMetadata } from '../../../src/registry/version-metadata.js';

/**
 * An evaluation (Evaluation in examples/flight-delay/ml/flight-delay-model.ts). Fairness, behaviour and curves are
 * large nested reports the registry validates itself (src/registry/version-metadata.ts) when a
 * version is registered with them: here they pass through as they are.
 */
export const evaluationSchema = z.object({
  rows: z.number(),
  rocAuc: z.number(),
  prAuc: z.number(),
  logLoss: z.number(),
  brier: z.number(),
  precision: z.number(),
  recall: z.number(),
  positiveRate: z.number(),
  validation: z.object({ description: z.string(), rows: z.number(), positives: z.number(), from: z.string(), to: z.string() }),
  fairness: z.custom<FairnessMetadata>(),
  behaviour: z.custom<BehaviourMetadata>(),
  curves: z.custom<CurvesMetadata>(),
});

export type ModelEvaluation = z.output<typeof evaluationSchema>;

export const evaluateModel = defineStep({
  name: 'evaluateFlightModel',
  // v2: also the validation set, fairness by origin hub size, behavioural checks and curves for the model card.
  version: '2',
  description: 'Evaluate an ONNX model on the held-out most recent flights.',
  input: z.object({
    modelUri: z.string().min(1),
    trainingSetUri: z.string().min(1),
    testFraction: z.number(),
  }),
  output: evaluationSchema,
  run: (input, ctx) => evaluateFlightDelayModel(ctx.artifacts, input.modelUri, input.trainingSetUri, { testFraction: input.testFraction }, ctx.cpu),
  lineage: (input) => ({ inputs: [artifactDataset(input.modelUri), artifactDataset(input.trainingSetUri)] }),
  startToCloseTimeout: '30 minutes',
});
