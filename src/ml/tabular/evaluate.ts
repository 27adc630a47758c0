/**
 * Evaluation of a tabular model with the ONNX model itself, in onnxruntime-node, on the training
 * set's held-out (most recent) rows, so the figures describe exactly what would be served:
 *
 * - every metric of the task (TASK_METRICS; threshold metrics at 0.5);
 * - the validation window, for the model card;
 * - fairness over each declared group column: a classifier's selection and error rates per group
 *   against the largest group (src/ml/fairness.ts; passes when the least disparate impact ratio is
 *   at least the declared minimum, default 0.8), a regressor's RMSE and MAE per group (passes when
 *   the worst group's RMSE is at most the declared multiple of the overall RMSE, default 1.5);
 * - the declared behavioural checks (src/ml/behaviour.ts) on at most 2,000 rows spread over the window;
 * - permutation importance (src/ml/explain.ts; ROC AUC or RMSE) on at most 5,000 such rows;
 * - curves: ROC and calibration for a classifier; for a regressor, a residual summary and the mean
 *   actual value against the mean prediction per decile of the predictions.
 *
 * Like training, it runs in a thread of the CPU pool: `evaluateTabularModel` reads the artifacts
 * and `tabularEvaluateTask` is a pure function of their bytes.
 */
import { ValidationError } from '../../errors.js';
import { cpuTask, defaultCpuPool, ownBuffer } from '../../platform/cpu-pool.js';
import type { ArtifactStore } from '../../artifacts/index.js';
import type { BehaviourMetadata, FairnessMetadata } from '../../registry/version-metadata.js';
import { directional, invariance, runBehaviouralChecks, type BehaviouralCheck } from '../behaviour.js';
import { permutationImportance, type ImportanceMetric } from '../explain.js';
import { fairnessReport } from '../fairness.js';
import { calibrationCurve, mae, rmse } from '../metrics/index.js';
import { selectRows } from '../preprocessing.js';
import { countPositives, readGroupColumn } from './frame.js';
import { DECISION_THRESHOLD, taskMetrics, withHeldOutScores, type HeldOut, type ModelTaskInput } from './score.js';
import type { BehaviourDeclaration, FairnessDeclaration, TabularColumns, Task } from './task.js';
import { checkTask, plainColumns, type CpuOptions, type TrainingSetRef } from './train.js';

/** Rows the behavioural checks score: each check scores a perturbed copy, so a sample keeps evaluation quick. */
export const BEHAVIOUR_SAMPLE_ROWS = 2_000;
/** Rows permutation importance scores, five shuffles per feature. */
export const IMPORTANCE_SAMPLE_ROWS = 5_000;
/** Groups a fairness report keeps; smaller groups beyond are pooled as "(other)". */
export const MAX_FAIRNESS_GROUPS = 100;
export const DEFAULT_MIN_DISPARATE_IMPACT_RATIO = 0.8;
export const DEFAULT_MAX_ERROR_RATIO = 1.5;
const ROC_POINTS = 50;
const CALIBRATION_BINS = 10;
const RESIDUAL_BINS = 20;
const DECILES = 10;
const RESIDUAL_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95];

/** A classifier's fairness over one column: the registry's FairnessMetadata with the declared bound and the verdict. */
export interface ClassificationFairness extends FairnessMetadata {
  task: 'binary-classification';
  /** The training set column the groups come from. */
  column: string;
  minAllowedDisparateImpactRatio: number;
  passed: boolean;
}

/** A regressor's fairness over one column: its error per group, against the overall error. */
export interface RegressionFairness {
  task: 'regression';
  column: string;
  groupColumn: string;
  groupDescription: string;
  overall: { rows: number; rmse: number; mae: number };
  /** Largest group first; `errorRatio` is the group's RMSE over the overall RMSE. */
  groups: Array<{ group: string; size: number; rmse: number; mae: number; errorRatio: number }>;
  worstGroup: string;
  maxErrorRatio: number;
  maxAllowedErrorRatio: number;
  passed: boolean;
}

export type TabularFairness = ClassificationFairness | RegressionFairness;

