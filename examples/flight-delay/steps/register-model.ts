/**
 * Registers the chosen model as a new version (with its experiment run, model card metadata and
 * drift reference), idempotently: a retried step finds the version it created.
 */
import { z } from 'zod';
import { artifactDataset, modelVersionDataset } from '../../../src/lineage/datasets.js';
import type { Evaluation } from '../ml/flight-delay-model.js';
import { flightDelayVersionMetadata } from '../ml/flight-delay-report.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { registerModelVersion } from '../../../src/registry/models.js';
import { recordTrainingRun } from '../../../src/registry/runs.js';
import { rankingSchema } from './choose-model.js';
import { referenceProfileSchema } from './profile-reference.js';
import { algorithmSchema, trainedModelSchema } from './train-model.js';

export const registerModel = defineStep({
  name: 'registerFlightModel',
  version: '1',
  description: 'Register the chosen model as a new version of the model, with its experiment run and model card.',
  input: z.object({
    modelName: z.string().min(1),
    model: trainedModelSchema,
    /** The training set (a buildTrainingSet or buildTrainingSetFromStore output). */
    trainingSet: z.object({ uri: z.string(), sha256: z.string(), from: z.string(), label: z.string() }),
    ingestionId: z.string(),
    /** The run's parameters, recorded on the experiment run. */
    params: z.record(z.string(), z.unknown()),
    /** The chosen candidate's evaluation: numbers become metrics, the rest (fairness, checks, curves) the card's metadata. */
    metrics: z.record(z.string(), z.unknown()),
    ranking: rankingSchema.optional(),
    owner: z.string().optional(),
    /** The profileReference step's output: stored in the version's metadata for monitoring. */
    reference: referenceProfileSchema.optional(),
  }),
  output: z.object({
    modelName: z.string(),
    version: z.number(),
    algorithm: algorithmSchema,
    artifactUri: z.string(),
    /** False when a retry found the version already registered. */
    created: z.boolean(),
  }),
  run: async (input, ctx) => {
    const metrics = Object.fromEntries(Object.entries(input.metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
    // The experiment run first: lineage walks from a registered version to the run that made it.
    await recordTrainingRun(ctx.db, {
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
      ctx.db,
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
      { artifacts: ctx.artifacts },
    );
    return { modelName: version.modelName, version: version.version, algorithm: input.model.algorithm, artifactUri: version.artifactUri, created };
  },
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.model.modelUri), artifactDataset(input.trainingSet.uri)],
    outputs: output ? [modelVersionDataset(output.modelName, output.version)] : [],
  }),
  access: (input) => [{ permission: 'write', resource: `model:${input.modelName}` }],
});
