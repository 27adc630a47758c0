/**
 * Runs the project's declared expectation suite for a dataset or a feature view (its `expectations`,
 * src/governance/expectations.ts), optionally over one ingestion only. The report is stored once per
 * step run (runExpectations, keyed by the step's idempotency key) and rides on the step's lineage;
 * a failed expectation fails the step without retry, naming each one with its observed value.
 *
 * A suite guards a table. For a feature view (dataset `feature_view:<name>`, or the view's name) the
 * suite's table is a SQL view the step keeps over the rows of the view's offline table that reads
 * can see (completed ingestions), so a suite is written against the view's own column names.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Database } from '../../src/db/client.js';
import { ValidationError } from '../../src/errors.js';
import { featureRepository, type Definition, type FeatureView } from '../../src/features/definitions.js';
import { tableOf } from '../../src/features/offline-store.js';
import { viewSensitivity } from '../../src/governance/catalog.js';
import { qualityFacets, readQualityReport, runExpectations, type ExpectationSuite, type QualityReport } from '../../src/governance/expectations.js';
import { featureViewDataset } from '../../src/lineage/datasets.js';
import { JOB_NAMESPACE, datasetVersionFacet, type InputDataset } from '../../src/lineage/openlineage.js';
import { defineStep } from '../../src/pipeline/step.js';

/** The suite declared for a dataset (or a feature view by name), or an error listing the datasets that have one. */
export function suiteFor(suites: readonly ExpectationSuite[], dataset: string): ExpectationSuite {
  const found = suites.find((s) => s.dataset === dataset) ?? suites.find((s) => s.dataset === `feature_view:${dataset}`);
  if (!found) {
    throw new ValidationError(
      `No expectation suite is declared for dataset "${dataset}". Datasets with one: ${suites.map((s) => s.dataset).join(', ') || 'none'}. Declare one in the project's expectations (expectationSuite({ name, dataset: '${dataset}', table, expectations })).`,
      { dataset, datasets: suites.map((s) => s.dataset) },
    );
  }
  return found;
}

/** The feature view a suite guards, when its dataset names one. */
function viewOf(suite: ExpectationSuite, definitions: readonly Definition[]): FeatureView | undefined {
  const views = featureRepository(definitions).views;
  const name = suite.dataset.startsWith('feature_view:') ? suite.dataset.slice('feature_view:'.length) : suite.dataset;
  return views.get(name);
}

async function relationKind(db: Database, name: string): Promise<string | undefined> {
  const [row] = await queryRows<{ relkind: string }>(
    db,
    sql`select c.relkind::text as relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relname = ${name}`,
  );
  return row?.relkind;
}

/**
 * Makes the suite's table a SQL view over a feature view's visible rows (unless a table of that name
 * exists): replaced each time, so columns the view gained since are there.
 */
async function exposeView(db: Database, suite: ExpectationSuite, view: FeatureView): Promise<void> {
  const kind = await relationKind(db, suite.table);
  if (kind !== undefined && kind !== 'v') return;
  const target = sql.identifier(suite.table);
  const select = sql`select * from ${sql.raw(tableOf(view.name))} t where exists (select 1 from feature_ingestions i where i.id = t._ingestion and i.status = 'complete')`;
  await db.transaction(async (tx) => {
    // Serialized per table: two steps replacing the same view at once would fail on the catalog.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`steward.expectations-view:${suite.table}`}))`);
    await tx.execute(sql`drop view if exists ${target}`);
    await tx.execute(sql`create view ${target} as ${select}`);
  });
}

/** The rows of one ingestion: a feature view's `_ingestion`, or a table's `ingestion_id`. */
async function ingestionFilter(db: Database, suite: ExpectationSuite, view: FeatureView | undefined, ingestionId: string): Promise<SQL> {
  if (view) {
    if (!/^\d+$/.test(ingestionId)) throw new ValidationError(`Ingestion ${JSON.stringify(ingestionId)} of feature view "${view.name}" is not an ingestion id (a number, as ingestFile returns).`, { dataset: suite.dataset });
    return sql`_ingestion = ${Number(ingestionId)}`;
  }
  const columns = await queryRows<{ column_name: string }>(
    db,
    sql`select column_name from information_schema.columns where table_schema = current_schema() and table_name = ${suite.table} and column_name in ('ingestion_id', '_ingestion')`,
  );
  const names = columns.map((c) => c.column_name);
  if (names.includes('ingestion_id')) return sql`ingestion_id = ${ingestionId}`;
  if (names.includes('_ingestion') && /^\d+$/.test(ingestionId)) return sql`_ingestion = ${Number(ingestionId)}`;
  throw new ValidationError(`Table ${suite.table} of dataset "${suite.dataset}" has no ingestion column (ingestion_id or _ingestion); check the whole dataset by leaving out ingestionId.`, {
    dataset: suite.dataset,
  });
}

export interface CheckExpectationsResult {
  report: QualityReport;
  suite: ExpectationSuite;
}

/** Runs the dataset's suite (see the module's description); throws the runExpectations error when one fails. */
export async function checkDatasetExpectations(
  db: Database,
  suites: readonly ExpectationSuite[],
  definitions: readonly Definition[],
  options: { dataset: string; ingestionId?: string; key: string; runId?: string },
): Promise<CheckExpectationsResult> {
  const suite = suiteFor(suites, options.dataset);
  const view = viewOf(suite, definitions);
  if (view) await exposeView(db, suite, view);
  const where = options.ingestionId === undefined ? undefined : await ingestionFilter(db, suite, view, options.ingestionId);
  const report = await runExpectations(db, suite, { key: options.key, ...(where ? { where } : {}), ...(options.runId ? { runId: options.runId } : {}) });
  return { report, suite };
}

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
