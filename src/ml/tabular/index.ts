/**
 * Tabular models of any task, driven by declarations: which columns of a training set are the
 * label, the time and the features (task.ts), read and split by time (frame.ts), trained and
 * exported to verified ONNX (train.ts), evaluated in onnxruntime-node with fairness, behavioural
 * checks, importance and curves (evaluate.ts); their drift reference is drift monitoring's
 * (src/monitoring/tabular-reference.ts). The built-in steps (pipelines/steps/{train,evaluate,
 * choose}-model.ts) call these.
 *
 * @example
 * const set = { uri, task: 'binary-classification', columns: { label: 'rainTomorrow', time: 'date', numeric: ['wind'], categorical: ['weather'] } };
 * const model = await trainTabularModel(artifacts, set, { algorithm: 'gradient-boosting', params: { maxIter: 50 }, testFraction: 0.2 });
 * const evaluation = await evaluateTabularModel(artifacts, model, set, { testFraction: 0.2, fairness: [{ column: 'weather' }] });
 * evaluation.metrics.rocAuc;
 */
export * from './task.js';
export {
  countPositives,
  readGroupColumn,
  readTabular,
  readTrainingSet,
  splitByTime,
  type ReadOptions,
  type TabularData,
  type TabularPart,
  type TabularSplit,
} from './frame.js';
export {
  checkAlgorithm,
  checkTask,
  fitModel,
  plainColumns,
  signatureOf,
  tabularTrainTask,
  trainOnTabular,
  trainTabularModel,
  type CpuOptions,
  type ModelSignature,
  type PlainColumns,
  type TrainedTabularModel,
  type TrainingSetRef,
  type TrainOptions,
  type TrainTaskInput,
  type TrainTaskOutput,
} from './train.js';
export { DECISION_THRESHOLD, metricOfTask, taskMetrics, taskScorer, type ModelTaskInput } from './score.js';
export {
  BEHAVIOUR_SAMPLE_ROWS,
  DEFAULT_MAX_ERROR_RATIO,
  DEFAULT_MIN_DISPARATE_IMPACT_RATIO,
  IMPORTANCE_SAMPLE_ROWS,
  MAX_FAIRNESS_GROUPS,
  evaluateOnTabular,
  evaluateTabularModel,
  modelTaskInput,
  regressionCurves,
  rocCurve,
  tabularEvaluateTask,
  type ClassificationFairness,
  type EvaluateOptions,
  type ImportanceSummary,
  type ModelRef,
  type RegressionFairness,
  type TabularCurves,
  type TabularEvaluation,
  type TabularFairness,
} from './evaluate.js';
