/**
 * Training and evaluation for the flight-delay pipeline: a logistic regression or gradient-boosted
 * trees on the training set artifact, split by time (the last rows, the most recent flights, are held out), exported to
 * ONNX and verified in onnxruntime-node; evaluation scores the held-out rows with the ONNX model
 * itself, so the metrics describe exactly what would be served.
 *
 * The computation is CPU-bound (seconds to minutes), so it runs in a thread of the CPU pool
 * (src/platform/cpu-pool.ts): the artifact-level functions read the artifacts on the calling
 * thread, hand their bytes to a task of this module (`trainTask`, `evaluateTask`, `profileTask`,
 * pure functions of bytes) and store what comes back. The same task runs inline with a pool of 0
 * threads, and gives the same bytes and numbers either way.
 */
import { tableFromIPC, type Table } from 'apache-arrow';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ValidationError } from '../../../src/errors.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../features/raw-training-set.js';
import { profileColumn, profileColumns } from '../../../src/monitoring/profile.js';
import type { ReferenceProfile } from '../../../src/monitoring/reference.js';
import { cpuTask, defaultCpuPool, ownBuffer, withTransfer, type CpuPool, type CpuTaskContext, type Transferred } from '../../../src/platform/cpu-pool.js';
import type { ArtifactStore } from '../../../src/artifacts/index.js';
import { flightDelayReport, type FlightDelayReport } from './flight-delay-report.js';
import { trainGradientBoosting } from '../../../src/ml/gradient-boosting.js';
import { trainLogisticRegression } from '../../../src/ml/linear.js';
import { brierScore, logLoss, prAuc, rocAuc, thresholdMetrics } from '../../../src/ml/metrics/index.js';
import { serializeModel } from '../../../src/ml/model.js';
import { exportOnnx } from '../../../src/ml/onnx-export.js';
import type { FeatureFrame } from '../../../src/ml/preprocessing.js';

export interface SplitOptions {
  /** The most recent share of rows held out for validation. */
  testFraction: number;
}

interface Split {
  train: { frame: FeatureFrame; labels: Int8Array };
  test: { frame: FeatureFrame; labels: Int8Array };
  cutoff: string;
  /** The last held-out departure. */
  last: string;
}

/** Rows are ordered by departure time, so the split trains on the past and validates on the future. */
function splitByTime(table: Table, { testFraction }: SplitOptions): Split {
  if (!(testFraction > 0 && testFraction < 1)) throw new ValidationError(`testFraction must be between 0 and 1, got ${testFraction}.`);
  const n = table.numRows;
  const cut = Math.floor(n * (1 - testFraction));
  if (cut < 1 || cut >= n) throw new ValidationError(`A training set of ${n} rows is too small to split at ${testFraction}.`);
  const numeric = (from: number, to: number) =>
    Object.fromEntries(NUMERIC_FEATURES.map((f) => [f, (table.getChild(f)!.toArray() as Float64Array).subarray(from, to)]));
  const categorical = (from: number, to: number) =>
    Object.fromEntries(CATEGORICAL_FEATURES.map((f) => [f, (table.getChild(f)!.toArray() as string[]).slice(from, to)]));
  const labels = table.getChild('label')!.toArray() as Int8Array;
  const departed = table.getChild('departedAt')!.toArray() as Float64Array;
  return {
    train: { frame: { numeric: numeric(0, cut), categorical: categorical(0, cut) }, labels: labels.subarray(0, cut) },
    test: { frame: { numeric: numeric(cut, n), categorical: categorical(cut, n) }, labels: labels.subarray(cut, n) },
    cutoff: new Date(departed[cut]!).toISOString(),
    last: new Date(departed[n - 1]!).toISOString(),
  };
}

export type Algorithm = 'logistic-regression' | 'gradient-boosting';