export interface TabularCurves {
  roc?: { fpr: number[]; tpr: number[] };
  calibration?: { probPred: number[]; probTrue: number[]; counts: number[] };
  /** Regression: actual minus predicted over the validation rows. */
  residuals?: { mean: number; std: number; quantiles: { q: number[]; values: number[] }; histogram: { edges: number[]; counts: number[] } };
  /** Regression: per decile of the predictions, the mean prediction and the mean actual value. */
  predictedVsActual?: { predicted: number[]; actual: number[]; counts: number[] };
}

export interface ImportanceSummary {
  metric: ImportanceMetric;
  /** The metric on the unshuffled sample. */
  baseline: number;
  rows: number;
  nRepeats: number;
  seed: number;
  /** Most important first: the mean worsening of the metric when the feature is shuffled. */
  features: Array<{ feature: string; mean: number; std: number }>;
}

export interface TabularEvaluation {
  task: Task;
  rows: number;
  /** Every metric of the task (TASK_METRICS). */
  metrics: Record<string, number>;
  validation: { description: string; rows: number; positives?: number; from: string; to: string };
  /** One report per declared group column, in declaration order. */
  fairness: TabularFairness[];
  /** Null when no check is declared. */
  behaviour: BehaviourMetadata | null;
  curves: TabularCurves;
  /** Null when not asked for. */
  importance: ImportanceSummary | null;
}

export interface EvaluateOptions {
  testFraction: number;
  fairness?: readonly FairnessDeclaration[];
  behaviour?: readonly BehaviourDeclaration[];
  /** Permutation importance (default true). */
  importance?: boolean;
}

/** The model (its ONNX artifact, task and columns) and the training set it is evaluated on. */
export interface ModelRef {
  modelUri: string;
  task: Task;
  columns: TabularColumns;
}

/** Scores the held-out rows through the ONNX model in onnxruntime-node, in the CPU pool, and reports. */
export async function evaluateTabularModel(artifacts: ArtifactStore, model: ModelRef, trainingSet: TrainingSetRef, options: EvaluateOptions, cpu: CpuOptions = {}): Promise<TabularEvaluation> {
  const input = await modelTaskInput(artifacts, model, trainingSet, options.testFraction);
  return (cpu.pool ?? defaultCpuPool()).run(
    tabularEvaluateTask,
    { ...input, fairness: [...(options.fairness ?? [])], behaviour: [...(options.behaviour ?? [])], importance: options.importance ?? true },
    { transfer: [input.model.buffer as ArrayBuffer, input.trainingSet.buffer as ArrayBuffer], signal: cpu.signal, onProgress: cpu.onProgress },
  );
}

/** The bytes and declarations a model task needs, after checking the model and training set agree on the task. */
export async function modelTaskInput(artifacts: ArtifactStore, model: ModelRef, trainingSet: TrainingSetRef, testFraction: number): Promise<ModelTaskInput> {
  checkTask(model.task);
  if (model.task !== trainingSet.task) {
    throw new ValidationError(`The model is a ${model.task} model but training set ${trainingSet.uri} is for ${trainingSet.task}; evaluate it on a training set of its task.`, {
      modelTask: model.task,
      trainingSetTask: trainingSet.task,
    });
  }
  const [modelBytes, setBytes] = [ownBuffer(await artifacts.get(model.modelUri)), ownBuffer(await artifacts.get(trainingSet.uri))];
  return { model: modelBytes, trainingSet: setBytes, dataset: `training set ${trainingSet.uri}`, task: model.task, columns: plainColumns(model.columns), testFraction };
}

export interface EvaluateTaskInput extends ModelTaskInput {
  fairness: FairnessDeclaration[];
  behaviour: BehaviourDeclaration[];
  importance: boolean;
}

