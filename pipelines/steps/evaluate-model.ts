/**
 * Evaluates a trained model with its ONNX file in onnxruntime-node on the training set's most
 * recent (held-out) rows (src/ml/tabular/evaluate.ts): every metric of the task, the validation
 * window, fairness over the declared group columns, the declared behavioural checks, permutation
 * importance and curves, for choosing among candidates and for the model card. It runs in a thread
 * of the CPU pool.
 */
import { z } from 'zod';
import { artifactDataset } from '../../src/lineage/datasets.js';
import type { ImportanceSummary, TabularCurves, TabularFairness } from '../../src/ml/tabular/evaluate.js';
import { evaluateTabularModel } from '../../src/ml/tabular/evaluate.js';
import { defineStep } from '../../src/pipeline/step.js';
import type { BehaviourMetadata } from '../../src/registry/version-metadata.js';
import { tabularColumnsSchema, taskSchema, testFractionSchema, trainingSetRefSchema } from './train-model.js';

/** Fairness over one column's groups (FairnessDeclaration). */
export const fairnessDeclarationSchema = z.strictObject({
  column: z.string().min(1),
  description: z.string().optional(),
  minDisparateImpactRatio: z.number().min(0).max(1).optional(),
  maxErrorRatio: z.number().min(1).optional(),
});

/** A behavioural check on a named feature (BehaviourDeclaration). */
export const behaviourDeclarationSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('invariance'),
    name: z.string().min(1),
    feature: z.string().min(1),
    values: z.array(z.union([z.string(), z.number()])).min(1),
    tolerance: z.number().nonnegative().optional(),
  }),
  z.strictObject({
    kind: z.literal('directional'),
    name: z.string().min(1),
    feature: z.string().min(1),
    delta: z.number(),
    direction: z.enum(['increase', 'decrease', 'non-decreasing', 'non-increasing']),
    tolerance: z.number().nonnegative().optional(),
  }),
]);

/** What evaluating needs of a model: a trainModel output fits as it is; keys beyond these pass through. */
export const modelRefSchema = z.looseObject({
  modelUri: z.string().min(1),
  task: taskSchema,
  columns: tabularColumnsSchema,
});

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;

/**
 * An evaluation (TabularEvaluation). Fairness, behaviour, curves and importance are nested reports
 * the registry validates itself (src/registry/version-metadata.ts) when a version is registered
 * with them: here they pass through as they are.
 */
export const evaluationSchema = z.object({
  task: taskSchema,
  rows: z.number().int(),
  /** Every metric of the task (TASK_METRICS), e.g. { rocAuc, prAuc, ... } or { rmse, mae, r2 }. */
  metrics: z.record(z.string(), z.number()),
  validation: z.object({ description: z.string(), rows: z.number().int(), positives: z.number().int().optional(), from: z.string(), to: z.string() }),
  /** One report per declared group column, each with `passed`. */
  fairness: z.array(z.custom<TabularFairness>((v) => isObject(v) && typeof (v as { passed?: unknown }).passed === 'boolean')),
  behaviour: z.custom<BehaviourMetadata>((v) => isObject(v) && Array.isArray((v as { results?: unknown }).results)).nullable(),
  curves: z.custom<TabularCurves>(isObject),
  importance: z.custom<ImportanceSummary>((v) => isObject(v) && Array.isArray((v as { features?: unknown }).features)).nullable(),
});

export const evaluateModelInput = z.object({
  model: modelRefSchema,
  trainingSet: trainingSetRefSchema,
  testFraction: testFractionSchema,
  fairness: z.array(fairnessDeclarationSchema).optional(),
  behaviour: z.array(behaviourDeclarationSchema).optional(),
  /** Permutation importance on the held-out rows (default true). */
  importance: z.boolean().default(true),
});

export type FairnessDeclarationInput = z.output<typeof fairnessDeclarationSchema>;
export type BehaviourDeclarationInput = z.output<typeof behaviourDeclarationSchema>;
export type ModelRefInput = z.output<typeof modelRefSchema>;
export type EvaluateModelInput = z.input<typeof evaluateModelInput>;
export type ModelEvaluation = z.output<typeof evaluationSchema>;

export const evaluateModel = defineStep({
  name: 'evaluateModel',
  version: '1',
  description: "Evaluate a model in onnxruntime-node on the training set's most recent rows: metrics, fairness, behaviour, importance, curves.",
  input: evaluateModelInput,
  output: evaluationSchema,
  run: (input, ctx) =>
    evaluateTabularModel(
      ctx.artifacts,
      input.model,
      input.trainingSet,
      { testFraction: input.testFraction, fairness: input.fairness ?? [], behaviour: input.behaviour ?? [], importance: input.importance },
      ctx.cpu,
    ),
  lineage: (input) => ({ inputs: [artifactDataset(input.model.modelUri), artifactDataset(input.trainingSet.uri)] }),
  startToCloseTimeout: '30 minutes',
});
