/**
 * Monitoring one window of serving: the prediction log's rows for a model version between two
 * instants (inputs and scores), with the ground truth attached by request id, compared against the
 * reference statistics stored with the version at training time. Three questions, each answered
 * or explicitly left undecided with the reason:
 *
 * - input drift: every feature against its reference (Evidently's rule, detectDatasetDrift);
 * - prediction drift: the scores against the validation set's scores;
 * - performance decay: the reference's primary metric (ROC AUC for a classifier, RMSE for a
 *   regressor, or whichever the model declared) on the window's labelled rows against its
 *   validation value, worse by at least the threshold: a drop of ROC AUC, a rise of RMSE. References
 *   profiled before tasks existed name no metric: they are classifiers judged on ROC AUC.
 *
 * A window with fewer rows than `minRows` decides nothing and says so; too few labelled rows (or
 * only one class among them) leave decay undecided. Missing columns, all-null columns, categories
 * the reference never had, and null/NaN/infinite values are reported per column by the drift
 * results, never dropped silently.
 */
import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { predictionGroundTruth, predictionLog } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { brierScore, logLoss, mae, prAuc, r2, rmse, rocAuc, thresholdMetrics } from '../ml/metrics/index.js';
import { metricLabel, TASK_METRICS, type MetricDirection, type Task } from '../ml/tabular/task.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { resolveVersion } from '../registry/lookup.js';
import { readVersionMetadata } from '../registry/version-metadata.js';
import type { ColumnValues } from './columns.js';
import { detectColumnDrift, detectDatasetDrift, type ColumnDriftResult, type DatasetDriftResult } from './drift.js';
import type { ColumnOptions, DatasetDriftOptions } from './options.js';
import { parseReferenceProfile, type ReferenceProfile } from './reference.js';

export const WINDOW_DEFAULTS = {
  /** Fewer scored rows than this and the window decides nothing. */
  minRows: 500,
  /** Fewer labelled rows than this and decay is not decided. */
  minLabelledRows: 200,
  /** Decay when the window's metric is at least this much worse than at validation (ROC AUC: 0.05 lower). */
  decayThreshold: 0.05,
} as const;

/** The threshold of accuracy, precision, recall and f1, as evaluation applies it (src/ml/tabular/score.ts). */
const DECISION_THRESHOLD = 0.5;

/** Metrics whose values lie in [0, 1]: an absolute decay threshold for them is below 1. */
const UNIT_METRICS = new Set(['rocAuc', 'prAuc', 'brier', 'accuracy', 'precision', 'recall', 'f1']);

/** One metric of the task on labelled rows (0/1 labels and P(class 1) for a classifier, targets and predictions for a regressor). */
export function taskMetric(task: Task, metric: string, labels: Float64Array, scores: Float64Array): number {
  if (!Object.hasOwn(TASK_METRICS[task], metric)) {
    throw new ValidationError(`"${metric}" is not a metric of ${task}; its metrics are ${Object.keys(TASK_METRICS[task]).join(', ')}.`, { metric, task });
  }
  switch (metric) {
    case 'rocAuc':
      return rocAuc(labels, scores);
    case 'prAuc':
      return prAuc(labels, scores);
    case 'logLoss':
      return logLoss(labels, scores);
    case 'brier':
      return brierScore(labels, scores);
    case 'accuracy':
    case 'precision':
    case 'recall':
    case 'f1':
      return thresholdMetrics(labels, scores, DECISION_THRESHOLD)[metric];
    case 'rmse':
      return rmse(labels, scores);
    case 'mae':
      return mae(labels, scores);
    default:
      return r2(labels, scores);
  }
}

