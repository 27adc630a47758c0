/**
 * Monitoring one window of serving: the prediction log's rows for a model version between two
 * instants (inputs and scores), with the ground truth attached by request id, compared against the
 * reference statistics stored with the version at training time. Three questions, each answered
 * or explicitly left undecided with the reason:
 *
 * - input drift: every feature against its reference (Evidently's rule, detectDatasetDrift);
 * - prediction drift: the scores against the validation set's scores;
 * - performance decay: ROC AUC on the window's labelled rows against the validation ROC AUC.
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
import { rocAuc } from '../ml/metrics/index.js';
import type { ArtifactStore } from '../registry/artifacts.js';
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
  /** Decay when the window's ROC AUC is at least this far below the validation ROC AUC. */
  decayThreshold: 0.05,
} as const;

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
  metric: 'rocAuc';
  decided: boolean;
  /** The validation ROC AUC recorded at training time. */
  reference: number;
  /** ROC AUC on the window's labelled rows; null when not computed. */
  current: number | null;
  /** reference - current. */
  drop: number | null;
  threshold: number;
  decayed: boolean | null;
  labelledRows: number;
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
  drift?: DatasetDriftOptions;
  /**
   * Features that follow the calendar (for the flights, `month`): tested and reported, but left out
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
  if (!(decayThreshold > 0 && decayThreshold < 1)) throw new ValidationError(`decayThreshold must be between 0 and 1, got ${decayThreshold}.`);
  const driftOptions = withSeasonal(options.drift ?? {}, options.seasonalFeatures ?? [], reference);
  const rows = data.scores.length;
  let labelledRows = 0;
  let positives = 0;
  for (const label of data.labels) {
    if (label === label) {
      labelledRows++;
      if (label > 0.5) positives++;
    }
  }
  const features = Object.keys(reference.features);
  const present = Object.keys(data.columns);
  const missingFeatures = features.filter((f) => !present.includes(f));
  const extraColumns = present.filter((c) => !Object.hasOwn(reference.features, c));
  const decayBase = { metric: 'rocAuc' as const, reference: reference.validation.rocAuc, threshold: decayThreshold, labelledRows, positives };
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
      decay: { ...decayBase, decided: false, current: null, drop: null, decayed: null, reason },
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

function decay(data: WindowData, base: Omit<DecayResult, 'decided' | 'current' | 'drop' | 'decayed' | 'reason'>, minLabelledRows: number): DecayResult {
  const undecided = (reason: string): DecayResult => ({ ...base, decided: false, current: null, drop: null, decayed: null, reason });
  if (base.labelledRows < minLabelledRows) {
    return undecided(`Too few labelled rows to measure decay: ${base.labelledRows} have ground truth; at least ${minLabelledRows} are needed.`);
  }
  if (base.positives === 0 || base.positives === base.labelledRows) {
    return undecided(`ROC AUC needs both outcomes among the labelled rows; all ${base.labelledRows} are ${base.positives === 0 ? 'negative' : 'positive'}.`);
  }
  const labels = new Uint8Array(base.labelledRows);
  const scores = new Float64Array(base.labelledRows);
  let k = 0;
  for (let i = 0; i < data.labels.length; i++) {
    const label = data.labels[i] as number;
    if (label !== label) continue;
    labels[k] = label > 0.5 ? 1 : 0;
    scores[k++] = data.scores[i] as number;
  }
  const current = rocAuc(labels, scores);
  const drop = base.reference - current;
  return { ...base, decided: true, current, drop, decayed: drop >= base.threshold, reason: null };
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
      `${model} version ${version.version} has no reference statistics (it was registered before the training pipeline stored them, or by another writer); retrain it with train-flight-delay.`,
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
