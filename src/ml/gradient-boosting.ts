/**
 * Histogram-based gradient-boosted trees for binary classification (log loss) and regression
 * (squared error), after scikit-learn's HistGradientBoostingClassifier and ...Regressor, with the
 * same hyperparameters and defaults under camelCase names.
 *
 * Each input (gbt/inputs.ts) is binned once (gbt/binning.ts: at most maxBins quantile bins of
 * observed values plus one for missing values), then each iteration fits one tree to the gradients
 * and hessians of the loss at the current raw scores (gbt/grower.ts: best-first growth on gradient
 * histograms) and adds its leaf values, scaled by the learning rate, to the scores. With early
 * stopping, a seeded validation split (stratified by label for log loss) is held out, and training
 * stops once nIterNoChange trees in a row have not lowered its loss by more than tol; the trees
 * grown so far are all kept, as scikit-learn keeps them.
 *
 * Training is deterministic: the seed picks the validation rows and, above 200,000 rows, the rows
 * bin thresholds are fitted on; nothing else is random, so the same data and seed give the same
 * model JSON, byte for byte, on any number of threads. From TEAM_ROWS rows up, the passes over the
 * rows run on several threads (gbt/passes.ts), split so that every sum adds the same numbers in the
 * same order as on one.
 *
 * Categorical features are ordinal-encoded (see gbt/inputs.ts) over the categories the shared
 * preprocessor keeps; numeric features are read raw. The preprocessor's numeric means and standard
 * deviations are recorded but trees do not use them.
 */
import os from 'node:os';
import { ValidationError } from '../errors.js';
import { BINNING_SAMPLE, binColumns, MISSING_BIN } from './gbt/binning.js';
import { MAX_THREADS } from './gbt/control.js';
import { TreeGrower, type GrownTree } from './gbt/grower.js';
import { treeInputs } from './gbt/inputs.js';
import { RowPasses } from './gbt/passes.js';
import { createRowStore } from './gbt/rows.js';
import { Team } from './gbt/team.js';
import { GRADIENT_BOOSTING_FORMAT, type GradientBoostingModel } from './model.js';
import { fitPreprocessor, frameRows, splitRows, type FeatureFrame, type PreprocessingOptions } from './preprocessing.js';
import { sigmoid, softplus } from './math.js';

export type GradientBoostingLoss = GradientBoostingModel['loss'];

export interface GradientBoostingOptions extends PreprocessingOptions {
  /** 'log-loss' for labels 0 and 1, 'squared-error' for real-valued targets. */
  loss: GradientBoostingLoss;
  /** Multiplies every leaf value. Default 0.1. */
  learningRate?: number;
  /** Trees to grow at most. Default 100. */
  maxIter?: number;
  /** Leaves per tree at most, or null for no limit. Default 31. */
  maxLeafNodes?: number | null;
  /** Edges from root to leaf at most, or null (the default) for no limit. */
  maxDepth?: number | null;
  /** Training rows per leaf at least. Default 20. */
  minSamplesLeaf?: number;
  /** L2 penalty on leaf values (added to each leaf's hessian sum). Default 0. */
  l2Regularization?: number;
  /** Bins of observed values per input, 2 to 255. Default 255. */
  maxBins?: number;
  /** 'auto' (the default) stops early only above 10,000 rows, as scikit-learn does. */
  earlyStopping?: 'auto' | boolean;
  /** Share of rows held out for early stopping. Default 0.1. */
  validationFraction?: number;
  /** Trees in a row without improvement before stopping. Default 10. */
  nIterNoChange?: number;
  /** Least loss decrease that counts as improvement. Default 1e-7. */
  tol?: number;
  /** Seeds the validation split and the binning subsample. Default 0. */
  seed?: number;
  /**
   * Threads to train on, the calling one included; at most 8 are used. Default: as many as the
   * machine has cores. The model is the same on any number; below 100,000 rows, training runs on
   * the calling thread alone, as starting workers would cost more than they save.
   */
  threads?: number;
  /** Called after each tree with the number grown so far (for progress reports); it cannot change the model. */
  onTree?: (trees: number) => void;
}

