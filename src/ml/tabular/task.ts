/**
 * The vocabulary of tabular models, shared by the trainer (src/ml/tabular), the training set builder
 * (src/features/training-set.ts), the built-in steps and a project's model declarations: the task,
 * the algorithms, which columns of a training set are the label, the time and the features, and
 * each task's metrics with the direction that is better.
 */

/** What a model predicts: a 0/1 label's probability, or a number. */
export type Task = 'binary-classification' | 'regression';
export const TASKS: readonly Task[] = ['binary-classification', 'regression'];

/** `linear` is logistic regression for classification and (ridge) linear regression for regression. */
export type Algorithm = 'linear' | 'gradient-boosting';
export const ALGORITHMS: readonly Algorithm[] = ['linear', 'gradient-boosting'];

/** An algorithm's parameters; each algorithm reads its own and ignores the rest. */
export interface AlgorithmParams {
  /** Linear models: inverse L2 strength (default 1). */
  C?: number;
  /** Logistic regression: weigh each class by rows / (2 · rows of the class) (default: every row weighs 1). */
  classWeight?: 'balanced';
  /** Gradient boosting: trees (default 100), learning rate (default 0.1), leaves per tree (default 31). */
  maxIter?: number;
  learningRate?: number;
  maxLeafNodes?: number;
  /** Seeds every random choice (default 0): the same rows and seed give the same bytes. */
  seed?: number;
}

/**
 * Which columns of a training set (an Arrow IPC artifact, rows in time order) play which part.
 * `time` holds epoch milliseconds (Float64) or an Arrow timestamp; the label is Int8/number 0/1 for
 * classification and a number for regression; numeric features are numbers (null = missing) and
 * categorical features strings (null = missing).
 */
export interface TabularColumns {
  label: string;
  time: string;
  numeric: readonly string[];
  categorical: readonly string[];
  /** Entity key columns, carried for grouping and lineage, never features. */
  keys?: readonly string[];
}

export type MetricDirection = 'higher' | 'lower';

/** Every metric an evaluation of the task reports, and which way is better. */
export const TASK_METRICS: Readonly<Record<Task, Readonly<Record<string, MetricDirection>>>> = {
  'binary-classification': {
    rocAuc: 'higher',
    prAuc: 'higher',
    logLoss: 'lower',
    brier: 'lower',
    accuracy: 'higher',
    precision: 'higher',
    recall: 'higher',
    f1: 'higher',
  },
  regression: {
    rmse: 'lower',
    mae: 'lower',
    r2: 'higher',
  },
};

/** The metric a task's candidates are ranked by, and drift decay is measured on, unless declared. */
export const PRIMARY_METRIC: Readonly<Record<Task, string>> = {
  'binary-classification': 'rocAuc',
  regression: 'rmse',
};

/** How messages, reports and model cards name a metric. */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  rocAuc: 'ROC AUC',
  prAuc: 'PR AUC',
  logLoss: 'log loss',
  brier: 'Brier score',
  accuracy: 'accuracy',
  precision: 'precision',
  recall: 'recall',
  f1: 'F1',
  rmse: 'RMSE',
  mae: 'MAE',
  r2: 'R²',
};

export const metricLabel = (metric: string): string => METRIC_LABELS[metric] ?? metric;

/** True when `a` is better than `b` on `metric` of `task`. */
export function isBetter(task: Task, metric: string, a: number, b: number): boolean {
  const direction = TASK_METRICS[task][metric];
  if (!direction) throw new Error(`${task} has no metric "${metric}"`);
  return direction === 'higher' ? a > b : a < b;
}

/** Fairness over one column's groups: the task's metric per group, and the gap allowed. */
export interface FairnessDeclaration {
  /** A column of the training set (a feature, or an entity key). */
  column: string;
  description?: string;
  /** Classification: the least disparate impact ratio (default 0.8). */
  minDisparateImpactRatio?: number;
  /** Regression: the largest ratio of the worst group's RMSE to the overall RMSE (default 1.5). */
  maxErrorRatio?: number;
}

/** A behavioural check, declared on a named feature (see ../behaviour.ts). */
export type BehaviourDeclaration =
  | { kind: 'invariance'; name: string; feature: string; /** Values swapped in; the score may move at most `tolerance`. */ values: ReadonlyArray<string | number>; tolerance?: number }
  | { kind: 'directional'; name: string; feature: string; /** Added to a numeric feature. */ delta: number; direction: 'increase' | 'decrease' | 'non-decreasing' | 'non-increasing'; tolerance?: number };
