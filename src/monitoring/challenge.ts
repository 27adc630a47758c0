/**
 * Champion against challenger on the same labelled rows, scored again by both versions' ONNX models
 * in onnxruntime-node, so their metrics are measured on exactly the same rows. Two sources of rows:
 *
 * - a window of the champion's prediction log whose rows have ground truth by now
 *   (`compareVersionsOnWindow`; `compareOnWindow` is its ROC AUC form, as callers from before tasks read it);
 * - a training set's rows that neither version trained on (`compareVersionsOnTrainingSet`): those
 *   after the last example either learned from, by the training windows their cards record. A
 *   challenger retrained on data through a window is compared there, on rows it held out.
 *
 * The metric is the champion's reference primary metric (ROC AUC for a classifier, RMSE for a
 * regressor, or what the model declared; ROC AUC for references from before tasks), unless given.
 * `improvement` is how much better the challenger is in the metric's units: positive when its ROC
 * AUC is higher or its RMSE lower.
 */
import { InferenceSession } from 'onnxruntime-node';
import type { ModelVersion } from '../db/schema.js';
import type { Database } from '../db/client.js';
import { ValidationError } from '../errors.js';
import type { FeatureFrame } from '../ml/preprocessing.js';
import { readTrainingSet } from '../ml/tabular/frame.js';
import { taskScorer } from '../ml/tabular/score.js';
import { metricLabel, PRIMARY_METRIC, TASK_METRICS, TASKS, type MetricDirection, type TabularColumns, type Task } from '../ml/tabular/task.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { resolveVersion } from '../registry/lookup.js';
import { readVersionMetadata } from '../registry/version-metadata.js';
import { readPredictionWindow, taskMetric, worsening } from './window.js';

export interface ChallengeInput {
  model: string;
  /** Version number or alias of the champion (whose logged traffic is replayed). */
  champion: string | number;
  challenger: number;
  from: Date;
  to: Date;
  /** Fewer labelled rows than this and no comparison is made. */
  minLabelledRows: number;
}

/** A classifier comparison as callers from before tasks read it: ROC AUC of both versions on the window's labelled rows. */
export interface ChallengeResult {
  rows: number;
  positives: number;
  champion: { version: number; rocAuc: number };
  challenger: { version: number; rocAuc: number };
  /** challenger - champion. */
  improvement: number;
}

/** Both versions' value of one metric on the same rows. */
export interface VersionComparison {
  task: Task;
  metric: string;
  direction: MetricDirection;
  rows: number;
  /** Classification: rows labelled 1; regression: 0. */
  positives: number;
  champion: { version: number; value: number };
  challenger: { version: number; value: number };
  /** How much better the challenger is, in the metric's units (negative: worse). */
  improvement: number;
}

/** ROC AUC of champion and challenger on a window's labelled rows (binary classifiers). */
export async function compareOnWindow(db: Database, artifacts: ArtifactStore, input: ChallengeInput): Promise<ChallengeResult> {
  const result = await compareVersionsOnWindow(db, artifacts, { ...input, metric: 'rocAuc', task: 'binary-classification' });
  return {
    rows: result.rows,
    positives: result.positives,
    champion: { version: result.champion.version, rocAuc: result.champion.value },
    challenger: { version: result.challenger.version, rocAuc: result.challenger.value },
    improvement: result.improvement,
  };
}

/** The task and the metric of a comparison: given, or the champion's reference primary metric. */
export function comparisonMetric(champion: ModelVersion, given: { task?: Task; metric?: string } = {}): { task: Task; metric: string; direction: MetricDirection } {
  const reference = readVersionMetadata(champion.metadata).metadata.reference as { task?: string; primaryMetric?: string } | undefined;
  const recorded = reference?.task;
  const task: Task = given.task ?? (TASKS.includes(recorded as Task) ? (recorded as Task) : 'binary-classification');
  const metric = given.metric ?? reference?.primaryMetric ?? PRIMARY_METRIC[task];
  const direction = TASK_METRICS[task][metric];
  if (!direction) {
    throw new ValidationError(`Cannot compare ${champion.modelName} versions on "${metric}": it is not a metric of ${task}; its metrics are ${Object.keys(TASK_METRICS[task]).join(', ')}.`, { metric, task });
  }
  return { task, metric, direction };
}

