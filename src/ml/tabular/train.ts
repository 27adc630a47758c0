/**
 * Training any tabular task on a training set artifact: the declared columns are read and split by
 * time (frame.ts: the most recent rows are held out), the algorithm is fitted on the older rows,
 * exported to ONNX and verified in onnxruntime-node against the TypeScript model on the held-out
 * rows, and the ONNX file and the model's JSON are stored as content-addressed artifacts.
 *
 *   binary-classification  linear = logistic regression     gradient-boosting = trees on log loss
 *   regression             linear = ridge regression         gradient-boosting = trees on squared error
 *
 * The computation is CPU-bound, so it runs in a thread of the CPU pool (src/platform/cpu-pool.ts):
 * `trainTabularModel` reads the artifact on the calling thread, hands its bytes to `tabularTrainTask`
 * (a pure function of bytes, also run inline by a pool of 0 threads) and stores what comes back.
 * Training is deterministic: the same rows, parameters and seed give the same bytes.
 */
import { ValidationError } from '../../errors.js';
import { cpuTask, defaultCpuPool, ownBuffer, withTransfer, type CpuPool, type CpuTaskContext, type Transferred } from '../../platform/cpu-pool.js';
import type { ArtifactStore } from '../../artifacts/index.js';
import { trainGradientBoosting } from '../gradient-boosting.js';
import { trainLinearRegression, trainLogisticRegression } from '../linear.js';
import { serializeModel, type Model } from '../model.js';
import { exportOnnx } from '../onnx-export.js';
import type { FeatureFrame } from '../preprocessing.js';
import { readTrainingSet, splitByTime } from './frame.js';
import { ALGORITHMS, TASKS, type Algorithm, type AlgorithmParams, type TabularColumns, type Task } from './task.js';

/** Where the CPU-bound part runs, and what the caller hears of it meanwhile (a step passes its ctx.cpu). */
export interface CpuOptions {
  /** Default: the process's pool (STEWARD_CPU_THREADS). */
  pool?: CpuPool;
  /** Cancels the computation (its thread is terminated). */
  signal?: AbortSignal;
  /** Progress, e.g. `{ phase: 'training', algorithm: 'gradient-boosting', trees: 40, of: 100 }`. */
  onProgress?: (details: unknown) => void;
}

/** A training set artifact and how to read it. */
export interface TrainingSetRef {
  uri: string;
  task: Task;
  columns: TabularColumns;
}

export interface TrainOptions {
  algorithm: Algorithm;
  params?: AlgorithmParams;
  /** The most recent share of rows held out for validation, in (0, 1). */
  testFraction: number;
}

/** One input of the exported graph: a float [N,1] per numeric feature, a string [N,1] per categorical one. */
export interface ModelSignature {
  inputs: Array<{ name: string; type: 'float' | 'string' }>;
  outputs: string[];
}

export interface TrainedTabularModel {
  /** The verified ONNX model. */
  modelUri: string;
  modelSha256: string;
  /** The model's parameters as JSON (coefficients or trees, preprocessing), content-addressed too. */
  specUri: string;
  task: Task;
  algorithm: Algorithm;
  /** The training set's columns the model was trained on (features, label, time). */
  columns: PlainColumns;
  trainRows: number;
  validationRows: number;
  /** The first and last example the model learned from, ISO 8601. */
  trainFrom: string;
  trainTo: string;
  /** The first held-out example: the model never saw an example from then on. */
  validatedFrom: string;
  /** The largest difference between the ONNX and the TypeScript model's predictions on the held-out rows. */
  onnxMaxAbsDiff: number;
  signature: ModelSignature;
}

/** Trains, exports and verifies a model on a training set artifact, in the CPU pool, and stores the model. */
export async function trainTabularModel(artifacts: ArtifactStore, trainingSet: TrainingSetRef, options: TrainOptions, cpu: CpuOptions = {}): Promise<TrainedTabularModel> {
  checkTask(trainingSet.task);
  checkAlgorithm(options.algorithm);
  const bytes = ownBuffer(await artifacts.get(trainingSet.uri));
  const input: TrainTaskInput = {
    trainingSet: bytes,
    dataset: `training set ${trainingSet.uri}`,
    task: trainingSet.task,
    columns: plainColumns(trainingSet.columns),
    algorithm: options.algorithm,
    params: { ...options.params },
    testFraction: options.testFraction,
  };
  const trained = await (cpu.pool ?? defaultCpuPool()).run(tabularTrainTask, input, { transfer: [bytes.buffer], signal: cpu.signal, onProgress: cpu.onProgress });
  const onnx = await artifacts.put(trained.onnx);
  const spec = await artifacts.put(trained.spec);
  const { onnx: _onnx, spec: _spec, ...summary } = trained;
  return { modelUri: onnx.uri, modelSha256: onnx.sha256, specUri: spec.uri, task: trainingSet.task, algorithm: options.algorithm, columns: input.columns, ...summary };
}

export interface TrainTaskInput {
  /** The training set artifact's bytes (Arrow IPC). */
  trainingSet: Uint8Array;
  /** How messages name the training set. */
  dataset: string;
  task: Task;
  columns: PlainColumns;
  algorithm: Algorithm;
  params: AlgorithmParams;
  testFraction: number;
}

export interface TrainTaskOutput {
  /** The verified ONNX model. */
  onnx: Uint8Array;
  /** The model as JSON (serializeModel). */
  spec: Uint8Array;
  trainRows: number;
  validationRows: number;
  trainFrom: string;
  trainTo: string;
  validatedFrom: string;
  onnxMaxAbsDiff: number;
  signature: ModelSignature;
}