/** The evaluation of an ONNX model on a training set's held-out rows: pure, so it runs in a pool thread. */
export async function evaluateOnTabular(input: EvaluateTaskInput, context: { progress(details: unknown): void }): Promise<TabularEvaluation> {
  return withHeldOutScores(input, async (held) => {
    const { task, testFraction, dataset } = input;
    const { split, scores } = held;
    const labels = split.test.labels;
    context.progress({ phase: 'metrics', rows: split.test.rows });
    const metrics = taskMetrics(task, labels, scores);
    const fairness = input.fairness.map((declaration) => fairnessOf(task, held, declaration, dataset));
    context.progress({ phase: 'behaviour', checks: input.behaviour.length });
    const behaviour = input.behaviour.length === 0 ? null : await behaviourOf(task, held, input.behaviour);
    context.progress({ phase: 'importance' });
    const importance = input.importance ? await importanceOf(task, held) : null;
    const positives = task === 'binary-classification' ? countPositives(labels) : undefined;
    return {
      task,
      rows: split.test.rows,
      metrics,
      validation: {
        description: `The most recent ${percent(testFraction)} of ${dataset}'s rows (${split.validatedFrom} to ${split.validatedTo}), which training never saw, scored by the ONNX model in onnxruntime-node.`,
        rows: split.test.rows,
        ...(positives !== undefined ? { positives } : {}),
        from: split.validatedFrom,
        to: split.validatedTo,
      },
      fairness,
      behaviour,
      curves: task === 'binary-classification' ? classificationCurves(labels, scores) : regressionCurves(labels, scores),
      importance,
    };
  });
}

export const tabularEvaluateTask = cpuTask(import.meta.url, 'tabularEvaluateTask', evaluateOnTabular);

// --- fairness ------------------------------------------------------------------------------------

function fairnessOf(task: Task, held: HeldOut, declaration: FairnessDeclaration, dataset: string): TabularFairness {
  const { split, scores, table } = held;
  const column = declaration.column;
  const raw = readGroupColumn(table, column, split.test.from, split.test.to, { dataset });
  const { groups, pooled } = poolSmallGroups(raw);
  const sizes = groupSizes(groups);
  if (sizes.size < 2) {
    throw new ValidationError(
      `Fairness group column "${column}" of ${dataset} has a single group ("${[...sizes.keys()][0] ?? ''}") in the validation window (${split.validatedFrom} to ${split.validatedTo}): fairness compares groups. Declare a column with at least two groups there.`,
      { dataset, column, from: split.validatedFrom, to: split.validatedTo },
    );
  }
  const ordered = [...sizes.entries()].sort((a, b) => b[1] - a[1] || codePoints(a[0], b[0]));
  const description =
    declaration.description ??
    `Rows grouped by column "${column}" of the training set${pooled > 0 ? `; the ${MAX_FAIRNESS_GROUPS - 1} largest groups are kept and ${pooled} smaller ones pooled as "(other)"` : ''}.`;
  if (task === 'binary-classification') {
    const minAllowed = declaration.minDisparateImpactRatio ?? DEFAULT_MIN_DISPARATE_IMPACT_RATIO;
    const referenceGroup = ordered[0]![0];
    const report = fairnessReport(split.test.labels, scores, groups, { referenceGroup, threshold: DECISION_THRESHOLD });
    const rank = new Map(ordered.map(([g], i) => [g, i]));
    report.groups.sort((a, b) => rank.get(a.group)! - rank.get(b.group)!);
    // With a reference group nobody is selected from, the ratios are undefined: fair only if nobody is selected at all.
    const passed = report.minDisparateImpactRatio === null ? report.groups.every((g) => g.selectionRate === 0) : report.minDisparateImpactRatio >= minAllowed;
    return {
      task,
      column,
      groupColumn: column,
      groupDescription: `${description} The reference is the largest group in the validation window, "${referenceGroup}"; a row is predicted positive at a score of at least ${DECISION_THRESHOLD}.`,
      ...report,
      minAllowedDisparateImpactRatio: minAllowed,
      passed,
    };
  }
  const maxAllowed = declaration.maxErrorRatio ?? DEFAULT_MAX_ERROR_RATIO;
  const labels = split.test.labels;
  const overall = { rows: labels.length, rmse: rmse(labels, scores), mae: mae(labels, scores) };
  const rowsOf = new Map<string, number[]>();
  groups.forEach((g, i) => (rowsOf.get(g) ?? rowsOf.set(g, []).get(g)!).push(i));
  const perGroup = ordered.map(([group, size]) => {
    const rows = rowsOf.get(group)!;
    const y = Float64Array.from(rows, (i) => labels[i]!);
    const p = Float64Array.from(rows, (i) => scores[i]!);
    const groupRmse = rmse(y, p);
    return { group, size, rmse: groupRmse, mae: mae(y, p), errorRatio: overall.rmse === 0 ? 1 : groupRmse / overall.rmse };
  });
  const worst = perGroup.reduce((a, b) => (b.errorRatio > a.errorRatio ? b : a));
  return {
    task,
    column,
    groupColumn: column,
    groupDescription: `${description} Each group's RMSE is compared with the RMSE over every validation row.`,
    overall,
    groups: perGroup,
    worstGroup: worst.group,
    maxErrorRatio: worst.errorRatio,
    maxAllowedErrorRatio: maxAllowed,
    passed: worst.errorRatio <= maxAllowed,
  };
}