/** The metric decay is measured on, its direction, its validation value and the model's task, from a reference profile. */
export function referenceMetric(reference: ReferenceProfile): { task: Task; metric: string; direction: MetricDirection; value: number } {
  const task = reference.validation.task ?? 'binary-classification';
  const metric = reference.validation.primaryMetric ?? 'rocAuc';
  const direction = TASK_METRICS[task]?.[metric];
  if (!direction) {
    throw new ValidationError(`The reference profile measures decay on "${metric}", which is not a metric of ${task}; recompute the reference (profileReference).`, { metric, task });
  }
  const value = reference.validation.metrics?.[metric] ?? (metric === 'rocAuc' ? reference.validation.rocAuc : undefined);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`The reference profile holds no validation ${metricLabel(metric)} to measure decay against; recompute the reference (profileReference).`, { metric });
  }
  return { task, metric, direction, value };
}

/** The rows of a window, column by column, with scores and labels aligned to them. */
export interface WindowData {
  /** Feature name -> one value per row (null where the request left it out). */
  columns: Record<string, (number | string | null)[]>;
  scores: Float64Array;
  /** 0/1 ground truth per row, NaN where none has arrived. */
  labels: Float64Array;
  requests: number;
  /** Requests the log holds for the window that failed to score (left out of everything). */
  failedRequests: number;
}

export interface DecayResult {
  /** The reference's primary metric (rocAuc for profiles from before tasks). */
  metric: string;
  /** Which way is better; absent in reports stored before tasks (rocAuc: higher). */
  direction?: MetricDirection;
  decided: boolean;
  /** The metric on the validation rows, recorded at training time. */
  reference: number;
  /** The metric on the window's labelled rows; null when not computed. */
  current: number | null;
  /** How much worse the window is, in the metric's units: reference - current for a higher-is-better metric, current - reference otherwise. */
  drop: number | null;
  /** drop / |reference|; absent in reports stored before tasks. */
  relativeDrop?: number | null;
  threshold: number;
  /** Whether `threshold` is in the metric's units or a share of the reference (absent: absolute). */
  relative?: boolean;
  decayed: boolean | null;
  labelledRows: number;
  /** Labelled rows of class 1 (classification; 0 for a regressor). */
  positives: number;
  reason: string | null;
}

export interface WindowAssessment {
  rows: number;
  requests: number;
  failedRequests: number;
  labelledRows: number;
  /** False when the window had too few rows to decide anything; `reason` says how many it had. */
  enough: boolean;
  reason: string | null;
  inputDrift: DatasetDriftResult | null;
  predictionDrift: ColumnDriftResult | null;
  decay: DecayResult;
  /** Reference features the log never carried, and log columns the model has no reference for. */
  missingFeatures: string[];
  extraColumns: string[];
  /** Columns left out of the drift tests because their values cannot be compared with the reference, and why. */
  unusableColumns: Array<{ column: string; reason: string }>;
}

export interface AssessOptions {
  minRows?: number;
  minLabelledRows?: number;
  decayThreshold?: number;
  /** The threshold is a share of the validation value (0.1: RMSE 10% above it) rather than an amount of the metric. */
  decayRelative?: boolean;
  drift?: DatasetDriftOptions;
  /**
   * Features that follow the calendar (a month, a season): tested and reported, but left out
   * of the dataset-drift share, since a window in June differs from a January reference whatever else
   * happens. Each must be one of the model's features.
   */
  seasonalFeatures?: readonly string[];
}