/** Reads and splits the training set, fits the algorithm on the older rows, exports and verifies on the held-out rows. */
export async function trainOnTabular(input: TrainTaskInput, context: CpuTaskContext): Promise<Transferred<TrainTaskOutput>> {
  const { task, columns, algorithm, params, dataset } = input;
  checkTask(task);
  checkAlgorithm(algorithm);
  const { data } = readTrainingSet(input.trainingSet, task, columns, { dataset });
  const split = splitByTime(data, task, columns, input.testFraction, { dataset });
  context.progress({ phase: 'training', algorithm, rows: split.train.rows });
  const model = fitModel(task, algorithm, params, split.train.frame, split.train.labels, (trees, of) => context.progress({ phase: 'training', algorithm, trees, of }));
  context.progress({ phase: 'exporting', algorithm });
  const exported = await exportOnnx(model, split.test.frame);
  const onnx = ownBuffer(exported.onnx);
  const spec = new TextEncoder().encode(serializeModel(model));
  return withTransfer(
    {
      onnx,
      spec,
      trainRows: split.train.rows,
      validationRows: split.test.rows,
      trainFrom: split.trainFrom,
      trainTo: split.trainTo,
      validatedFrom: split.validatedFrom,
      onnxMaxAbsDiff: exported.verification.maxAbsDiff,
      signature: signatureOf(model),
    },
    [onnx.buffer, spec.buffer],
  );
}

export const tabularTrainTask = cpuTask(import.meta.url, 'tabularTrainTask', trainOnTabular);

/**
 * The model of `algorithm` for `task`, fitted on a frame. `C` is the inverse L2 strength of both
 * linear models (ridge regression's alpha is 1/C, as ½‖w‖² + C·Σ½(y − ŷ)²); logistic regression may
 * weigh the classes (`classWeight: 'balanced'`); trees take maxIter, learningRate, maxLeafNodes, seed.
 */
export function fitModel(task: Task, algorithm: Algorithm, params: AlgorithmParams, frame: FeatureFrame, labels: Float64Array, onTree?: (trees: number, of: number) => void): Model {
  checkParams(params);
  if (algorithm === 'linear') {
    const C = params.C ?? 1;
    if (task === 'binary-classification') return trainLogisticRegression(frame, labels, { C, ...(params.classWeight ? { classWeight: params.classWeight } : {}) });
    return trainLinearRegression(frame, labels, { alpha: 1 / C });
  }
  const maxIter = params.maxIter ?? 100;
  return trainGradientBoosting(frame, labels, {
    loss: task === 'binary-classification' ? 'log-loss' : 'squared-error',
    maxIter,
    learningRate: params.learningRate ?? 0.1,
    maxLeafNodes: params.maxLeafNodes ?? 31,
    seed: params.seed ?? 0,
    onTree: (trees) => onTree?.(trees, maxIter),
  });
}

/** The inputs and outputs of the model's ONNX export. */
export function signatureOf(model: Model): ModelSignature {
  const pre = model.preprocessor;
  const classifier = model.kind === 'logistic-regression' || (model.kind === 'gradient-boosting' && model.loss === 'log-loss');
  return {
    inputs: [...pre.numeric.map((f) => ({ name: f.name, type: 'float' as const })), ...pre.categorical.map((f) => ({ name: f.name, type: 'string' as const }))],
    outputs: classifier ? ['label', 'probabilities'] : ['variable'],
  };
}

export function checkTask(task: string): asserts task is Task {
  if (!TASKS.includes(task as Task)) throw new ValidationError(`Unknown task "${task}": use ${TASKS.join(' or ')}.`, { task });
}

export function checkAlgorithm(algorithm: string): asserts algorithm is Algorithm {
  if (!ALGORITHMS.includes(algorithm as Algorithm)) throw new ValidationError(`Unknown algorithm "${algorithm}": use ${ALGORITHMS.join(' or ')}.`, { algorithm });
}

function checkParams(params: AlgorithmParams): void {
  const positive = (name: keyof AlgorithmParams, value: number | undefined, whole = false) => {
    if (value === undefined) return;
    if (!(Number.isFinite(value) && value > 0) || (whole && !Number.isInteger(value))) {
      throw new ValidationError(`Parameter ${name} must be a positive ${whole ? 'whole number' : 'finite number'}, got ${value}.`, { param: name, value });
    }
  };
  positive('C', params.C);
  positive('learningRate', params.learningRate);
  positive('maxIter', params.maxIter, true);
  positive('maxLeafNodes', params.maxLeafNodes, true);
  if (params.maxLeafNodes !== undefined && params.maxLeafNodes < 2) throw new ValidationError(`Parameter maxLeafNodes must be at least 2, got ${params.maxLeafNodes}.`, { param: 'maxLeafNodes' });
  if (params.seed !== undefined && !Number.isSafeInteger(params.seed)) throw new ValidationError(`Parameter seed must be a whole number, got ${params.seed}.`, { param: 'seed' });
  if (params.classWeight !== undefined && params.classWeight !== 'balanced') throw new ValidationError(`Parameter classWeight must be 'balanced' or absent, got ${JSON.stringify(params.classWeight)}.`, { param: 'classWeight' });
}

/** TabularColumns with plain (mutable) arrays, as JSON and step schemas have them. */
export interface PlainColumns extends TabularColumns {
  numeric: string[];
  categorical: string[];
  keys?: string[];
}

/** The columns as plain arrays, so they cross to a thread by structured clone and serialize as JSON. */
export function plainColumns(columns: TabularColumns): PlainColumns {
  return {
    label: columns.label,
    time: columns.time,
    numeric: [...columns.numeric],
    categorical: [...columns.categorical],
    ...(columns.keys ? { keys: [...columns.keys] } : {}),
  };
}
