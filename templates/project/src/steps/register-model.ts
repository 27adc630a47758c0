/**
 * Registers the trained model in Steward's model registry, with the experiment run that produced
 * it (parameters, metrics, training set) and what its model card shows (purpose, owner, features,
 * training and validation windows). Registration is idempotent: a retry, or a rerun that trained
 * the same bytes, returns the version already registered.
 */
import { defineStep, artifactDataset, modelVersionDataset, z } from 'steward';
import { recordTrainingRun, registerModelVersion } from 'steward/registry';

export const registerModel = defineStep({
  name: 'weather.register',
  version: '1',
  description: 'Register the model version (and its training run) in the registry',
  input: z.object({
    modelName: z.string(),
    model: z.object({
      modelUri: z.string(),
      modelSha256: z.string(),
      specUri: z.string(),
      algorithm: z.string(),
      signature: z.object({ inputs: z.array(z.object({ name: z.string(), type: z.string() })), outputs: z.array(z.string()) }),
      metrics: z.record(z.string(), z.number()),
      trainRows: z.number().int(),
      trainedFrom: z.string(),
      validationRows: z.number().int(),
      validatedFrom: z.string(),
      validatedTo: z.string(),
    }),
    trainingSet: z.object({ trainingSetUri: z.string(), trainingSetSha256: z.string(), ingestionId: z.number().int() }),
    /** The run's parameters, recorded with the experiment run. */
    params: z.record(z.string(), z.unknown()).default({}),
  }),
  output: z.object({
    modelName: z.string(),
    version: z.number().int(),
    status: z.string(),
    created: z.boolean(),
  }),
  async run({ modelName, model, trainingSet, params }, ctx) {
    // The run first: lineage walks from a version to the run that trained it.
    await recordTrainingRun(ctx.db, {
      key: ctx.idempotencyKey,
      experiment: modelName,
      workflowId: ctx.runId,
      workflowRunId: ctx.workflowRunId,
      params,
      metrics: model.metrics,
      trainingSet: { uri: trainingSet.trainingSetUri, sha256: trainingSet.trainingSetSha256, ingestionId: String(trainingSet.ingestionId) },
      artifacts: [model.modelUri, model.specUri],
      algorithm: model.algorithm,
    });
    const { version, created } = await registerModelVersion(
      ctx.db,
      {
        modelName,
        artifactUri: model.modelUri,
        artifactSha256: model.modelSha256,
        trainingSetUri: trainingSet.trainingSetUri,
        metrics: model.metrics,
        signature: model.signature,
        algorithm: model.algorithm,
        runId: ctx.runId,
        description: `${model.algorithm}: probability of measurable precipitation tomorrow, from the weather observed today.`,
        metadata: {
          purpose: 'Forecast whether it rains tomorrow (the sample model of a Steward project).',
          owner: '__PROJECT_NAME__',
          features: model.signature.inputs.map((input) => ({ name: input.name, type: input.type, sensitivity: 'public' as const })),
          training: { from: model.trainedFrom, to: model.validatedFrom, rows: model.trainRows, label: 'rain_tomorrow', source: 'data/seattle-weather.csv' },
          validation: { description: 'The most recent days, after every training day', rows: model.validationRows, from: model.validatedFrom, to: model.validatedTo },
        },
      },
      { artifacts: ctx.artifacts },
    );
    ctx.logger?.info(`Registered ${version.modelName} v${version.version}${created ? '' : ' (already registered)'}`);
    return { modelName: version.modelName, version: version.version, status: version.status, created };
  },
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.model.modelUri), artifactDataset(input.trainingSet.trainingSetUri)],
    outputs: output ? [modelVersionDataset(output.modelName, output.version)] : [],
  }),
});
