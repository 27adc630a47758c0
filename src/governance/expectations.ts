/**
 * Data-quality expectations, declared in code beside the data they guard and checked in SQL where
 * the data lives:
 *
 *   const suite = expectationSuite({ name: 'daily weather', dataset: 'feature_view:daily_weather', table: 'fv_daily_weather', expectations: [
 *     expect.column('precipitation', 'double precision'), expect.between('precipitation', 0, 100),
 *     expect.nullFraction('station', 0), expect.rowCount({ min: 1000 }) ] });
 *   const report = await runExpectations(db, suite, { where: sql`ingestion_id = ${id}`, key: 'run-1/quality' });
 *
 * A row-level expectation (between, inSet, matches, condition) may carry `mostly`, the share of rows
 * that must satisfy it (Great Expectations' term): `expect.between('precipitation', 0, 100,
 * { mostly: 0.9999 })` tolerates one offending row in ten thousand, and still reports how many
 * there were and samples of them.
 *
 * Every expectation is evaluated and reported (observed value, sample offending rows); a failed one
 * makes `runExpectations` throw a non-retryable ValidationError carrying the whole report. An
 * expectation naming a column the table does not have is a definition error, refused before any
 * check runs. Results are stored (idempotently by key) and become OpenLineage data-quality facets.
 */
import { desc, eq, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database } from '../db/client.js';
import { dataQualityResults, type DataQualityResultRow } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { parseDuration } from '../features/definitions.js';
import { dataQualityAssertionsFacet, dataQualityMetricsFacet, type Facets } from '../lineage/openlineage.js';

/** For row-level expectations: the share of rows that must satisfy it, in (0, 1] (default 1: every row). */
export interface RowTolerance {
  mostly?: number;
}

export type Expectation =
  | { kind: 'columnExists'; column: string; type?: string }
  | { kind: 'nullFraction'; column: string; max: number }
  | ({ kind: 'between'; column: string; min?: number | string; max?: number | string } & RowTolerance)
  | ({ kind: 'inSet'; column: string; values: ReadonlyArray<string | number> } & RowTolerance)
  | ({ kind: 'matches'; column: string; pattern: string } & RowTolerance)
  | { kind: 'unique'; columns: readonly string[] }
  | { kind: 'rowCount'; min?: number; max?: number }
  | { kind: 'freshness'; column: string; maxAgeMs: number; asOf?: Date }
  | { kind: 'distribution'; column: string; reference: readonly number[]; maxKs: number }
  | ({ kind: 'condition'; description: string; columns: readonly string[]; violating: SQL } & RowTolerance);

function tolerance(options: RowTolerance | undefined, what: string): RowTolerance {
  if (options?.mostly === undefined) return {};
  const { mostly } = options;
  if (!(typeof mostly === 'number' && mostly > 0 && mostly <= 1)) throw new ValidationError(`Expectation "${what}": mostly must be a share of rows in (0, 1], such as 0.999; got ${String(mostly)}.`);
  return mostly === 1 ? {} : { mostly };
}

/** Builders for the expectations, so suites read as a list of sentences. */
export const expect = {
  column: (column: string, type?: string): Expectation => ({ kind: 'columnExists', column, ...(type ? { type } : {}) }),
  nullFraction: (column: string, max: number): Expectation => ({ kind: 'nullFraction', column, max }),
  between: (column: string, min?: number | string, max?: number | string, options?: RowTolerance): Expectation => ({ kind: 'between', column, min, max, ...tolerance(options, `${column} between`) }),
  inSet: (column: string, values: ReadonlyArray<string | number>, options?: RowTolerance): Expectation => ({ kind: 'inSet', column, values, ...tolerance(options, `${column} in set`) }),
  matches: (column: string, pattern: string, options?: RowTolerance): Expectation => ({ kind: 'matches', column, pattern, ...tolerance(options, `${column} matches`) }),
  unique: (...columns: string[]): Expectation => ({ kind: 'unique', columns }),
  rowCount: (bounds: { min?: number; max?: number }): Expectation => ({ kind: 'rowCount', ...bounds }),
  /** The newest `column` value is at most `maxAge` (e.g. '2d') before `asOf` (default: when checked). */
  freshness: (column: string, maxAge: number | string, asOf?: Date): Expectation => ({ kind: 'freshness', column, maxAgeMs: parseDuration(maxAge, `freshness of ${column}`), ...(asOf ? { asOf } : {}) }),
  /** Two-sample Kolmogorov-Smirnov statistic between the column and a reference sample at most `maxKs`. */
  distribution: (column: string, reference: readonly number[], maxKs: number): Expectation => ({ kind: 'distribution', column, reference, maxKs }),
  /** A rule over several columns: `violating` selects the rows that break it. */
  condition: (description: string, columns: readonly string[], violating: SQL, options?: RowTolerance): Expectation => ({ kind: 'condition', description, columns, violating, ...tolerance(options, description) }),
};