export interface TrainOptions extends SplitOptions {
  algorithm: Algorithm;
  /** Logistic regression's inverse L2 strength. */
  C?: number;
  /** Gradient boosting's trees and learning rate. */
  maxIter?: number;
  learningRate?: number;
}

export interface TrainedModel {
  modelUri: string;
  modelSha256: string;
  /** The model's parameters as JSON, content-addressed too (coefficients or trees, preprocessing). */
  specUri: string;
  algorithm: Algorithm;
  trainRows: number;
  validationRows: number;
  validatedFrom: string;
  onnxMaxAbsDiff: number;
  signature: { inputs: Array<{ name: string; type: 'float' | 'string' }>; outputs: string[] };
}

/** Where the CPU-bound part runs, and what the caller hears of it meanwhile. */
export interface CpuOptions {
  /** Default: the process's pool (STEWARD_CPU_THREADS). */
  pool?: CpuPool;
  /** Cancels the computation (its thread is terminated). */
  signal?: AbortSignal;
  /** Progress of the computation, e.g. `{ phase: 'training', trees: 40, of: 100 }`; a step passes it to its heartbeat. */
  onProgress?: (details: unknown) => void;
}

/** A training set artifact's bytes, handed to the thread (the caller's copy is detached). */
async function readForTask(artifacts: ArtifactStore, uri: string): Promise<Uint8Array<ArrayBuffer>> {
  return ownBuffer(await artifacts.get(uri));
}

export async function trainFlightDelayModel(artifacts: ArtifactStore, trainingSetUri: string, options: TrainOptions, cpu: CpuOptions = {}): Promise<TrainedModel> {
  const trainingSet = await readForTask(artifacts, trainingSetUri);
  const { algorithm, testFraction, C, maxIter, learningRate } = options;
  const trained = await (cpu.pool ?? defaultCpuPool()).run(
    trainTask,
    { trainingSet, options: { algorithm, testFraction, C, maxIter, learningRate } },
    { transfer: [trainingSet.buffer], signal: cpu.signal, onProgress: cpu.onProgress },
  );
  const onnx = await artifacts.put(trained.onnx);
  const spec = await artifacts.put(trained.spec);
  return {
    modelUri: onnx.uri,
    modelSha256: onnx.sha256,
    specUri: spec.uri,
    algorithm: options.algorithm,
    trainRows: trained.trainRows,
    validationRows: trained.validationRows,
    validatedFrom: trained.validatedFrom,
    onnxMaxAbsDiff: trained.onnxMaxAbsDiff,
    signature: {
      inputs: [...NUMERIC_FEATURES.map((name) => ({ name, type: 'float' as const })), ...CATEGORICAL_FEATURES.map((name) => ({ name, type: 'string' as const }))],
      outputs: ['label', 'probabilities'],
    },
  };
}

export interface TrainTaskInput {
  /** The training set artifact's bytes (Arrow IPC). */
  trainingSet: Uint8Array;
  options: TrainOptions;
}

export interface TrainTaskOutput {
  /** The verified ONNX model. */
  onnx: Uint8Array;
  /** The model as JSON (serializeModel). */
  spec: Uint8Array;
  trainRows: number;
  validationRows: number;
  validatedFrom: string;
  onnxMaxAbsDiff: number;
}

