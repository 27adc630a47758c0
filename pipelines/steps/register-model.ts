/**
 * Registers a chosen model as a new version of a declared model, with its experiment run, its
 * metrics (the evaluation's, every metric of the task) and model card metadata taken from the
 * declarations: purpose, owner, intended use and limitations (the model's card), the training
 * window, the features with their sensitivity (each feature's `sensitivity` tag, else its view's,
 * from the project's feature definitions), the validation set, fairness, behavioural checks,
 * curves, and the drift reference. Idempotent: a retried step finds the experiment run its first
 * attempt recorded (keyed by the step's idempotency key) and the version registered for the same
 * artifact.
 */
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { featureRepository, outputName, sensitivityOf, type FeatureService } from '../../src/features/definitions.js';
import { artifactDataset, modelVersionDataset } from '../../src/lineage/datasets.js';
import { defineStep } from '../../src/pipeline/step.js';
import { registerModelVersion } from '../../src/registry/models.js';
import { recordTrainingRun } from '../../src/registry/runs.js';
import { SENSITIVITY_LEVELS, type FairnessReportMetadata, type FeatureMetadata, type VersionMetadata } from '../../src/registry/version-metadata.js';
import { trainingSetSummarySchema } from './build-training-set.js';
import { rankingSchema } from './choose-model.js';
import { evaluationSchema, type ModelEvaluation } from './evaluate-model.js';
import { referenceProfileSchema } from './profile-reference.js';
import { algorithmSchema, taskSchema, trainedModelSchema, type TrainedModel } from './train-model.js';

/** The card's text from the model declaration (ModelCardDeclaration). */
export const cardSchema = z.object({
  purpose: z.string().min(1),
  owner: z.string().min(1).max(200),
  intendedUse: z.string().min(1).optional(),
  limitations: z.string().min(1).optional(),
});

export const registerModelInput = z.object({
  modelName: z.string().min(1),
  /** The chosen model (chooseModel's `model`). */
  model: trainedModelSchema,
  /** The training set the model was trained on (a buildTrainingSet output). */
  trainingSet: trainingSetSummarySchema,
  /** The chosen model's evaluation (chooseModel's `evaluation`): its metrics become the version's. */
  evaluation: evaluationSchema,
  /** The profileReference output: stored in the version's metadata for monitoring. */
  reference: referenceProfileSchema.optional(),
  /** Every candidate, best first (chooseModel's `ranking`), for the version's description. */
  ranking: rankingSchema.optional(),
  /** The run's parameters, recorded on the experiment run. */
  params: z.record(z.string(), z.unknown()).default({}),
  card: cardSchema,
  /** The ingestions the training set was built from (ingestFile outputs), for the experiment run's data version. */
  ingestionIds: z.array(z.union([z.string(), z.number()])).default([]),
});

export type RegisterModelInput = z.input<typeof registerModelInput>;

/** Sensitivities from the least to the most sensitive (as the governance catalog ranks them). */
const RANK = ['public', 'internal', 'unclassified', 'confidential', 'pii'];

/** The features of a model, each with its description, tags and sensitivity from the feature service's views. */
export function cardFeatures(service: FeatureService | undefined, model: Pick<TrainedModel, 'signature'>): FeatureMetadata[] {
  const fields = new Map<string, { description: string; sensitivity: string; tags: string[] }>();
  for (const p of service?.projections ?? []) {
    for (const feature of p.features) {
      const field = p.view.features.find((f) => f.name === feature);
      const info = {
        description: field?.description ?? '',
        sensitivity: sensitivityOf(p.view, feature),
        tags: [`view:${p.view.name}`, ...Object.entries(field?.tags ?? {}).filter(([k]) => k !== 'sensitivity').map(([k, v]) => `${k}:${v}`)],
      };
      fields.set(outputName(p.view.name, feature), info);
      // Columns may carry the plain name; two views with a feature of that name: the more sensitive one speaks for it.
      const other = fields.get(feature);
      fields.set(feature, other && RANK.indexOf(other.sensitivity) >= RANK.indexOf(info.sensitivity) ? other : info);
    }
  }
  return model.signature.inputs.map(({ name, type }) => {
    const info = fields.get(name);
    const sensitivity = (SENSITIVITY_LEVELS as readonly string[]).includes(info?.sensitivity ?? '') ? (info!.sensitivity as FeatureMetadata['sensitivity']) : undefined;
    return {
      name,
      type,
      ...(info?.description ? { description: info.description } : {}),
      ...(sensitivity ? { sensitivity } : {}),
      tags: info ? [...info.tags, ...(sensitivity ? [] : [`sensitivity:${info.sensitivity}`])] : ['sensitivity:unknown'],
    };
  });
}

/** The classifier report the card and the sign-off show as `fairness`: a failed one first, else the largest equal-opportunity gap. */
export function worstClassificationFairness(reports: readonly FairnessReportMetadata[]): VersionMetadata['fairness'] | undefined {
  const classification = reports.filter((r): r is Extract<FairnessReportMetadata, { task: 'binary-classification' }> => r.task === 'binary-classification');
  const gap = (r: (typeof classification)[number]) => r.maxEqualOpportunityGap ?? -Infinity;
  const worst = [...classification].sort((a, b) => Number(a.passed) - Number(b.passed) || gap(b) - gap(a))[0];
  if (!worst) return undefined;
  const { task: _task, column: _column, minAllowedDisparateImpactRatio: _min, passed: _passed, ...fairness } = worst;
  return fairness;
}