export interface ExpectationSuite {
  name: string;
  /** The dataset's name in the catalog and in lineage. */
  dataset: string;
  table: string;
  expectations: readonly Expectation[];
  /** Columns shown for sample offending rows (default: the expectation's own columns). */
  sampleColumns?: readonly string[];
}

export interface ExpectationResult {
  expectation: string;
  kind: Expectation['kind'];
  columns: string[];
  passed: boolean;
  observed: number | string | null;
  samples: Array<Record<string, unknown>>;
}

export interface QualityReport {
  suite: string;
  dataset: string;
  passed: boolean;
  rows: number;
  results: ExpectationResult[];
  /** Null count per column named by an expectation, for the lineage metrics facet. */
  nullCounts: Record<string, number>;
}

const SAMPLE_ROWS = 5;

export function expectationSuite(suite: ExpectationSuite): ExpectationSuite {
  if (!suite.expectations.length) throw new ValidationError(`Expectation suite "${suite.name}" has no expectations.`);
  return suite;
}

export function describeExpectation(e: Expectation): string {
  const base = describeRule(e);
  return 'mostly' in e && e.mostly !== undefined ? `${base} for at least ${+(e.mostly * 100).toPrecision(6)}% of rows` : base;
}

function describeRule(e: Expectation): string {
  switch (e.kind) {
    case 'columnExists':
      return `column ${e.column} exists${e.type ? ` with type ${e.type}` : ''}`;
    case 'nullFraction':
      return `${e.column} null fraction at most ${e.max}`;
    case 'between':
      return e.min !== undefined && e.max !== undefined ? `${e.column} between ${e.min} and ${e.max}` : e.min !== undefined ? `${e.column} at least ${e.min}` : `${e.column} at most ${e.max}`;
    case 'inSet':
      return `${e.column} in {${e.values.join(', ')}}`;
    case 'matches':
      return `${e.column} matches /${e.pattern}/`;
    case 'unique':
      return `${e.columns.join(', ')} unique`;
    case 'rowCount':
      return e.min !== undefined && e.max !== undefined ? `row count between ${e.min} and ${e.max}` : e.min !== undefined ? `row count at least ${e.min}` : `row count at most ${e.max}`;
    case 'freshness':
      return `newest ${e.column} within ${e.maxAgeMs / 1000}s of ${e.asOf ? e.asOf.toISOString() : 'the check'}`;
    case 'distribution':
      return `${e.column} distribution within KS ${e.maxKs} of the reference`;
    case 'condition':
      return e.description;
  }
}

function columnsOf(e: Expectation): string[] {
  switch (e.kind) {
    case 'rowCount':
      return [];
    case 'unique':
    case 'condition':
      return [...e.columns];
    default:
      return [e.column];
  }
}

async function tableColumns(db: Database, table: string): Promise<Map<string, string>> {
  const rows = await queryRows<{ column_name: string; data_type: string }>(
    db,
    sql`select column_name, data_type from information_schema.columns where table_schema = current_schema() and table_name = ${table}`,
  );
  return new Map(rows.map((r) => [r.column_name, r.data_type]));
}

