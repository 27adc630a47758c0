/**
 * `steward/ml`: training, evaluation and ONNX export, as Steward's own pipelines use them. Models
 * train on a columnar `FeatureFrame` (a Float64Array per numeric feature, a string array per
 * categorical one) with their preprocessing fitted inside; `exportOnnx` turns one into an ONNX
 * graph and hands it out only after onnxruntime-node has reproduced the TypeScript predictions on
 * held-out rows. Metrics match scikit-learn's.
 *
 * @example
 * import { trainLogisticRegression, predictProbabilities, exportOnnx, modelSignature, rocAuc } from 'steward/ml';
 * const model = trainLogisticRegression(train, trainLabels, { C: 1, classWeight: 'balanced' });
 * const auc = rocAuc(testLabels, predictProbabilities(model, test));
 * const { onnx, verification } = await exportOnnx(model, test);
 * const { uri, sha256 } = await ctx.artifacts.put(onnx);
 * await registerModelVersion(ctx.db, { ..., artifactUri: uri, artifactSha256: sha256, signature: modelSignature(model) });
 */
import type { Model } from '../ml/model.js';

// Any tabular task from declared columns: what the built-in trainModel, evaluateModel and profileReference steps run.
export { trainTabularModel, evaluateTabularModel } from '../ml/tabular/index.js';
export { profileTabularReference } from '../monitoring/index.js';
export { TASKS, ALGORITHMS, TASK_METRICS, PRIMARY_METRIC, type Task, type Algorithm, type AlgorithmParams, type TabularColumns } from '../ml/tabular/task.js';

// Trainers and their predictions.
export {
  trainLogisticRegression,
  trainLinearRegression,
  predictProbabilities,
  predictValues,
  type LogisticRegressionOptions,
  type LinearRegressionOptions,
} from '../ml/linear.js';
export { trainGradientBoosting, predictGradientBoosting, type GradientBoostingOptions, type GradientBoostingLoss } from '../ml/gradient-boosting.js';

// Frames and the models' JSON form.
export { frameRows, selectRows, splitRows, type CategoricalValue, type FeatureFrame, type PreprocessingOptions } from '../ml/preprocessing.js';
export {
  parseModel,
  serializeModel,
  type GradientBoostingModel,
  type LinearModel,
  type LinearRegressionModel,
  type LogisticRegressionModel,
  type Model,
  type Preprocessor,
} from '../ml/model.js';

// ONNX: export (verified in onnxruntime-node), inspection, scoring.
export { exportOnnx, onnxFeeds, DEFAULT_ONNX_TOLERANCE, type OnnxExport, type OnnxVerification } from '../ml/onnx-export.js';
export { inspectOnnxModel, importOnnxModel, type OnnxSignature, type OnnxValueInfo, type OnnxImport } from '../ml/onnx-import.js';
export { onnxScorer, type Scorer, type OnnxScorerOptions, type FeedLayout } from '../ml/scoring.js';

// Metrics and cross-validation splits.
export {
  accuracy,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  f1Score,
  kFold,
  logLoss,
  mae,
  mape,
  prAuc,
  precision,
  r2,
  recall,
  rmse,
  rocAuc,
  stratifiedKFold,
  thresholdMetrics,
  timeSeriesSplit,
  type BinaryLabels,
  type CalibrationCurve,
  type ConfusionMatrix,
  type Fold,
  type ThresholdMetrics,
} from '../ml/metrics/index.js';

// Explanations, fairness and behavioural checks (what a model card shows).
export { explainModel, permutationImportance, partialDependence, type Explanation, type FeatureImportance } from '../ml/explain.js';
export { fairnessReport, type FairnessReport } from '../ml/fairness.js';
export { runBehaviouralChecks, invariance, directional, type BehaviouralCheck, type BehaviourResult } from '../ml/behaviour.js';

/** What a registered version's `signature` says of a model Steward exported: its inputs (one per feature) and outputs. */
export interface ModelSignature {
  inputs: Array<{ name: string; type: 'float' | 'string' }>;
  outputs: string[];
}

/**
 * The signature of `exportOnnx(model)`'s graph, for `registerModelVersion`: a float input per
 * numeric feature and a string input per categorical one, then `label` and `probabilities` for a
 * classifier or `variable` for a regressor. The registry checks it against the ONNX file.
 */
export function modelSignature(model: Model): ModelSignature {
  const pre = model.preprocessor;
  const classifier = model.kind === 'logistic-regression' || (model.kind === 'gradient-boosting' && model.loss === 'log-loss');
  return {
    inputs: [...pre.numeric.map((f) => ({ name: f.name, type: 'float' as const })), ...pre.categorical.map((f) => ({ name: f.name, type: 'string' as const }))],
    outputs: classifier ? ['label', 'probabilities'] : ['variable'],
  };
}