function groupSizes(groups: readonly string[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  return sizes;
}

/** Past MAX_FAIRNESS_GROUPS groups, the smallest are pooled as "(other)" (a card lists at most 200). */
function poolSmallGroups(groups: string[]): { groups: string[]; pooled: number } {
  const sizes = groupSizes(groups);
  if (sizes.size <= MAX_FAIRNESS_GROUPS) return { groups, pooled: 0 };
  const kept = new Set([...sizes.entries()].sort((a, b) => b[1] - a[1] || codePoints(a[0], b[0])).slice(0, MAX_FAIRNESS_GROUPS - 1).map(([g]) => g));
  return { groups: groups.map((g) => (kept.has(g) ? g : '(other)')), pooled: sizes.size - kept.size };
}

// --- behaviour -----------------------------------------------------------------------------------

/**
 * Declared checks on rows spread evenly over the validation window. Without a declared tolerance an
 * invariance check allows 0.01 of a probability, or 1% of the label's standard deviation over the
 * window for a regressor; a directional check allows none.
 */
function behaviourOf(task: Task, held: HeldOut, declarations: readonly BehaviourDeclaration[]): Promise<BehaviourMetadata> {
  const { split } = held;
  const scale = task === 'binary-classification' ? 1 : standardDeviation(split.test.labels) || 1;
  const features = [...Object.keys(split.test.frame.numeric ?? {}), ...Object.keys(split.test.frame.categorical ?? {})];
  for (const d of declarations) {
    if (!features.includes(d.feature)) {
      throw new ValidationError(`Behavioural check "${d.name}" names feature "${d.feature}", which the model does not take; its features are ${features.map((f) => `"${f}"`).join(', ')}.`, {
        check: d.name,
        feature: d.feature,
      });
    }
  }
  const checks: BehaviouralCheck[] = declarations.map((d) =>
    d.kind === 'invariance'
      ? invariance({ name: d.name, feature: d.feature, values: [...d.values], tolerance: d.tolerance ?? 0.01 * scale })
      : directional({ name: d.name, feature: d.feature, delta: d.delta, expect: d.direction, tolerance: d.tolerance ?? 0 }),
  );
  const sample = evenlySpaced(split.test.rows, BEHAVIOUR_SAMPLE_ROWS);
  return runBehaviouralChecks(held.score, selectRows(split.test.frame, sample), checks).then((results) => ({
    description: `${sample.length.toLocaleString('en-US')} validation rows spread evenly over ${split.validatedFrom} to ${split.validatedTo}, each scored as is and once per perturbed copy.`,
    results: results.map((r) => ({
      ...r,
      // Sample rows are reported as rows of the validation window.
      samples: r.samples.map((s) => ({ ...s, row: sample[s.row]!, from: s.from ?? null, to: s.to ?? null, before: finiteOrNull(s.before), after: finiteOrNull(s.after) })),
    })),
  }));
}

// --- importance ----------------------------------------------------------------------------------

async function importanceOf(task: Task, held: HeldOut): Promise<ImportanceSummary> {
  const { split } = held;
  const sample = evenlySpaced(split.test.rows, IMPORTANCE_SAMPLE_ROWS);
  const target = Float64Array.from(sample, (i) => split.test.labels[i]!);
  const positives = countPositives(target);
  // ROC AUC needs both classes in the sample; a sample of one class falls back to log loss.
  const metric: ImportanceMetric = task === 'regression' ? 'rmse' : positives > 0 && positives < target.length ? 'roc-auc' : 'log-loss';
  const result = await permutationImportance(held.score, selectRows(split.test.frame, sample), target, { metric, nRepeats: 5, seed: 0 });
  return {
    metric,
    baseline: result.baseline,
    rows: sample.length,
    nRepeats: result.nRepeats,
    seed: result.seed,
    features: result.features.map((f) => ({ feature: f.feature, mean: f.mean, std: f.std })),
  };
}

// --- curves --------------------------------------------------------------------------------------

function classificationCurves(labels: Float64Array, scores: Float64Array): TabularCurves {
  const calibration = calibrationCurve(labels, scores, { nBins: CALIBRATION_BINS });
  return {
    roc: rocCurve(labels, scores),
    calibration: { probPred: [...calibration.probPred], probTrue: [...calibration.probTrue], counts: [...calibration.counts] },
  };
}

/** At most `points` (fpr, tpr) pairs from (0,0) to (1,1), taken at evenly spaced score thresholds by rank; tied scores are one threshold. */
export function rocCurve(labels: ArrayLike<number>, scores: Float64Array, points = ROC_POINTS): { fpr: number[]; tpr: number[] } {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  const step = Math.max(1, Math.ceil(order.length / (points - 1)));
  let next = step;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]!] === 1) tp++;
    else fp++;
    const last = i === order.length - 1;
    if (last || (i + 1 >= next && scores[order[i + 1]!] !== scores[order[i]!])) {
      fpr.push(negatives === 0 ? 0 : fp / negatives);
      tpr.push(positives === 0 ? 0 : tp / positives);
      next = i + 1 + step;
    }
  }
  return { fpr, tpr };
}

