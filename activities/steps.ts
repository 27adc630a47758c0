/**
 * The implementations behind pipeline steps, by the name a step's definition `uses`
 * (pipelines/steps.ts). Each adapts a service call to the step contract: an input object in, an
 * object of named outputs back, writes made idempotent with the step's key. Parquet decoding,
 * training, evaluation and profiling compute in a thread of the CPU pool (src/platform/cpu-pool.ts), so the worker's main
 * thread keeps answering workflow tasks, queries and heartbeats meanwhile; their progress becomes
 * the step's heartbeat details, and a cancelled step terminates its thread.
 */
import type { IngestFlightsInput, SummarizeDelaysInput } from '../src/contracts.js';
import type { Database } from '../src/db/client.js';
import type { OnceOptions } from '../src/db/idempotency.js';
import { ingestFlights, sourceFingerprint, summarizeDelays } from '../src/datasets/flights.js';
import { buildFlightTrainingSet } from '../src/features/flight-training-set.js';
import { checkFlightQuality } from '../src/governance/flight-quality.js';
import {
  evaluateFlightDelayModel,
  profileFlightDelayReference,
  trainFlightDelayModel,
  type Evaluation,
  type ReferenceProfileResult,
  type TrainOptions,
  type TrainedModel,
} from '../src/ml/flight-delay-model.js';
import { flightDelayVersionMetadata } from '../src/ml/flight-delay-report.js';
import { ValidationError } from '../src/errors.js';
import type { StepContext, StepImplementations } from '../src/pipeline/step-runtime.js';
import type { CpuPool } from '../src/platform/cpu-pool.js';
import type { ArtifactStore } from '../src/registry/artifacts.js';
import { registerModelVersion } from '../src/registry/models.js';
import { recordTrainingRun } from '../src/registry/runs.js';

/**
 * `cpuPool` runs the CPU-bound steps (default: the process's pool, sized by STEWARD_CPU_THREADS);
 * a pool of 0 threads runs them inline.
 */
export function createStepImplementations(db: Database, artifacts: ArtifactStore, writeOptions: OnceOptions, cpuPool?: CpuPool): StepImplementations {
  const cpu = (ctx: StepContext) => ({ pool: cpuPool, signal: ctx.signal, onProgress: (details: unknown) => ctx.heartbeat(details) });
  return {
    ingestFlights: {
      run: (input: IngestFlightsInput, ctx) =>
        ingestFlights(db, input.source, {
          ...writeOptions,
          rows: input.rows,
          onProgress: (written, total) => ctx.heartbeat({ written, total }),
          cpu: { pool: cpuPool, signal: ctx.signal },
        }),
      // The file's content, not its name, decides whether a cached ingestion still holds.
      fingerprint: (input: IngestFlightsInput) => sourceFingerprint(input.source),
    },
    summarizeDelays: {
      run: (input: SummarizeDelaysInput, ctx) =>
        summarizeDelays(db, input.ingestionId, ctx.idempotencyKey, { ...writeOptions, delayThresholdMinutes: input.delayThresholdMinutes }),
    },
    checkFlightQuality: {
      run: async (input: { ingestionId: string; minRows: number }, ctx) => {
        const report = await checkFlightQuality(db, input.ingestionId, { minRows: input.minRows, key: `quality:${ctx.idempotencyKey}`, runId: ctx.runId });
        return { passed: report.passed, rows: report.rows, expectations: report.results.length, resultKey: report.key };
      },
    },
    buildTrainingSet: {
      run: (input: { ingestionId: string; delayThresholdMinutes: number }) =>
        buildFlightTrainingSet(db, artifacts, input.ingestionId, { delayThresholdMinutes: input.delayThresholdMinutes }),
    },
    trainModel: {
      run: (input: TrainOptions & { trainingSetUri: string }, ctx) => trainFlightDelayModel(artifacts, input.trainingSetUri, input, cpu(ctx)),
    },
    evaluateModel: {
      run: (input: { modelUri: string; trainingSetUri: string; testFraction: number }, ctx) =>
        evaluateFlightDelayModel(artifacts, input.modelUri, input.trainingSetUri, { testFraction: input.testFraction }, cpu(ctx)),
    },
    profileReference: {
      run: (input: { model: { modelUri: string }; trainingSetUri: string; testFraction: number }, ctx) =>
        profileFlightDelayReference(artifacts, input.model.modelUri, input.trainingSetUri, { testFraction: input.testFraction }, cpu(ctx)),
    },
    chooseModel: {
      // Champion-challenger among this run's candidates: the best held-out ROC AUC wins.
      run: async (input: { candidates: Array<{ model: TrainedModel; evaluation: { rocAuc: number } }> }) => {
        if (input.candidates.length === 0) throw new ValidationError('chooseModel needs at least one candidate.');
        const ranked = [...input.candidates].sort((a, b) => b.evaluation.rocAuc - a.evaluation.rocAuc);
        const best = ranked[0]!;
        return {
          model: best.model,
          metrics: best.evaluation,
          algorithm: best.model.algorithm,
          ranking: ranked.map((c) => ({ algorithm: c.model.algorithm, rocAuc: c.evaluation.rocAuc })),
        };
      },
    },
    registerModel: {
      run: async (
        input: {
          modelName: string;
          model: TrainedModel;
          trainingSet: { uri: string; sha256: string; from: string; label: string };
          ingestionId: string;
          params: Record<string, unknown>;
          /** The chosen candidate's evaluation: numbers become metrics, the rest (fairness, checks, curves) the card's metadata. */
          metrics: Record<string, unknown>;
          ranking?: Array<{ algorithm: string; rocAuc: number }>;
          owner?: string;
          /** The profileReference step's output: stored in the version's metadata for monitoring. */
          reference?: ReferenceProfileResult;
        },
        ctx,
      ) => {
        const metrics = Object.fromEntries(Object.entries(input.metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
        // The experiment run first: lineage walks from a registered version to the run that made it.
        await recordTrainingRun(db, {
          key: ctx.idempotencyKey,
          experiment: input.modelName,
          workflowId: ctx.runId,
          workflowRunId: ctx.workflowRunId,
          params: input.params,
          metrics,
          trainingSet: { uri: input.trainingSet.uri, sha256: input.trainingSet.sha256, ingestionId: input.ingestionId },
          artifacts: [input.model.modelUri, input.model.specUri],
          algorithm: input.model.algorithm,
        });
        const card = flightDelayVersionMetadata({ ...input, evaluation: input.metrics as Partial<Evaluation> });
        if (input.reference) card.metadata = { ...card.metadata, reference: input.reference };
        const { version, created } = await registerModelVersion(
          db,
          {
            modelName: input.modelName,
            artifactUri: input.model.modelUri,
            artifactSha256: input.model.modelSha256,
            trainingSetUri: input.trainingSet.uri,
            metrics,
            signature: input.model.signature,
            algorithm: input.model.algorithm,
            runId: ctx.runId,
            ...card,
          },
          { artifacts },
        );
        return { modelName: version.modelName, version: version.version, algorithm: input.model.algorithm, artifactUri: version.artifactUri, created };
      },
    },
  };
}