/** Champion and challenger scored on the labelled rows of a window the champion served. */
export async function compareVersionsOnWindow(
  db: Database,
  artifacts: ArtifactStore,
  input: ChallengeInput & { metric?: string; task?: Task },
): Promise<VersionComparison> {
  const champion = await resolveVersion(db, input.model, input.champion);
  const challenger = await resolveVersion(db, input.model, input.challenger);
  const { task, metric, direction } = comparisonMetric(champion, input);
  const window = await readPredictionWindow(db, { model: input.model, version: champion.version, from: input.from, to: input.to });
  const labelled: number[] = [];
  window.labels.forEach((label, i) => {
    if (label === label) labelled.push(i);
  });
  const labels = Float64Array.from(labelled, (i) => (task === 'binary-classification' ? (window.labels[i]! > 0.5 ? 1 : 0) : window.labels[i]!));
  const positives = task === 'binary-classification' ? labels.reduce((a, b) => a + b, 0) : 0;
  const oneClass = task === 'binary-classification' && (positives === 0 || positives === labelled.length);
  if (labelled.length < input.minLabelledRows || oneClass) {
    throw new ValidationError(
      `Cannot compare ${input.model} v${challenger.version} with v${champion.version}: the window ${input.from.toISOString()} to ${input.to.toISOString()} has ${labelled.length} labelled rows${task === 'binary-classification' ? ` (${positives} positive)` : ''}; at least ${input.minLabelledRows}${task === 'binary-classification' ? ' with both outcomes' : ''} are needed.`,
      { labelled: labelled.length, positives },
    );
  }
  const frameFor = (types: Map<string, string>): FeatureFrame => {
    const frame: Required<FeatureFrame> = { numeric: {}, categorical: {} };
    for (const [name, type] of types) {
      const values = window.columns[name];
      if (!values) throw new ValidationError(`The logged requests carry no "${name}", which ${input.model} needs.`, { input: name });
      if (type === 'string') frame.categorical[name] = labelled.map((i) => (typeof values[i] === 'string' ? (values[i] as string) : null));
      else frame.numeric[name] = Float64Array.from(labelled, (i) => (typeof values[i] === 'number' ? (values[i] as number) : Number.NaN));
    }
    return frame;
  };
  const championValue = taskMetric(task, metric, labels, await scoreVersion(artifacts, champion, task, frameFor));
  const challengerValue = taskMetric(task, metric, labels, await scoreVersion(artifacts, challenger, task, frameFor));
  return {
    task,
    metric,
    direction,
    rows: labelled.length,
    positives,
    champion: { version: champion.version, value: championValue },
    challenger: { version: challenger.version, value: challengerValue },
    improvement: worsening(direction, challengerValue, championValue),
  };
}

export interface TrainingSetComparisonInput {
  model: string;
  /** Version number or alias of the champion. */
  champion: string | number;
  challenger: number;
  /** A training set artifact (a buildTrainingSet output): its rows after both versions' training windows are compared on. */
  trainingSet: { uri: string; task: Task; columns: TabularColumns };
  /** Default: the champion's reference primary metric. */
  metric?: string;
}

export interface TrainingSetComparison {
  /** Rows after both versions' last training example, or null when there are none. */
  from: string | null;
  to: string | null;
  /** The later of the two versions' last training examples: the compared rows come after it. */
  after: string;
  comparison: VersionComparison | null;
  /** Why no comparison was made (too few rows, one class), or null. */
  reason: string | null;
}

/**
 * Both versions scored on a training set's rows that neither learned from: those stamped after the
 * later of the two training windows' ends (each version's card records `training.to`, the last
 * example it learned from, or for older versions the first it held out). Fewer than `minRows` such
 * rows (or, for a classifier, rows of one class only) make no comparison, with the reason.
 */
