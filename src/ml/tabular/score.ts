/**
 * What evaluation and the reference profile share: the held-out rows of a training set scored by
 * the ONNX model in onnxruntime-node (P(class 1) for a classifier, the predicted value for a
 * regressor), and every metric of the task on those scores (TASK_METRICS), so the reference's
 * baseline is exactly the evaluation's figure.
 */
import type { Table } from 'apache-arrow';
import { InferenceSession } from 'onnxruntime-node';
import { ValidationError } from '../../errors.js';
import { brierScore, logLoss, mae, prAuc, r2, rmse, rocAuc, thresholdMetrics } from '../metrics/index.js';
import { onnxScorer, type Scorer } from '../scoring.js';
import { countPositives, readTrainingSet, splitByTime, type TabularSplit } from './frame.js';
import { PRIMARY_METRIC, TASK_METRICS, type TabularColumns, type Task } from './task.js';
import { checkTask } from './train.js';

/** The decision threshold of the threshold metrics (accuracy, precision, recall, f1) and of fairness. */
export const DECISION_THRESHOLD = 0.5;

/** What a model task gets: the ONNX bytes, the training set's bytes, and how to read and split them. */
export interface ModelTaskInput {
  model: Uint8Array;
  trainingSet: Uint8Array;
  dataset: string;
  task: Task;
  columns: TabularColumns;
  testFraction: number;
}

/** A scorer of the model's output for the task: column 1 of `probabilities`, or `variable`. */
export function taskScorer(session: InferenceSession, task: Task): Scorer {
  return task === 'binary-classification' ? onnxScorer(session, { output: 'probabilities', column: 1 }) : onnxScorer(session, { output: 'variable' });
}

/** Every metric of the task, in TASK_METRICS' order. */
export function taskMetrics(task: Task, labels: Float64Array, scores: Float64Array): Record<string, number> {
  if (task === 'regression') return { rmse: rmse(labels, scores), mae: mae(labels, scores), r2: r2(labels, scores) };
  const atThreshold = thresholdMetrics(labels, scores, DECISION_THRESHOLD);
  const all: Record<string, number> = {
    rocAuc: rocAuc(labels, scores),
    prAuc: prAuc(labels, scores),
    logLoss: logLoss(labels, scores),
    brier: brierScore(labels, scores),
    accuracy: atThreshold.accuracy,
    precision: atThreshold.precision,
    recall: atThreshold.recall,
    f1: atThreshold.f1,
  };
  return Object.fromEntries(Object.keys(TASK_METRICS[task]).map((metric) => [metric, all[metric]!]));
}

/** `metric`, checked against the task's metrics (default: the task's primary metric). */
export function metricOfTask(task: Task, metric: string | undefined, role: string): string {
  const chosen = metric ?? PRIMARY_METRIC[task];
  if (!Object.hasOwn(TASK_METRICS[task], chosen)) {
    throw new ValidationError(`${role} "${chosen}" is not a metric of ${task}; its metrics are ${Object.keys(TASK_METRICS[task]).join(', ')}.`, {
      metric: chosen,
      task,
      metrics: Object.keys(TASK_METRICS[task]),
    });
  }
  return chosen;
}

/** Reads, splits and scores the held-out rows; `use` gets the open session, released afterwards. */
export async function withHeldOutScores<T>(input: ModelTaskInput, use: (held: HeldOut) => Promise<T>): Promise<T> {
  const { task, columns, dataset } = input;
  checkTask(task);
  const { table, data } = readTrainingSet(input.trainingSet, task, columns, { dataset });
  const split = splitByTime(data, task, columns, input.testFraction, { dataset });
  if (task === 'binary-classification') {
    const positives = countPositives(split.test.labels);
    if (positives === 0 || positives === split.test.rows) {
      throw new ValidationError(
        `Label "${columns.label}" of ${dataset} has only class ${positives === 0 ? 0 : 1} in the validation window (${split.validatedFrom} to ${split.validatedTo}, ${split.test.rows} rows): ROC AUC and the other metrics need both. Hold out a larger testFraction, or build the training set over a longer window.`,
        { dataset, column: columns.label, from: split.validatedFrom, to: split.validatedTo, rows: split.test.rows },
      );
    }
  }
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(input.model);
  } catch (error) {
    throw new ValidationError(`The model is not an ONNX file onnxruntime-node can load (${(error as Error).message}).`);
  }
  try {
    const score = taskScorer(session, task);
    const scores = await score(split.test.frame);
    return await use({ table, split, score, scores });
  } finally {
    await session.release();
  }
}

export interface HeldOut {
  table: Table;
  split: TabularSplit;
  /** Scores any frame of the model's features. */
  score: Scorer;
  /** The held-out rows' scores. */
  scores: Float64Array;
}
