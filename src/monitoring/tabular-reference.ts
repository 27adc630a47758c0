/**
 * The reference profile a tabular model version keeps for drift monitoring (reference.ts): every
 * feature the model takes over the training rows, and the model's score and metrics over the
 * validation rows (scored by the ONNX model in onnxruntime-node, as src/ml/tabular/evaluate.ts
 * does), written as one JSON artifact. The validation section names the task, every metric of it
 * and the primary metric performance decay is measured on; a regressor's `rocAuc`, `logLoss` and
 * `positives` are 0. It runs in a thread of the CPU pool, like training.
 */
import { profileColumn, profileColumns } from './profile.js';
import type { ReferenceProfile } from './reference.js';
import { cpuTask, defaultCpuPool, withTransfer, type Transferred } from '../platform/cpu-pool.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { modelTaskInput, type ModelRef } from '../ml/tabular/evaluate.js';
import { countPositives } from '../ml/tabular/frame.js';
import { metricOfTask, taskMetrics, withHeldOutScores, type ModelTaskInput } from '../ml/tabular/score.js';
import type { Task } from '../ml/tabular/task.js';
import type { CpuOptions, TrainingSetRef } from '../ml/tabular/train.js';

export interface ProfileOptions {
  testFraction: number;
  /** The metric decay is measured on (default: the task's primary metric). */
  primaryMetric?: string;
}

/** Where the reference profile is and what it covers: what a version's `reference` metadata holds. */
export interface TabularReference {
  uri: string;
  sha256: string;
  /** The features profiled, and those with no value at all in the training rows. */
  features: string[];
  emptyFeatures: string[];
  trainRows: number;
  validationRows: number;
  task: Task;
  primaryMetric: string;
  /** The primary metric on the validation rows: the baseline of performance decay. */
  validationMetric: number;
  /** A classifier's validation ROC AUC (the metric older readers take as the baseline); absent for a regressor. */
  validationRocAuc?: number;
}

/** Profiles the model and its training set in the CPU pool and stores the profile as an artifact. */
export async function profileTabularReference(artifacts: ArtifactStore, model: ModelRef, trainingSet: TrainingSetRef, options: ProfileOptions, cpu: CpuOptions = {}): Promise<TabularReference> {
  const primaryMetric = metricOfTask(model.task, options.primaryMetric, 'Primary metric');
  const input = await modelTaskInput(artifacts, model, trainingSet, options.testFraction);
  const { document, ...summary } = await (cpu.pool ?? defaultCpuPool()).run(
    tabularProfileTask,
    { ...input, primaryMetric },
    { transfer: [input.model.buffer as ArrayBuffer, input.trainingSet.buffer as ArrayBuffer], signal: cpu.signal, onProgress: cpu.onProgress },
  );
  const artifact = await artifacts.put(document);
  return { uri: artifact.uri, sha256: artifact.sha256, ...summary };
}

export interface ProfileTaskOutput extends Omit<TabularReference, 'uri' | 'sha256'> {
  /** The reference profile (ReferenceProfile) as JSON bytes. */
  document: Uint8Array;
}

/** The reference profile of a model on a training set: pure, so it runs in a pool thread. */
export async function profileOnTabular(input: ModelTaskInput & { primaryMetric: string }): Promise<Transferred<ProfileTaskOutput>> {
  return withHeldOutScores(input, async ({ split, scores }) => {
    const { task } = input;
    const primaryMetric = metricOfTask(task, input.primaryMetric, 'Primary metric');
    const metrics = taskMetrics(task, split.test.labels, scores);
    const classification = task === 'binary-classification';
    const profiled = profileColumns({ ...split.train.frame.numeric, ...split.train.frame.categorical });
    const reference: ReferenceProfile = {
      format: 'steward.reference/v1',
      features: profiled.columns,
      emptyFeatures: profiled.empty,
      prediction: profileColumn(scores, 'prediction')!,
      validation: {
        rows: split.test.rows,
        positives: classification ? countPositives(split.test.labels) : 0,
        rocAuc: classification ? metrics.rocAuc! : 0,
        logLoss: classification ? metrics.logLoss! : 0,
        from: split.validatedFrom,
        to: split.validatedTo,
        task,
        primaryMetric,
        metrics,
      },
      training: { rows: split.train.rows, to: split.validatedFrom },
    };
    const document = new TextEncoder().encode(JSON.stringify(reference));
    return withTransfer(
      {
        document,
        features: Object.keys(profiled.columns),
        emptyFeatures: profiled.empty,
        trainRows: split.train.rows,
        validationRows: split.test.rows,
        task,
        primaryMetric,
        validationMetric: metrics[primaryMetric]!,
        ...(classification ? { validationRocAuc: metrics.rocAuc! } : {}),
      },
      [document.buffer],
    );
  });
}

export const tabularProfileTask = cpuTask(import.meta.url, 'tabularProfileTask', profileOnTabular);