/** Trains on the older rows, exports to ONNX and verifies the export on the held-out rows: pure, so it runs in a pool thread. */
export async function trainOnTrainingSet({ trainingSet, options }: TrainTaskInput, context: CpuTaskContext): Promise<Transferred<TrainTaskOutput>> {
  const split = splitByTime(tableFromIPC(trainingSet), options);
  context.progress({ phase: 'training', algorithm: options.algorithm, rows: split.train.labels.length });
  const maxIter = options.maxIter ?? 100;
  const model =
    options.algorithm === 'logistic-regression'
      ? trainLogisticRegression(split.train.frame, split.train.labels, { C: options.C ?? 1, classWeight: 'balanced' })
      : options.algorithm === 'gradient-boosting'
        ? trainGradientBoosting(split.train.frame, split.train.labels, {
            loss: 'log-loss',
            maxIter,
            learningRate: options.learningRate ?? 0.1,
            seed: 0,
            onTree: (trees) => context.progress({ phase: 'training', algorithm: options.algorithm, trees, of: maxIter }),
          })
        : unknownAlgorithm(options.algorithm);
  context.progress({ phase: 'exporting', algorithm: options.algorithm });
  const exported = await exportOnnx(model, split.test.frame);
  const onnx = ownBuffer(exported.onnx);
  const spec = new TextEncoder().encode(serializeModel(model));
  return withTransfer(
    {
      onnx,
      spec,
      trainRows: split.train.labels.length,
      validationRows: split.test.labels.length,
      validatedFrom: split.cutoff,
      onnxMaxAbsDiff: exported.verification.maxAbsDiff,
    },
    [onnx.buffer, spec.buffer],
  );
}

export const trainTask = cpuTask(import.meta.url, 'trainTask', trainOnTrainingSet);

function unknownAlgorithm(algorithm: string): never {
  throw new ValidationError(`Unknown algorithm "${algorithm}": use logistic-regression or gradient-boosting.`, { algorithm });
}

/** The metrics, plus the validation set, fairness, behavioural checks and curves for the model card. */
export interface Evaluation extends FlightDelayReport {
  rows: number;
  rocAuc: number;
  prAuc: number;
  logLoss: number;
  brier: number;
  precision: number;
  recall: number;
  positiveRate: number;
}

/** Scores the held-out rows through the ONNX model in onnxruntime-node and computes the metrics. */
export async function evaluateFlightDelayModel(
  artifacts: ArtifactStore,
  modelUri: string,
  trainingSetUri: string,
  options: SplitOptions,
  cpu: CpuOptions = {},
): Promise<Evaluation> {
  const [model, trainingSet] = [ownBuffer(await artifacts.get(modelUri)), await readForTask(artifacts, trainingSetUri)];
  return (cpu.pool ?? defaultCpuPool()).run(
    evaluateTask,
    { model, trainingSet, options: { testFraction: options.testFraction } },
    { transfer: [model.buffer, trainingSet.buffer], signal: cpu.signal, onProgress: cpu.onProgress },
  );
}

export interface ModelTaskInput {
  /** The ONNX model's bytes. */
  model: Uint8Array;
  /** The training set artifact's bytes (Arrow IPC). */
  trainingSet: Uint8Array;
  options: SplitOptions;
}

/** The evaluation of an ONNX model on a training set's held-out rows: pure, so it runs in a pool thread. */
export async function evaluateOnTrainingSet({ model, trainingSet, options }: ModelTaskInput): Promise<Evaluation> {
  const { train, test, cutoff, last } = splitByTime(tableFromIPC(trainingSet), options);
  const session = await InferenceSession.create(model);
  try {
    const rows = test.labels.length;
    const scores = await scoreFrame(session, test.frame, rows);
    const labels = Uint8Array.from(test.labels);
    const atHalf = thresholdMetrics(labels, scores, 0.5);
    const report = await flightDelayReport(session, {
      trainOrigins: train.frame.categorical!.origin!,
      frame: test.frame,
      labels,
      scores,
      from: cutoff,
      to: last,
      testFraction: options.testFraction,
    });
    return {
      rows,
      rocAuc: rocAuc(labels, scores),
      prAuc: prAuc(labels, scores),
      logLoss: logLoss(labels, scores),
      brier: brierScore(labels, scores),
      precision: atHalf.precision,
      recall: atHalf.recall,
      positiveRate: labels.reduce((a, b) => a + b, 0) / rows,
      ...report,
    };
  } finally {
    await session.release();
  }
}

export const evaluateTask = cpuTask(import.meta.url, 'evaluateTask', evaluateOnTrainingSet);