/** Compares a window's rows with a reference profile. Pure: no database, no artifacts. */
export function assessWindow(reference: ReferenceProfile, data: WindowData, options: AssessOptions = {}): WindowAssessment {
  const minRows = positiveInteger(options.minRows ?? WINDOW_DEFAULTS.minRows, 'minRows');
  const minLabelledRows = positiveInteger(options.minLabelledRows ?? WINDOW_DEFAULTS.minLabelledRows, 'minLabelledRows');
  const decayThreshold = options.decayThreshold ?? WINDOW_DEFAULTS.decayThreshold;
  const relative = options.decayRelative ?? false;
  const measured = referenceMetric(reference);
  if (!relative && UNIT_METRICS.has(measured.metric) && !(decayThreshold > 0 && decayThreshold < 1)) throw new ValidationError(`decayThreshold must be between 0 and 1, got ${decayThreshold}.`);
  if (!(decayThreshold > 0 && Number.isFinite(decayThreshold))) throw new ValidationError(`decayThreshold must be a positive number, got ${decayThreshold}.`);
  const driftOptions = withSeasonal(options.drift ?? {}, options.seasonalFeatures ?? [], reference);
  const rows = data.scores.length;
  const classification = measured.task === 'binary-classification';
  let labelledRows = 0;
  let positives = 0;
  for (const label of data.labels) {
    if (label === label) {
      labelledRows++;
      if (classification && label > 0.5) positives++;
    }
  }
  const features = Object.keys(reference.features);
  const present = Object.keys(data.columns);
  const missingFeatures = features.filter((f) => !present.includes(f));
  const extraColumns = present.filter((c) => !Object.hasOwn(reference.features, c));
  const decayBase: DecayBase = { metric: measured.metric, direction: measured.direction, reference: measured.value, threshold: decayThreshold, relative, labelledRows, positives, task: measured.task };
  const unusableColumns: WindowAssessment['unusableColumns'] = [];
  const current: Record<string, ColumnValues> = {};
  for (const [name, values] of Object.entries(data.columns)) {
    const problem = columnProblem(values, reference.features[name]?.kind);
    if (problem === null) current[name] = values as ColumnValues;
    else unusableColumns.push({ column: name, reason: problem });
  }
  const base = { rows, requests: data.requests, failedRequests: data.failedRequests, labelledRows, missingFeatures, extraColumns, unusableColumns };
  if (rows < minRows) {
    const reason = `Too few rows to decide: the window has ${rows} scored rows; at least ${minRows} are needed.`;
    return {
      ...base,
      enough: false,
      reason,
      inputDrift: null,
      predictionDrift: null,
      decay: undecidedDecay(decayBase, reason),
    };
  }
  const references: Record<string, ColumnValues> = { ...reference.features, ...Object.fromEntries(reference.emptyFeatures.map((f) => [f, [] as string[]])) };
  for (const { column } of unusableColumns) delete references[column];
  // Options for a column left out as unusable would name a column in neither dataset.
  const usable = Object.fromEntries(Object.entries(driftOptions.columns ?? {}).filter(([name]) => Object.hasOwn(references, name) || Object.hasOwn(current, name)));
  const inputDrift = detectDatasetDrift(references, current, { minRows: Math.min(minRows, 30), ...driftOptions, columns: usable });
  const predictionDrift = detectColumnDrift(reference.prediction, data.scores, { column: 'prediction', minRows: Math.min(minRows, 30) });
  return { ...base, enough: true, reason: null, inputDrift, predictionDrift, decay: decay(data, decayBase, minLabelledRows) };
}

/** The drift options with each seasonal feature marked so; a name the model has no feature for is an error, not a silent no-op. */
function withSeasonal(drift: DatasetDriftOptions, seasonal: readonly string[], reference: ReferenceProfile): DatasetDriftOptions {
  if (seasonal.length === 0) return drift;
  const features = [...Object.keys(reference.features), ...reference.emptyFeatures];
  const unknown = seasonal.filter((name) => !features.includes(name));
  if (unknown.length) {
    throw new ValidationError(`Seasonal feature(s) ${unknown.map((n) => `"${n}"`).join(', ')} are not features of this model; its features are ${features.join(', ')}.`, {
      unknown,
    });
  }
  const columns: Record<string, ColumnOptions> = { ...drift.columns };
  for (const name of seasonal) columns[name] = { ...columns[name], seasonal: true };
  return { ...drift, columns };
}

/**
 * Why a logged column cannot be tested, or null: the log holds whatever callers sent, so a feature
 * sent as numbers by one request and as text by another, or as text where the model was trained on
 * numbers, is reported rather than guessed at.
 */
