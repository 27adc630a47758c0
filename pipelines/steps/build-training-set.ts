/**
 * Builds a training set from a feature service of the project and a label definition
 * (src/features/training-set.ts): examples from the label's feature view, the service's features
 * joined point in time at each example's time, written as an Arrow IPC artifact whose TabularColumns
 * tell the trainer the label, the time, the numeric and the categorical features. Its cache key holds
 * the definitions it reads and the completed ingestions of their views, so a changed definition or
 * new data builds the set again.
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../src/db/client.js';
import { featureIngestions } from '../../src/db/schema.js';
import { ValidationError } from '../../src/errors.js';
import { canonicalJson, featureRepository, resolveService, specOf, viewsOfService, type Definition, type FeatureService, type FeatureView } from '../../src/features/definitions.js';
import { buildTrainingSet as build, type LabelDefinition } from '../../src/features/training-set.js';
import { viewSensitivity } from '../../src/governance/catalog.js';
import { artifactDataset, featureViewDataset, rowCountFacets } from '../../src/lineage/datasets.js';
import { TASKS } from '../../src/ml/tabular/task.js';
import { defineStep } from '../../src/pipeline/step.js';
import type { StepAccess } from '../../src/pipeline/step-runtime.js';

const transformSchema = z
  .object({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    eq: z.union([z.string(), z.number(), z.boolean()]).optional(),
    oneOf: z.array(z.union([z.string(), z.number()])).min(1).optional(),
  })
  .strict();

/** A LabelDefinition (src/features/training-set.ts) as step input. */
export const labelDefinitionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('column'), view: z.string().min(1), column: z.string().min(1), transform: transformSchema.optional(), description: z.string().optional() }),
  z.object({
    kind: z.literal('future'),
    view: z.string().min(1),
    feature: z.string().min(1),
    horizon: z.string().min(1),
    transform: transformSchema.optional(),
    description: z.string().optional(),
  }),
]);

/** A TrainingSetSummary (src/features/training-set.ts): what the trainer's steps read. */
export const trainingSetSummarySchema = z.object({
  uri: z.string(),
  sha256: z.string(),
  bytes: z.number(),
  rows: z.number(),
  task: z.enum(TASKS),
  columns: z.object({
    label: z.string(),
    time: z.string(),
    numeric: z.array(z.string()),
    categorical: z.array(z.string()),
    keys: z.array(z.string()).optional(),
  }),
  positives: z.number().nullable(),
  from: z.string(),
  to: z.string(),
  featureService: z.string(),
  featureServiceVersion: z.number(),
  label: z.string(),
});

/** The service and the label's view from the project's definitions; clear errors for either missing. */
function resolve(definitions: readonly Definition[], serviceName: string, label: LabelDefinition): { service: FeatureService; views: FeatureView[] } {
  const repo = featureRepository(definitions);
  const service = resolveService(repo, serviceName);
  const views = viewsOfService(service);
  const labelView = repo.views.get(label.view);
  if (!labelView) {
    throw new ValidationError(`The label reads feature view "${label.view}", which the project does not define. Feature views: ${[...repo.views.keys()].sort().join(', ') || 'none'}.`, { view: label.view });
  }
  if (!views.some((v) => v.name === labelView.name)) views.push(labelView);
  return { service, views };
}

/** The views' completed ingestions: the data version the training set is built from. */
async function dataVersion(db: Database, views: readonly FeatureView[]): Promise<unknown[]> {
  if (views.length === 0) return [];
  return db
    .select({ view: featureIngestions.view, id: featureIngestions.id, contentHash: featureIngestions.contentHash, commitSeq: featureIngestions.commitSeq })
    .from(featureIngestions)
    .where(and(inArray(featureIngestions.view, views.map((v) => v.name)), eq(featureIngestions.status, 'complete')))
    .orderBy(asc(featureIngestions.id));
}

export const buildTrainingSet = defineStep({
  name: 'buildTrainingSet',
  version: '1',
  description: 'Build a point-in-time training set from a feature service and a label definition.',
  input: z.object({
    /** A feature service of the project, by name. */
    service: z.string().min(1),
    label: labelDefinitionSchema,
    task: z.enum(TASKS),
    /** Examples at or after this time (ISO 8601). */
    from: z.string().optional(),
    /** Examples before this time (ISO 8601). */
    to: z.string().optional(),
    /** At most this many examples: the latest. */
    maxRows: z.number().int().positive().optional(),
    /** The model the set is for: pii features need a purpose approved for it. */
    model: z.string().optional(),
  }),
  output: trainingSetSummarySchema,
  run: async (input, ctx) => {
    const summary = await build(
      ctx.db,
      ctx.artifacts,
      ctx.features ?? [],
      {
        service: input.service,
        label: input.label,
        task: input.task,
        ...(input.from !== undefined ? { from: input.from } : {}),
        ...(input.to !== undefined ? { to: input.to } : {}),
        ...(input.maxRows !== undefined ? { maxRows: input.maxRows } : {}),
        ...(input.model !== undefined ? { model: input.model } : {}),
      },
      (progress) => ctx.progress(progress),
    );
    const { columns } = summary;
    return {
      ...summary,
      columns: { label: columns.label, time: columns.time, numeric: [...columns.numeric], categorical: [...columns.categorical], ...(columns.keys ? { keys: [...columns.keys] } : {}) },
    };
  },
  fingerprint: async (input, services) => {
    const { service, views } = resolve(services.features ?? [], input.service, input.label);
    const onDemand = service.projections.map((p) => p.view).filter((v) => v.kind === 'onDemandFeatureView');
    const definitions = [service, ...views, ...onDemand].map(specOf);
    return createHash('sha256')
      .update(canonicalJson({ definitions, data: await dataVersion(services.db, views) }))
      .digest('hex');
  },
  lineage: (input, { output }, services) => {
    const { views } = resolve(services.features ?? [], input.service, input.label);
    return {
      inputs: views.map(featureViewDataset),
      outputs: output ? [{ ...artifactDataset(output.uri), outputFacets: rowCountFacets(output.rows, output.bytes) }] : [],
    };
  },
  access: (input, services) => {
    const { views } = resolve(services.features ?? [], input.service, input.label);
    return views.map((view): StepAccess => ({ permission: 'train-on', resource: `feature_view:${view.name}`, sensitivity: viewSensitivity(view) }));
  },
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '10 minutes',
});