export async function compareVersionsOnTrainingSet(db: Database, artifacts: ArtifactStore, input: TrainingSetComparisonInput, options: { minRows: number }): Promise<TrainingSetComparison> {
  const champion = await resolveVersion(db, input.model, input.champion);
  const challenger = await resolveVersion(db, input.model, input.challenger);
  const { task, metric, direction } = comparisonMetric(champion, { task: input.trainingSet.task, ...(input.metric ? { metric: input.metric } : {}) });
  const trainedTo = (version: ModelVersion): number => {
    const to = readVersionMetadata(version.metadata).metadata.training?.to;
    if (!to) {
      throw new ValidationError(
        `${input.model} v${version.version} records no training window (metadata.training.to), so the rows it never learned from are unknown; register it with its card metadata (registerModel does).`,
        { model: input.model, version: version.version },
      );
    }
    return Date.parse(to);
  };
  const after = Math.max(trainedTo(champion), trainedTo(challenger));
  const { data } = readTrainingSet(await artifacts.get(input.trainingSet.uri), task, input.trainingSet.columns, { dataset: `training set ${input.trainingSet.uri}` });
  // Rows are in time order: the unseen ones are a suffix.
  let first = data.rows;
  while (first > 0 && data.times[first - 1]! > after) first--;
  const rows = data.rows - first;
  const labels = data.labels.subarray(first);
  const positives = task === 'binary-classification' ? labels.reduce((a, b) => a + b, 0) : 0;
  const span = { after: new Date(after).toISOString(), from: rows ? new Date(data.times[first]!).toISOString() : null, to: rows ? new Date(data.times[data.rows - 1]!).toISOString() : null };
  if (rows < options.minRows) {
    return { ...span, comparison: null, reason: `Only ${rows} labelled rows of the training set come after ${span.after}, the end of the later training window; at least ${options.minRows} are needed to compare.` };
  }
  if (task === 'binary-classification' && (positives === 0 || positives === rows)) {
    return { ...span, comparison: null, reason: `${metricLabel(metric)} needs both outcomes, but all ${rows} rows after ${span.after} are ${positives === 0 ? 'negative' : 'positive'}.` };
  }
  const frameFor = (types: Map<string, string>): FeatureFrame => {
    const frame: Required<FeatureFrame> = { numeric: {}, categorical: {} };
    for (const [name, type] of types) {
      const numeric = data.frame.numeric?.[name];
      const categorical = data.frame.categorical?.[name];
      if (type === 'string' && categorical) frame.categorical[name] = categorical.slice(first);
      else if (type !== 'string' && numeric) frame.numeric[name] = numeric.subarray(first);
      else if (numeric || categorical) {
        throw new ValidationError(`${input.model} takes "${name}" as ${type === 'string' ? 'text' : 'numbers'}, but training set ${input.trainingSet.uri} declares it ${numeric ? 'numeric' : 'categorical'}.`, { input: name });
      } else {
        throw new ValidationError(`Training set ${input.trainingSet.uri} has no feature "${name}", which ${input.model} needs; its features are ${[...input.trainingSet.columns.numeric, ...input.trainingSet.columns.categorical].join(', ')}.`, { input: name });
      }
    }
    return frame;
  };
  const championValue = taskMetric(task, metric, labels, await scoreVersion(artifacts, champion, task, frameFor));
  const challengerValue = taskMetric(task, metric, labels, await scoreVersion(artifacts, challenger, task, frameFor));
  return {
    ...span,
    reason: null,
    comparison: {
      task,
      metric,
      direction,
      rows,
      positives,
      champion: { version: champion.version, value: championValue },
      challenger: { version: challenger.version, value: challengerValue },
      improvement: worsening(direction, challengerValue, championValue),
    },
  };
}

/** One version's scores (P(class 1) or the predicted value) on the frame built for its ONNX inputs. */
async function scoreVersion(artifacts: ArtifactStore, version: ModelVersion, task: Task, frameFor: (types: Map<string, string>) => FeatureFrame): Promise<Float64Array> {
  const session = await InferenceSession.create(await artifacts.get(version.artifactUri));
  try {
    // The registry checked the declared signature against the ONNX file at registration; the session says the types.
    const types = new Map(session.inputMetadata.map((i) => [i.name, i.isTensor ? i.type : 'unknown'] as const));
    return await taskScorer(session, task)(frameFor(types));
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(`${version.modelName} v${version.version}: ${error.message}`, { ...error.details, version: version.version });
    throw error;
  } finally {
    await session.release();
  }
}

