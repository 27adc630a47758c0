/**
 * A project's declared expectation suites checked against its datasets and feature views, inside a
 * pipeline (the built-in checkExpectations step) or outside one (a team's tests, a notebook, through
 * `steward/features`).
 *
 * A suite guards a table. For a feature view (dataset `feature_view:<name>`, or the view's name) the
 * suite's table is a SQL view kept over the rows of the view's offline table that reads can see
 * (completed ingestions), so a suite is written against the view's own column names.
 */
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database } from '../db/client.js';
import { ValidationError } from '../errors.js';
import { featureRepository, type Definition, type FeatureView } from '../features/definitions.js';
import { tableOf } from '../features/offline-store.js';
import { runExpectations, type ExpectationSuite, type QualityReport } from './expectations.js';

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
export function viewOf(suite: ExpectationSuite, definitions: readonly Definition[]): FeatureView | undefined {
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