/** The largest gap between the two empirical distribution functions. */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** Runs every expectation of a suite over the table's rows matching `where`. */
export async function evaluateExpectations(db: Database, suite: ExpectationSuite, options: { where?: SQL } = {}): Promise<QualityReport> {
  const columns = await tableColumns(db, suite.table);
  if (columns.size === 0) throw new ValidationError(`Expectation suite "${suite.name}" guards table "${suite.table}", which does not exist.`, { suite: suite.name });
  for (const e of suite.expectations) {
    if (e.kind === 'columnExists') continue;
    const missing = columnsOf(e).filter((c) => !columns.has(c));
    if (missing.length) {
      throw new ValidationError(
        `Expectation "${describeExpectation(e)}" of suite "${suite.name}" names column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which table ${suite.table} does not have (it has ${[...columns.keys()].join(', ')}). Fix the suite's definition.`,
        { suite: suite.name, missing },
      );
    }
  }
  const from = sql`${sql.identifier(suite.table)} where ${options.where ?? sql`true`}`;
  const [{ rows } = { rows: 0 }] = await queryRows<{ rows: number }>(db, sql`select count(*)::int as rows from ${from}`);
  const results: ExpectationResult[] = [];
  const nullCounts: Record<string, number> = {};
  const ids = (names: readonly string[]) => sql.join(names.map((n) => sql.identifier(n)), sql`, `);
  const sampleOf = (e: Expectation) => (suite.sampleColumns?.length ? [...suite.sampleColumns] : columnsOf(e));

  /** Counts the rows that break an expectation and fetches a few of them. */
  const violations = async (e: Expectation, violating: SQL) => {
    const sample = await queryRows<Record<string, unknown> & { __total: number }>(
      db,
      sql`select ${ids(sampleOf(e))}, count(*) over ()::int as __total from ${from} and (${violating}) limit ${SAMPLE_ROWS}`,
    );
    return { observed: sample[0]?.__total ?? 0, samples: sample.map(({ __total: _total, ...row }) => row) };
  };

  for (const e of suite.expectations) {
    const base = { expectation: describeExpectation(e), kind: e.kind, columns: columnsOf(e) };
    switch (e.kind) {
      case 'columnExists': {
        const type = columns.get(e.column);
        const passed = type !== undefined && (!e.type || type.toLowerCase() === e.type.toLowerCase());
        results.push({ ...base, passed, observed: type ?? 'missing', samples: [] });
        break;
      }
      case 'nullFraction': {
        const col = sql.identifier(e.column);
        const { observed: nulls, samples } = await violations(e, sql`${col} is null`);
        nullCounts[e.column] = nulls;
        const fraction = rows === 0 ? 0 : nulls / rows;
        results.push({ ...base, passed: fraction <= e.max, observed: fraction, samples });
        break;
      }
      case 'between': {
        const col = sql.identifier(e.column);
        const low = e.min !== undefined ? sql`${col} < ${e.min}` : sql`false`;
        const high = e.max !== undefined ? sql`${col} > ${e.max}` : sql`false`;
        const v = await violations(e, sql`${low} or ${high}`);
        results.push({ ...base, passed: v.observed <= tolerated(e, rows), ...v });
        break;
      }
      case 'inSet': {
        const col = sql.identifier(e.column);
        const list = sql.join(e.values.map((value) => sql`${value}`), sql`, `);
        const v = await violations(e, sql`${col} is not null and ${col} not in (${list})`);
        results.push({ ...base, passed: v.observed <= tolerated(e, rows), ...v });
        break;
      }
      case 'matches': {
        const v = await violations(e, sql`${sql.identifier(e.column)} !~ ${e.pattern}`);
        results.push({ ...base, passed: v.observed <= tolerated(e, rows), ...v });
        break;
      }
      case 'condition': {
        const v = await violations(e, e.violating);
        results.push({ ...base, passed: v.observed <= tolerated(e, rows), ...v });
        break;
      }
      case 'unique': {
        const groups = await queryRows<Record<string, unknown> & { __count: number; __extra: number }>(
          db,
          sql`select ${ids(e.columns)}, count(*)::int as __count, (sum(count(*)) over () - count(*) over ())::int as __extra
              from ${from} group by ${ids(e.columns)} having count(*) > 1 order by count(*) desc limit ${SAMPLE_ROWS}`,
        );
        const observed = groups[0]?.__extra ?? 0;
        results.push({ ...base, passed: groups.length === 0, observed, samples: groups.map(({ __extra: _e, ...row }) => row) });
        break;
      }
      case 'rowCount':
        results.push({ ...base, passed: (e.min === undefined || rows >= e.min) && (e.max === undefined || rows <= e.max), observed: rows, samples: [] });
        break;
      case 'freshness': {
        const [{ newest } = { newest: null }] = await queryRows<{ newest: Date | string | null }>(db, sql`select max(${sql.identifier(e.column)}) as newest from ${from}`);
        const newestMs = newest === null ? NaN : new Date(newest).getTime();
        const asOf = (e.asOf ?? new Date()).getTime();
        results.push({ ...base, passed: Number.isFinite(newestMs) && asOf - newestMs <= e.maxAgeMs, observed: newest === null ? null : new Date(newest).toISOString(), samples: [] });
        break;
      }
      case 'distribution': {
        // The column summarized by 1,000 quantiles: a faithful sample of any size for the KS distance.
        const [{ q } = { q: null }] = await queryRows<{ q: number[] | null }>(
          db,
          sql`select percentile_cont(array(select generate_series(0, 999) / 999.0)) within group (order by ${sql.identifier(e.column)}::float8) as q from ${from}`,
        );
        const d = q && q.length && e.reference.length ? ksStatistic(q.map(Number), e.reference) : 1;
        results.push({ ...base, passed: d <= e.maxKs, observed: d, samples: [] });
        break;
      }
    }
  }
  return { suite: suite.name, dataset: suite.dataset, passed: results.every((r) => r.passed), rows, results, nullCounts };
}

