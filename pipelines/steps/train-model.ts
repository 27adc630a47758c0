/**
 * Trains a model of a training set's task (binary classification or regression) with one algorithm
 * (linear or gradient-boosted trees) on the set's earlier rows, exports it to ONNX and checks the
 * export in onnxruntime-node against the TypeScript model on the held-out rows (src/ml/tabular/
 * train.ts). The training runs in a thread of the CPU pool; its progress is the step's heartbeat.
 * Deterministic: the same training set, parameters and seed give the same model artifact.
 */
import { z } from 'zod';
import { artifactDataset } from '../../src/lineage/datasets.js';
import { trainTabularModel } from '../../src/ml/tabular/train.js';
import { ALGORITHMS, TASKS } from '../../src/ml/tabular/task.js';
import { defineStep } from '../../src/pipeline/step.js';

export const taskSchema = z.enum(TASKS as ['binary-classification', 'regression']);
export const algorithmSchema = z.enum(ALGORITHMS as ['linear', 'gradient-boosting']);

/** Which columns of a training set play which part (TabularColumns). */
export const tabularColumnsSchema = z.object({
  label: z.string().min(1),
  time: z.string().min(1),
  numeric: z.array(z.string().min(1)).readonly(),
  categorical: z.array(z.string().min(1)).readonly(),
  keys: z.array(z.string().min(1)).readonly().optional(),
});

/** An algorithm's parameters (AlgorithmParams); an unknown name is refused rather than ignored. */
export const algorithmParamsSchema = z.strictObject({
  C: z.number().positive().optional(),
  classWeight: z.literal('balanced').optional(),
  maxIter: z.number().int().positive().optional(),
  learningRate: z.number().positive().optional(),
  maxLeafNodes: z.number().int().min(2).optional(),
  seed: z.number().int().optional(),
});

/**
 * A training set artifact and how to read it: a buildTrainingSet output (TrainingSetSummary) fits as
 * it is; keys beyond these pass through.
 */
export const trainingSetRefSchema = z.looseObject({
  /** `artifact://sha256/<hex>` of the Arrow IPC file, rows in time order. */
  uri: z.string().min(1),
  task: taskSchema,
  columns: tabularColumnsSchema,
});

/** The held-out share of the most recent rows, in (0, 1) (default 0.2). */
export const testFractionSchema = z.number().gt(0).lt(1).default(0.2);

/** A trained model: its ONNX artifact, its parameters as JSON, and how it was validated (TrainedTabularModel). */
export const trainedModelSchema = z.object({
  modelUri: z.string(),
  modelSha256: z.string(),
  /** The model's parameters as JSON (coefficients or trees, preprocessing), content-addressed. */
  specUri: z.string(),
  task: taskSchema,
  algorithm: algorithmSchema,
  /** The training set's columns the model was trained on. */
  columns: tabularColumnsSchema,
  trainRows: z.number().int(),
  validationRows: z.number().int(),
  /** The first and last example the model learned from. */
  trainFrom: z.string(),
  trainTo: z.string(),
  /** The first held-out example: the model never saw one from then on. */
  validatedFrom: z.string(),
  /** The largest difference between the ONNX and the TypeScript model's predictions. */
  onnxMaxAbsDiff: z.number(),
  signature: z.object({
    inputs: z.array(z.object({ name: z.string(), type: z.enum(['float', 'string']) })),
    outputs: z.array(z.string()),
  }),
});

export const trainModelInput = z.object({
  trainingSet: trainingSetRefSchema,
  algorithm: algorithmSchema,
  params: algorithmParamsSchema.default({}),
  testFraction: testFractionSchema,
});

export type TabularColumnsInput = z.output<typeof tabularColumnsSchema>;
export type AlgorithmParamsInput = z.output<typeof algorithmParamsSchema>;
export type TrainingSetRefInput = z.output<typeof trainingSetRefSchema>;
export type TrainModelInput = z.input<typeof trainModelInput>;
export type TrainedModel = z.output<typeof trainedModelSchema>;

export const trainModel = defineStep({
  name: 'trainModel',
  version: '1',
  description: "Train a model of the training set's task with one algorithm and export it to verified ONNX.",
  input: trainModelInput,
  output: trainedModelSchema,
  run: (input, ctx) =>
    trainTabularModel(ctx.artifacts, input.trainingSet, { algorithm: input.algorithm, params: input.params, testFraction: input.testFraction }, ctx.cpu),
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.trainingSet.uri)],
    outputs: output ? [artifactDataset(output.modelUri), artifactDataset(output.specUri)] : [],
  }),
  startToCloseTimeout: '1 hour',
});