function columnProblem(values: readonly (number | string | null)[], referenceKind: 'numeric' | 'categorical' | undefined): string | null {
  let firstNumber = -1;
  let firstString = -1;
  for (let i = 0; i < values.length && (firstNumber < 0 || firstString < 0); i++) {
    const value = values[i];
    if (typeof value === 'number' && firstNumber < 0) firstNumber = i;
    else if (typeof value === 'string' && firstString < 0) firstString = i;
  }
  if (firstNumber >= 0 && firstString >= 0) {
    return `It mixes numbers (first at row ${firstNumber}) and strings (first at row ${firstString}, "${String(values[firstString])}").`;
  }
  if (referenceKind === 'numeric' && firstString >= 0) return `The model was trained on numbers, but the window holds strings (row ${firstString}: "${String(values[firstString])}").`;
  if (referenceKind === 'categorical' && firstNumber >= 0) return `The model was trained on strings, but the window holds numbers (row ${firstNumber}: ${String(values[firstNumber])}).`;
  return null;
}

type DecayBase = Omit<DecayResult, 'decided' | 'current' | 'drop' | 'relativeDrop' | 'decayed' | 'reason'> & { task: Task };

function undecidedDecay({ task: _task, ...base }: DecayBase, reason: string): DecayResult {
  return { ...base, decided: false, current: null, drop: null, relativeDrop: null, decayed: null, reason };
}

/** How much worse `current` is than `reference` on a metric with this direction, in the metric's units. */
export function worsening(direction: MetricDirection, reference: number, current: number): number {
  return direction === 'higher' ? reference - current : current - reference;
}

function decay(data: WindowData, base: DecayBase, minLabelledRows: number): DecayResult {
  if (base.labelledRows < minLabelledRows) {
    return undecidedDecay(base, `Too few labelled rows to measure decay: ${base.labelledRows} have ground truth; at least ${minLabelledRows} are needed.`);
  }
  const classification = base.task === 'binary-classification';
  if (classification && (base.positives === 0 || base.positives === base.labelledRows)) {
    return undecidedDecay(base, `${metricLabel(base.metric)} needs both outcomes among the labelled rows; all ${base.labelledRows} are ${base.positives === 0 ? 'negative' : 'positive'}.`);
  }
  const labels = new Float64Array(base.labelledRows);
  const scores = new Float64Array(base.labelledRows);
  let k = 0;
  for (let i = 0; i < data.labels.length; i++) {
    const label = data.labels[i] as number;
    if (label !== label) continue;
    labels[k] = classification ? (label > 0.5 ? 1 : 0) : label;
    scores[k++] = data.scores[i] as number;
  }
  let current: number;
  try {
    current = taskMetric(base.task, base.metric, labels, scores);
  } catch (error) {
    // The log holds whatever was served: a score outside what the metric takes (a probability above 1) is reported, not thrown.
    return undecidedDecay(base, `${metricLabel(base.metric)} could not be computed on the labelled rows: ${(error as Error).message}`);
  }
  if (!Number.isFinite(current)) return undecidedDecay(base, `${metricLabel(base.metric)} is undefined on the ${base.labelledRows} labelled rows (got ${current}).`);
  const drop = worsening(base.direction ?? 'higher', base.reference, current);
  const relativeDrop = base.reference === 0 ? null : drop / Math.abs(base.reference);
  // A reference of exactly 0 (a perfect validation RMSE): any worsening is infinitely many times it.
  const decayed = base.relative ? (relativeDrop === null ? drop > 0 : relativeDrop >= base.threshold) : drop >= base.threshold;
  const { task: _task, ...rest } = base;
  return { ...rest, decided: true, current, drop, relativeDrop, decayed, reason: null };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ValidationError(`${name} must be a whole number of at least 1, got ${value}.`);
  return value;
}

export interface WindowQuery {
  model: string;
  version: number;
  /** Inclusive start and exclusive end of the window, by the time each prediction was made. */
  from: Date;
  to: Date;
}

/**
 * The window's primary (not shadow) predictions of one version, in time order, turned into columns
 * with each row's score and ground truth. Ground truth is joined in the database by request id.
 */