type Params = GradientBoostingModel['params'];

const AUTO_EARLY_STOPPING_ROWS = 10_000;
/** Rows from which training starts worker threads, whose start-up (about 0.2 s each) then pays for itself. */
const TEAM_ROWS = 100_000;

export function trainGradientBoosting(frame: FeatureFrame, labels: ArrayLike<number>, options: GradientBoostingOptions): GradientBoostingModel {
  const rows = frameRows(frame);
  const params = resolveParams(options, rows);
  const threads = resolveThreads(options.threads);
  // Started before the input is checked and binned, so that workers load meanwhile.
  const team = threads > 1 && rows >= TEAM_ROWS ? new Team(threads) : null;
  try {
    return fit(frame, labels, options, params, team);
  } finally {
    team?.close();
  }
}

function fit(frame: FeatureFrame, labels: ArrayLike<number>, options: GradientBoostingOptions, params: Params, team: Team | null): GradientBoostingModel {
  const { loss } = options;
  const pre = fitPreprocessor(frame, options);
  const rows = frameRows(frame);
  const y = checkLabels(loss, labels, rows);
  const inputs = treeInputs(pre, frame);

  const { train, validation } = params.earlyStopping ? validationSplit(loss, y, params) : { train: allRows(rows), validation: new Uint32Array(0) };
  const n = train.length;
  const yTrain = pick(y, train, new Float64Array(n));
  const yValidation = pick(y, validation, new Float64Array(validation.length));
  const baseline = baselineScore(loss, yTrain);
  const inputCount = inputs.columns.length;
  const store = createRowStore(loss, inputCount, yTrain, baseline, team !== null);
  const passes = new RowPasses(store, team);
  const thresholds = passes.bin(inputs.columns, binningSample(train, params.seed), train, params.maxBins);
  const validationBins = binColumns(inputs.columns, thresholds, validation, new Uint8Array(validation.length * inputCount), inputCount);
  const grower = new TreeGrower(passes, thresholds, params);

  const validationScores = new Float64Array(validation.length).fill(baseline);
  const validationLoss = params.earlyStopping ? [meanLoss(loss, yValidation, validationScores)] : [];
  const trees: GradientBoostingModel['trees'] = [];
  for (let iteration = 0; iteration < params.maxIter; iteration++) {
    const grown = grower.grow();
    grower.addLeafValues();
    trees.push(grown.tree);
    options.onTree?.(trees.length);
    if (!params.earlyStopping) continue;
    addBinnedTree(grown, validationBins, inputCount, validationScores);
    validationLoss.push(meanLoss(loss, yValidation, validationScores));
    if (shouldStop(validationLoss, params.nIterNoChange, params.tol)) break;
  }
  return {
    kind: 'gradient-boosting',
    format: GRADIENT_BOOSTING_FORMAT,
    loss,
    preprocessor: pre,
    baseline,
    trees,
    trainingRows: n,
    params,
    fit: { validationRows: validation.length, validationLoss },
  };
}

/** P(label = 1) per row for a log-loss model; the predicted value per row for a squared-error one. */
export function predictGradientBoosting(model: GradientBoostingModel, frame: FeatureFrame): Float64Array {
  const { rows, columns } = treeInputs(model.preprocessor, frame);
  const scores = new Float64Array(rows).fill(model.baseline);
  for (const { feature, threshold, missingLeft, left, right, value } of model.trees) {
    for (let i = 0; i < rows; i++) {
      let node = 0;
      for (let f = feature[0]!; f >= 0; f = feature[node]!) {
        const x = columns[f]![i]!;
        node = x <= threshold[node]! || (x !== x && missingLeft[node]!) ? left[node]! : right[node]!;
      }
      scores[i]! += value[node]!;
    }
  }
  return model.loss === 'log-loss' ? scores.map(sigmoid) : scores;
}