/** A regressor's residuals (actual − predicted) summarized, and actual against predicted per decile of the predictions. */
export function regressionCurves(labels: Float64Array, predictions: Float64Array): TabularCurves {
  const n = labels.length;
  const residuals = Float64Array.from(labels, (y, i) => y - predictions[i]!);
  const mean = residuals.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(residuals.reduce((a, r) => a + (r - mean) ** 2, 0) / n);
  const sorted = Float64Array.from(residuals).sort();
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const bins = max > min ? RESIDUAL_BINS : 1;
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (const r of sorted) counts[width === 0 ? 0 : Math.min(bins - 1, Math.floor((r - min) / width))]!++;

  const order = Array.from(predictions.keys()).sort((a, b) => predictions[a]! - predictions[b]! || a - b);
  const deciles = Math.min(DECILES, n);
  const predicted: number[] = [];
  const actual: number[] = [];
  const binCounts: number[] = [];
  for (let d = 0; d < deciles; d++) {
    const from = Math.floor((d * n) / deciles);
    const to = Math.floor(((d + 1) * n) / deciles);
    let p = 0;
    let y = 0;
    for (let k = from; k < to; k++) {
      p += predictions[order[k]!]!;
      y += labels[order[k]!]!;
    }
    predicted.push(p / (to - from));
    actual.push(y / (to - from));
    binCounts.push(to - from);
  }
  return {
    residuals: { mean, std, quantiles: { q: [...RESIDUAL_QUANTILES], values: RESIDUAL_QUANTILES.map((q) => quantile(sorted, q)) }, histogram: { edges, counts } },
    predictedVsActual: { predicted, actual, counts: binCounts },
  };
}

/** numpy's default (linear) quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

// --- helpers -------------------------------------------------------------------------------------

function evenlySpaced(rows: number, count: number): number[] {
  if (rows <= count) return Array.from({ length: rows }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * rows) / count));
}

function standardDeviation(values: Float64Array): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}

function codePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