/** The version's card metadata and a one-line description, from the declarations and the evaluation. */
export function versionCard(input: {
  modelName: string;
  model: TrainedModel;
  trainingSet: z.output<typeof trainingSetSummarySchema>;
  evaluation: ModelEvaluation;
  reference?: z.output<typeof referenceProfileSchema>;
  ranking?: z.output<typeof rankingSchema>;
  card: z.output<typeof cardSchema>;
  service: FeatureService | undefined;
}): { description: string; metadata: VersionMetadata } {
  const { model, trainingSet, evaluation, ranking = [], card } = input;
  const shown = (x: number) => (Math.abs(x) >= 1_000 ? x.toFixed(1) : x.toFixed(4));
  const own = ranking.find((c) => c.algorithm === model.algorithm);
  const others = ranking.filter((c) => c !== own);
  const description =
    own && others.length
      ? `${model.algorithm}, chosen over ${others.map((c) => `${c.algorithm} (${shown(c.value)})`).join(', ')} by held-out ${own.metric} ${shown(own.value)}.`
      : `${model.algorithm} ${model.task} model trained by the train-${input.modelName} pipeline.`;
  const reports = evaluation.fairness as unknown as FairnessReportMetadata[];
  const fairness = worstClassificationFairness(reports);
  const { residuals, predictedVsActual, roc, calibration } = evaluation.curves;
  const curves = { ...(roc ? { roc } : {}), ...(calibration ? { calibration } : {}), ...(residuals ? { residuals } : {}), ...(predictedVsActual ? { predictedVsActual } : {}) };
  return {
    description,
    metadata: {
      purpose: card.purpose,
      owner: card.owner,
      ...(card.intendedUse ? { intendedUse: card.intendedUse } : {}),
      ...(card.limitations ? { limitations: card.limitations } : {}),
      training: {
        from: model.trainFrom,
        to: model.trainTo,
        rows: model.trainRows,
        label: trainingSet.label,
        source: `feature service ${trainingSet.featureService} v${trainingSet.featureServiceVersion}`,
      },
      features: cardFeatures(input.service, model),
      validation: evaluation.validation,
      ...(fairness ? { fairness } : {}),
      ...(reports.length ? { fairnessReports: reports } : {}),
      ...(evaluation.behaviour ? { behaviour: evaluation.behaviour } : {}),
      ...(Object.keys(curves).length ? { curves } : {}),
      ...(input.reference ? { reference: input.reference } : {}),
    },
  };
}

export const registerModel = defineStep({
  name: 'registerModel',
  version: '1',
  description: 'Register the chosen model as a new version, with its experiment run and the model card from the declarations.',
  input: registerModelInput,
  output: z.object({
    modelName: z.string(),
    version: z.number().int(),
    task: taskSchema,
    algorithm: algorithmSchema,
    artifactUri: z.string(),
    /** False when a retry (or a rerun on the same data) found the version already registered. */
    created: z.boolean(),
  }),
  run: async (input, ctx) => {
    if (input.model.task !== input.trainingSet.task || input.evaluation.task !== input.model.task) {
      throw new ValidationError(
        `Cannot register ${input.modelName}: the model is ${input.model.task}, its evaluation ${input.evaluation.task} and the training set ${input.trainingSet.task}; register the chosen model with its own evaluation.`,
      );
    }
    const service = featureRepository(ctx.features ?? []).services.get(input.trainingSet.featureService);
    if (!service) {
      throw new ValidationError(
        `Feature service "${input.trainingSet.featureService}" of training set ${input.trainingSet.uri} is not among the project's feature definitions, so the card cannot say how sensitive ${input.modelName}'s features are; declare it in the project's features.`,
        { featureService: input.trainingSet.featureService },
      );
    }
    const metrics = input.evaluation.metrics;
    // The experiment run first: lineage walks from a registered version to the run that made it.
    await recordTrainingRun(ctx.db, {
      key: ctx.idempotencyKey,
      experiment: input.modelName,
      workflowId: ctx.runId,
      workflowRunId: ctx.workflowRunId,
      params: input.params,
      metrics,
      trainingSet: {
        uri: input.trainingSet.uri,
        sha256: input.trainingSet.sha256,
        ingestionId: input.ingestionIds.length ? input.ingestionIds.join(',') : `feature service ${input.trainingSet.featureService} v${input.trainingSet.featureServiceVersion}`,
      },
      artifacts: [input.model.modelUri, input.model.specUri],
      algorithm: input.model.algorithm,
    });
    const card = versionCard({ ...input, service });
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
    return { modelName: version.modelName, version: version.version, task: input.model.task, algorithm: input.model.algorithm, artifactUri: version.artifactUri, created };
  },
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.model.modelUri), artifactDataset(input.trainingSet.uri), ...(input.reference ? [artifactDataset(input.reference.uri)] : [])],
    outputs: output ? [modelVersionDataset(output.modelName, output.version)] : [],
  }),
  access: (input) => [{ permission: 'write', resource: `model:${input.modelName}` }],
});
