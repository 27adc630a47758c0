/**
 * Runs the project's declared expectation suite for a dataset or a feature view (its `expectations`,
 * src/governance/expectations.ts), optionally over one ingestion only. The report is stored once per
 * step run (runExpectations, keyed by the step's idempotency key) and rides on the step's lineage;
 * a failed expectation fails the step without retry, naming each one with its observed value.
 * The checking itself, feature views' SQL views included, is src/governance/dataset-checks.ts.
 */
import { z } from 'zod';
import { featureRepository, type Definition } from '../../src/features/definitions.js';
import { viewSensitivity } from '../../src/governance/catalog.js';
import { checkDatasetExpectations } from '../../src/governance/dataset-checks.js';
import { qualityFacets, readQualityReport, type QualityReport } from '../../src/governance/expectations.js';
import { featureViewDataset } from '../../src/lineage/datasets.js';
import { JOB_NAMESPACE, datasetVersionFacet, type InputDataset } from '../../src/lineage/openlineage.js';
import { defineStep } from '../../src/pipeline/step.js';

/** The checked dataset for lineage: a feature view as the store names it, any other dataset by its name. */
function checkedDataset(dataset: string, definitions: readonly Definition[], ingestionId: string | undefined): InputDataset {
  const views = featureRepository(definitions).views;
  const name = dataset.startsWith('feature_view:') ? dataset.slice('feature_view:'.length) : dataset;
  const view = views.get(name);
  const base = view ? featureViewDataset(view) : { namespace: JOB_NAMESPACE, name: dataset };
  return ingestionId === undefined ? base : { ...base, facets: { ...base.facets, version: datasetVersionFacet(ingestionId) } };
}

export const checkExpectations = defineStep({
  name: 'checkExpectations',
  version: '1',
  description: "Check a dataset or feature view against the project's declared expectations; stop when one fails.",
  input: z.object({
    /** A dataset with a declared suite (`feature_view:daily_weather`, or a view's name). */
    dataset: z.string().min(1),
    /** Only this ingestion's rows (ingestFile's ingestionId), instead of the whole dataset. */
    ingestionId: z.union([z.string().min(1), z.number().int()]).optional(),
  }),
  output: z.object({
    dataset: z.string(),
    suite: z.string(),
    passed: z.boolean(),
    rows: z.number(),
    /** Descriptions of the expectations that failed (empty: the step fails when one does). */
    failed: z.array(z.string()),
    /** Where the stored report is (readQualityReport). */
    resultKey: z.string(),
  }),
  run: async (input, ctx) => {
    const key = `quality:${ctx.idempotencyKey}`;
    const { report, suite } = await checkDatasetExpectations(ctx.db, ctx.expectations ?? [], ctx.features ?? [], {
      dataset: input.dataset,
      ...(input.ingestionId !== undefined ? { ingestionId: String(input.ingestionId) } : {}),
      key,
      runId: ctx.runId,
    });
    return { dataset: suite.dataset, suite: suite.name, passed: report.passed, rows: report.rows, failed: report.results.filter((r) => !r.passed).map((r) => r.expectation), resultKey: key };
  },
  // Data changes under the same input: every run checks again.
  cache: false,
  lineage: async (input, result, services) => {
    const ingestionId = input.ingestionId === undefined ? undefined : String(input.ingestionId);
    const report =
      typeof result.output?.resultKey === 'string'
        ? await readQualityReport(services.db, result.output.resultKey)
        : (result.error as { details?: { report?: QualityReport } } | undefined)?.details?.report;
    const dataset = checkedDataset(input.dataset, services.features ?? [], ingestionId);
    return { inputs: [report ? { ...dataset, inputFacets: qualityFacets(report) } : dataset] };
  },
  access: (input, services) => {
    const name = input.dataset.startsWith('feature_view:') ? input.dataset.slice('feature_view:'.length) : input.dataset;
    const view = featureRepository(services.features ?? []).views.get(name);
    return [view ? { permission: 'read', resource: `feature_view:${view.name}`, sensitivity: viewSensitivity(view) } : { permission: 'read', resource: `dataset:${input.dataset}` }];
  },
});