export async function readPredictionWindow(db: Database, query: WindowQuery): Promise<WindowData> {
  if (!(query.from.getTime() < query.to.getTime())) {
    throw new ValidationError(`The window must start before it ends (from ${query.from.toISOString()}, to ${query.to.toISOString()}).`);
  }
  const inWindow = and(
    eq(predictionLog.modelName, query.model),
    eq(predictionLog.version, query.version),
    eq(predictionLog.shadow, false),
    gte(predictionLog.at, query.from),
    lt(predictionLog.at, query.to),
  );
  const logged = await db
    .select({ requestId: predictionLog.requestId, rows: predictionLog.rows, inputs: predictionLog.inputs, outputs: predictionLog.outputs })
    .from(predictionLog)
    .where(inWindow)
    .orderBy(asc(predictionLog.at), asc(predictionLog.id));
  const truths = await db
    .select({ requestId: predictionGroundTruth.requestId, row: predictionGroundTruth.rowIndex, value: predictionGroundTruth.value })
    .from(predictionGroundTruth)
    .where(sql`${predictionGroundTruth.requestId} in (select ${predictionLog.requestId} from ${predictionLog} where ${inWindow})`);
  const truthOf = new Map<string, number>();
  for (const t of truths) truthOf.set(`${t.requestId}\u0000${t.row}`, t.value);
  let total = 0;
  let failedRequests = 0;
  for (const entry of logged) {
    if (entry.outputs === null) failedRequests++;
    else total += entry.outputs.length;
  }
  const scores = new Float64Array(total);
  const labels = new Float64Array(total).fill(Number.NaN);
  const columns: Record<string, (number | string | null)[]> = {};
  let at = 0;
  for (const entry of logged) {
    if (entry.outputs === null) continue;
    for (let r = 0; r < entry.outputs.length; r++) {
      const record = entry.inputs[r] ?? {};
      for (const [name, value] of Object.entries(record)) {
        const column = (columns[name] ??= new Array<number | string | null>(total).fill(null));
        column[at] = typeof value === 'number' || typeof value === 'string' ? value : null;
      }
      scores[at] = entry.outputs[r] ?? Number.NaN;
      const truth = truthOf.get(`${entry.requestId}\u0000${r}`);
      if (truth !== undefined) labels[at] = truth;
      at++;
    }
  }
  return { columns, scores, labels, requests: logged.length - failedRequests, failedRequests };
}

/** The reference profile a registered version carries (stored by the training pipeline's reference step). */
export async function loadVersionReference(db: Database, artifacts: ArtifactStore, model: string, selector: string | number): Promise<{ version: number; reference: ReferenceProfile }> {
  const version = await resolveVersion(db, model, selector);
  const { metadata } = readVersionMetadata(version.metadata);
  if (!metadata.reference) {
    throw new NotFoundError(
      `${model} version ${version.version} has no reference statistics (it was registered before the training pipeline stored them, or by another writer); retrain it with its train pipeline (train-${model} for a declared model), which stores them.`,
      { model, version: version.version },
    );
  }
  return { version: version.version, reference: parseReferenceProfile(await artifacts.get(metadata.reference.uri), metadata.reference.uri) };
}

export interface MonitorWindowInput extends AssessOptions {
  model: string;
  /** A version number or an alias; `champion` unless given. */
  version?: string | number;
  from: Date;
  to: Date;
}

/** Reads the window and assesses it against the version's stored reference. */
export async function monitorWindow(db: Database, artifacts: ArtifactStore, input: MonitorWindowInput): Promise<{ assessment: WindowAssessment; data: WindowData; reference: ReferenceProfile; version: number }> {
  const { version, reference } = await loadVersionReference(db, artifacts, input.model, input.version ?? 'champion');
  const data = await readPredictionWindow(db, { model: input.model, version, from: input.from, to: input.to });
  return { assessment: assessWindow(reference, data, input), data, reference, version };
}