function resolveParams(options: GradientBoostingOptions, rows: number): Params {
  if (options.loss !== 'log-loss' && options.loss !== 'squared-error') {
    throw new ValidationError(`loss must be 'log-loss' or 'squared-error', got ${JSON.stringify(options.loss)}.`);
  }
  const params = {
    learningRate: options.learningRate ?? 0.1,
    maxIter: options.maxIter ?? 100,
    maxLeafNodes: options.maxLeafNodes === undefined ? 31 : options.maxLeafNodes,
    maxDepth: options.maxDepth ?? null,
    minSamplesLeaf: options.minSamplesLeaf ?? 20,
    l2Regularization: options.l2Regularization ?? 0,
    maxBins: options.maxBins ?? 255,
    validationFraction: options.validationFraction ?? 0.1,
    nIterNoChange: options.nIterNoChange ?? 10,
    tol: options.tol ?? 1e-7,
    seed: options.seed ?? 0,
  };
  const wholeAtLeast = (name: string, value: number | null, least: number, nullable = false) => {
    if (nullable && value === null) return;
    if (!Number.isSafeInteger(value) || (value as number) < least) {
      throw new ValidationError(`${name} must be a whole number of at least ${least}${nullable ? ' or null for no limit' : ''}, got ${value}.`);
    }
  };
  if (!(params.learningRate > 0 && Number.isFinite(params.learningRate))) throw new ValidationError(`learningRate must be a positive finite number, got ${params.learningRate}.`);
  wholeAtLeast('maxIter', params.maxIter, 1);
  wholeAtLeast('maxLeafNodes', params.maxLeafNodes, 2, true);
  wholeAtLeast('maxDepth', params.maxDepth, 1, true);
  wholeAtLeast('minSamplesLeaf', params.minSamplesLeaf, 1);
  if (!(params.l2Regularization >= 0 && Number.isFinite(params.l2Regularization))) {
    throw new ValidationError(`l2Regularization must be a finite number of at least 0, got ${params.l2Regularization}.`);
  }
  if (!Number.isInteger(params.maxBins) || params.maxBins < 2 || params.maxBins > MISSING_BIN) {
    throw new ValidationError(`maxBins must be a whole number from 2 to ${MISSING_BIN}, got ${params.maxBins}.`);
  }
  const earlyStopping = options.earlyStopping ?? 'auto';
  if (earlyStopping !== 'auto' && typeof earlyStopping !== 'boolean') throw new ValidationError(`earlyStopping must be 'auto', true or false, got ${JSON.stringify(earlyStopping)}.`);
  if (!(params.validationFraction > 0 && params.validationFraction < 1)) {
    throw new ValidationError(`validationFraction must be between 0 and 1 (exclusive), got ${params.validationFraction}.`);
  }
  wholeAtLeast('nIterNoChange', params.nIterNoChange, 1);
  if (!(params.tol >= 0 && Number.isFinite(params.tol))) throw new ValidationError(`tol must be a finite number of at least 0, got ${params.tol}.`);
  if (!Number.isSafeInteger(params.seed)) throw new ValidationError(`seed must be a whole number, got ${params.seed}.`);
  return { ...params, earlyStopping: earlyStopping === 'auto' ? rows > AUTO_EARLY_STOPPING_ROWS : earlyStopping };
}

function resolveThreads(threads: number | undefined): number {
  if (threads === undefined) return Math.min(os.availableParallelism(), MAX_THREADS);
  if (!Number.isSafeInteger(threads) || threads < 1) throw new ValidationError(`threads must be a whole number of at least 1, got ${threads}.`);
  return Math.min(threads, MAX_THREADS);
}

function checkLabels(loss: GradientBoostingLoss, labels: ArrayLike<number>, rows: number): Float64Array {
  if (labels.length !== rows) throw new ValidationError(`There are ${labels.length} labels for ${rows} rows of features.`);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) y[i] = labels[i]!;
  if (loss === 'squared-error') {
    const bad = y.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ValidationError(`Target at row ${bad} is ${y[bad]}; gradient boosting with squared-error needs finite targets.`, { row: bad });
    return y;
  }
  const bad = y.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) throw new ValidationError(`Label at row ${bad} is ${y[bad]}; gradient boosting with log-loss takes labels 0 and 1 only.`, { row: bad });
  const positives = y.reduce((a, b) => a + b, 0);
  if (positives === 0 || positives === rows) {
    throw new ValidationError(`Every training label is ${positives === 0 ? 0 : 1}; gradient boosting with log-loss needs rows of both classes.`);
  }
  return y;
}