/** P(delayed) for every row of a frame, through the ONNX session. */
async function scoreFrame(session: InferenceSession, frame: FeatureFrame, rows: number): Promise<Float64Array> {
  const feeds: Record<string, Tensor> = {};
  for (const name of session.inputNames) {
    const numeric = frame.numeric?.[name];
    const categorical = frame.categorical?.[name];
    if (numeric) feeds[name] = new Tensor('float32', Float32Array.from(numeric), [rows, 1]);
    else if (categorical) feeds[name] = new Tensor('string', categorical.map((v) => v ?? ''), [rows, 1]);
    else throw new ValidationError(`The model expects input "${name}", which the training set does not have.`, { input: name });
  }
  const { probabilities } = await session.run(feeds);
  const flat = probabilities!.data as Float32Array;
  const scores = new Float64Array(rows);
  for (let i = 0; i < rows; i++) scores[i] = flat[2 * i + 1]!;
  return scores;
}

export interface ReferenceProfileResult {
  uri: string;
  sha256: string;
  features: string[];
  emptyFeatures: string[];
  trainRows: number;
  validationRows: number;
  validationRocAuc: number;
}

/**
 * Reference statistics at training time: every model feature over the training rows, and the
 * chosen model's predictions and metrics over the validation rows, written as one JSON artifact.
 */
export async function profileFlightDelayReference(
  artifacts: ArtifactStore,
  modelUri: string,
  trainingSetUri: string,
  options: SplitOptions,
  cpu: CpuOptions = {},
): Promise<ReferenceProfileResult> {
  const [model, trainingSet] = [ownBuffer(await artifacts.get(modelUri)), await readForTask(artifacts, trainingSetUri)];
  const { document, ...summary } = await (cpu.pool ?? defaultCpuPool()).run(
    profileTask,
    { model, trainingSet, options: { testFraction: options.testFraction } },
    { transfer: [model.buffer, trainingSet.buffer], signal: cpu.signal, onProgress: cpu.onProgress },
  );
  const artifact = await artifacts.put(document);
  return { uri: artifact.uri, sha256: artifact.sha256, ...summary };
}

export interface ProfileTaskOutput extends Omit<ReferenceProfileResult, 'uri' | 'sha256'> {
  /** The reference profile (ReferenceProfile) as JSON bytes. */
  document: Uint8Array;
}

/** The reference profile of a model on a training set: pure, so it runs in a pool thread. */
export async function profileOnTrainingSet({ model, trainingSet, options }: ModelTaskInput): Promise<Transferred<ProfileTaskOutput>> {
  const { train, test, cutoff, last } = splitByTime(tableFromIPC(trainingSet), options);
  const session = await InferenceSession.create(model);
  let scores: Float64Array;
  try {
    scores = await scoreFrame(session, test.frame, test.labels.length);
  } finally {
    await session.release();
  }
  const profiled = profileColumns({ ...train.frame.numeric, ...train.frame.categorical });
  const labels = Uint8Array.from(test.labels);
  const reference: ReferenceProfile = {
    format: 'steward.reference/v1',
    features: profiled.columns,
    emptyFeatures: profiled.empty,
    prediction: profileColumn(scores, 'prediction')!,
    validation: { rows: labels.length, positives: labels.reduce((a, b) => a + b, 0), rocAuc: rocAuc(labels, scores), logLoss: logLoss(labels, scores), from: cutoff, to: last },
    training: { rows: train.labels.length, to: cutoff },
  };
  const document = new TextEncoder().encode(JSON.stringify(reference));
  return withTransfer(
    {
      document,
      features: Object.keys(profiled.columns),
      emptyFeatures: profiled.empty,
      trainRows: reference.training.rows,
      validationRows: reference.validation.rows,
      validationRocAuc: reference.validation.rocAuc,
    },
    [document.buffer],
  );
}

export const profileTask = cpuTask(import.meta.url, 'profileTask', profileOnTrainingSet);