/** How many of `rows` may break a row-level expectation: none unless it says `mostly`. */
function tolerated(e: RowTolerance, rows: number): number {
  return e.mostly === undefined ? 0 : Math.floor((1 - e.mostly) * rows + 1e-9);
}

/** Evaluates a suite, stores the report under `key` (once) and throws when an expectation failed. */
export async function runExpectations(db: Database, suite: ExpectationSuite, options: { where?: SQL; key: string; runId?: string }): Promise<QualityReport> {
  const report = await evaluateExpectations(db, suite, options);
  await db
    .insert(dataQualityResults)
    .values({ key: options.key, dataset: suite.dataset, suite: suite.name, passed: report.passed, rows: report.rows, results: [report as unknown as Record<string, unknown>], runId: options.runId ?? null })
    .onConflictDoNothing({ target: dataQualityResults.key });
  if (!report.passed) {
    const failed = report.results.filter((r) => !r.passed);
    const lines = failed.map((r) => `${r.expectation}: observed ${r.observed}${r.samples.length ? `, e.g. ${JSON.stringify(r.samples[0])}` : ''}`);
    throw new ValidationError(`Data quality check "${suite.name}" failed on ${suite.dataset} (${failed.length} of ${report.results.length} expectations): ${lines.join('; ')}.`, { report });
  }
  return report;
}

export async function readQualityReport(db: Database, key: string): Promise<QualityReport | undefined> {
  const [row] = await db.select().from(dataQualityResults).where(eq(dataQualityResults.key, key));
  return row ? (row.results[0] as unknown as QualityReport) : undefined;
}

/** Stored suite runs, newest first (optionally of one dataset). */
export async function listQualityResults(db: Database, options: { dataset?: string; limit?: number } = {}): Promise<DataQualityResultRow[]> {
  const query = db.select().from(dataQualityResults);
  const filtered = options.dataset ? query.where(eq(dataQualityResults.dataset, options.dataset)) : query;
  return filtered.orderBy(desc(dataQualityResults.id)).limit(options.limit ?? 20);
}

/** The report as OpenLineage input-dataset facets: assertions and metrics. */
export function qualityFacets(report: QualityReport): Facets {
  return {
    dataQualityAssertions: dataQualityAssertionsFacet(
      report.results.map((r) => ({ assertion: r.expectation, success: r.passed, ...(r.columns.length === 1 ? { column: r.columns[0]! } : {}) })),
    ),
    dataQualityMetrics: dataQualityMetricsFacet(report.rows, Object.fromEntries(Object.entries(report.nullCounts).map(([c, n]) => [c, { nullCount: n }]))),
  };
}