/** Seeded train/validation rows, each ascending; for log loss, each class is split in the same proportion. */
function validationSplit(loss: GradientBoostingLoss, y: Float64Array, params: Params): { train: Uint32Array; validation: Uint32Array } {
  const { validationFraction: testFraction, seed } = params;
  const groups = loss === 'log-loss' ? [0, 1].map((label) => allRows(y.length).filter((r) => y[r] === label)) : [allRows(y.length)];
  const validation = groups.flatMap((group) => Array.from(splitRows(group.length, { testFraction, seed }).test, (k) => group[k]!));
  const held = new Uint8Array(y.length);
  for (const r of validation) held[r] = 1;
  const train = allRows(y.length).filter((r) => held[r] === 0);
  const trainPositives = train.reduce((count, r) => count + y[r]!, 0);
  if (validation.length === 0 || (loss === 'log-loss' && (trainPositives === 0 || trainPositives === train.length))) {
    throw new ValidationError(
      `validationFraction ${testFraction} of ${y.length} rows leaves ${validation.length === 0 ? 'no validation rows' : 'training rows of one class only'} for early stopping; change it or set earlyStopping to false.`,
    );
  }
  return { train, validation: Uint32Array.from(validation).sort() };
}

/** The training rows bin thresholds are fitted on: all, or a seeded BINNING_SAMPLE of them as scikit-learn subsamples. */
function binningSample(train: Uint32Array, seed: number): Uint32Array {
  if (train.length <= BINNING_SAMPLE) return train;
  const { test } = splitRows(train.length, { testFraction: BINNING_SAMPLE / train.length, seed });
  return pick(train, test, new Uint32Array(test.length));
}

// Plain loops rather than TypedArray.from with a mapping function, which takes tens of
// milliseconds longer per million rows.
function allRows(rows: number): Uint32Array {
  const all = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) all[i] = i;
  return all;
}

/** values[rows[k]] for each k, into `picked`. */
function pick<T extends Float64Array | Uint32Array>(values: T, rows: Uint32Array, picked: T): T {
  for (let k = 0; k < rows.length; k++) picked[k] = values[rows[k]!]!;
  return picked;
}

function baselineScore(loss: GradientBoostingLoss, y: Float64Array): number {
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  return loss === 'log-loss' ? Math.log(mean / (1 - mean)) : mean;
}

/** Mean log loss, or half the mean squared error: the losses scikit-learn's early stopping scores. */
function meanLoss(loss: GradientBoostingLoss, y: Float64Array, scores: Float64Array): number {
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    const z = scores[i]!;
    total += loss === 'log-loss' ? softplus(z) - y[i]! * z : 0.5 * (y[i]! - z) ** 2;
  }
  return total / y.length;
}

/** scikit-learn's _should_stop: none of the last nIterNoChange losses is more than tol below the one before them. */
function shouldStop(losses: number[], nIterNoChange: number, tol: number): boolean {
  if (losses.length <= nIterNoChange) return false;
  const reference = losses[losses.length - nIterNoChange - 1]! - tol;
  return losses.slice(-nIterNoChange).every((value) => !(value < reference));
}

/** Adds a freshly grown tree's values to binned rows' scores, routing by bin as training did. */
function addBinnedTree({ tree, splitBins }: GrownTree, bins: Uint8Array, inputs: number, scores: Float64Array): void {
  const { feature, missingLeft, left, right, value } = tree;
  for (let i = 0; i < scores.length; i++) {
    let node = 0;
    for (let f = feature[0]!; f >= 0; f = feature[node]!) {
      const b = bins[i * inputs + f]!;
      node = (b === MISSING_BIN ? missingLeft[node]! : b <= splitBins[node]!) ? left[node]! : right[node]!;
    }
    scores[i]! += value[node]!;
  }
}
