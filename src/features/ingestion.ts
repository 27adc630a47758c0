/**
 * Loading rows into a feature view's offline table. The source's schema is checked against the
 * view before anything is written (a mismatch names the column); then rows go in bounded batches,
 * each validated (join keys present and typed, timestamps present and parseable, numbers finite or
 * handled as `nonFinite` says) and written with COPY in its own transaction together with a record
 * of the batch. The ingestion is keyed by the view and the content's hash: a retry skips the batches
 * already recorded and finishes, or finds the ingestion complete and writes nothing. Its rows stay
 * invisible to reads until the last batch is in and the ingestion is marked complete; bad input in any
 * batch removes what earlier batches wrote and marks the ingestion failed, so nothing is half written.
 */
import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { featureIngestionBatches, featureIngestions, type FeatureIngestion } from '../db/schema.js';
import { ConflictError, ValidationError } from '../errors.js';
import { batchCsv, insertBatch, type RowBatch } from './bulk.js';
import type { FeatureView, ValueType } from './definitions.js';
import { layoutFromSpec, tableOf, type ViewLayout } from './offline-store.js';
import { registeredDefinition, requireApplied } from './registry.js';
import type { IngestionSource, SourceKind } from './sources.js';

/** What to do with NaN and ±Infinity in numeric features: refuse the input (default) or store null. */
export type NonFinitePolicy = 'refuse' | 'null';

export interface IngestOptions {
  /** Rows per write transaction (default 20,000). */
  batchRows?: number;
  nonFinite?: NonFinitePolicy;
  onProgress?: (progress: { rowsWritten: number; rowsTotal: number | undefined; batches: number }) => void;
  /** Test hook: called after each batch commits (a throw here is a crash between batches). */
  afterBatchCommit?: (batch: number) => void;
}

export interface IngestResult {
  ingestionId: number;
  view: string;
  source: string;
  contentHash: string;
  rows: number;
  batches: number;
  /** True when this content was already ingested into the view: nothing was written. */
  reused: boolean;
  /** Batches found already written by an interrupted attempt and skipped. */
  batchesSkipped: number;
  /** Per column, how many non-finite numbers were stored as null (with nonFinite: 'null'). */
  nonFiniteAsNull: Record<string, number>;
}

const DEFAULT_BATCH_ROWS = 20_000;

export async function ingest(
  db: Database,
  view: string | FeatureView,
  source: IngestionSource,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const layout = await viewLayout(db, view);
  const nonFinite = options.nonFinite ?? 'refuse';
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows <= 0) throw new ValidationError(`batchRows must be a positive whole number, got ${batchRows}.`);
  const columns = checkSourceSchema(layout, source);
  const key = createHash('sha256').update(`${layout.name}\0${source.contentHash}\0${nonFinite}`).digest('hex');
  const record = await startIngestion(db, key, layout.name, source);
  const result: IngestResult = {
    ingestionId: record.id,
    view: layout.name,
    source: source.description,
    contentHash: source.contentHash,
    rows: record.rows,
    batches: record.batches,
    reused: record.status === 'complete',
    batchesSkipped: 0,
    nonFiniteAsNull: (record.report.nonFiniteAsNull as Record<string, number> | undefined) ?? {},
  };
  if (result.reused) return result;

  const encoder = new RowEncoder(layout, columns, source.description, nonFinite);
  const table = tableOf(layout.name);
  let batch = 0;
  let rowsWritten = 0;
  try {
    for await (const piece of source.batches()) {
      for (let offset = 0; offset < piece.length; offset += batchRows) {
        const length = Math.min(batchRows, piece.length - offset);
        const rows = encoder.encode(record.id, piece.columns, offset, length, piece.rowStart + offset);
        const csv = batchCsv(rows);
        const hash = createHash('sha256').update(csv).digest('hex');
        const index = batch++;
        const written = await db.transaction(async (tx) => {
          const claimed = await tx
            .insert(featureIngestionBatches)
            .values({ ingestionId: record.id, batch: index, rowStart: piece.rowStart + offset, rows: length, hash })
            .onConflictDoNothing()
            .returning({ batch: featureIngestionBatches.batch });
          if (claimed.length === 0) {
            const [existing] = await tx
              .select()
              .from(featureIngestionBatches)
              .where(and(eq(featureIngestionBatches.ingestionId, record.id), eq(featureIngestionBatches.batch, index)));
            if (existing?.hash !== hash) {
              throw new ConflictError(
                `Batch ${index} of ${source.description} differs from the one an earlier attempt of this ingestion wrote; the source changed mid-ingestion. Ingest it again as new content.`,
                { ingestionId: record.id, batch: index },
              );
            }
            return false;
          }
          await insertBatch(tx, table, rows, csv);
          await tx
            .update(featureIngestions)
            .set({ rows: sql`${featureIngestions.rows} + ${length}`, batches: sql`${featureIngestions.batches} + 1` })
            .where(eq(featureIngestions.id, record.id));
          return true;
        });
        if (!written) result.batchesSkipped++;
        rowsWritten += length;
        options.afterBatchCommit?.(index);
        options.onProgress?.({ rowsWritten, rowsTotal: source.rows, batches: batch });
      }
    }
  } catch (error) {
    // Bad input never succeeds on retry: take back what earlier batches wrote. Anything else (the
    // database going away) leaves the batches for the retry to skip.
    if (error instanceof ValidationError) await failIngestion(db, layout.name, record.id, error.message);
    throw error;
  }
  const report = { nonFiniteAsNull: encoder.nonFiniteAsNull };
  const completed = await completeIngestion(db, layout.name, record.id, report);
  // Fresh planner statistics: without them PostgreSQL (and PGlite, which has no autovacuum) sorts the
  // whole table for each of materialization's keyset-paged batches instead of walking the index.
  await db.execute(sql.raw(`analyze ${table}`));
  return { ...result, rows: completed.rows, batches: completed.batches, nonFiniteAsNull: encoder.nonFiniteAsNull };
}

async function viewLayout(db: Database, view: string | FeatureView): Promise<ViewLayout> {
  if (typeof view !== 'string') {
    await requireApplied(db, [view]);
    return view;
  }
  return layoutFromSpec((await registeredDefinition(db, 'featureView', view)).spec);
}

interface Column {
  name: string;
  role: 'join key' | 'event timestamp' | 'created timestamp' | 'feature';
  type: ValueType;
}

const accepts: Record<ValueType, SourceKind[]> = {
  string: ['string'],
  int32: ['integer'],
  int64: ['integer'],
  float64: ['float', 'integer'],
  bool: ['boolean'],
  timestamp: ['timestamp', 'integer', 'float', 'string'],
};

/** The view's columns in write order, after checking the source has each with a compatible type. */
function checkSourceSchema(view: ViewLayout, source: IngestionSource): Column[] {
  const columns: Column[] = [
    ...view.joinKeys.map((k) => ({ name: k.name, role: 'join key' as const, type: k.type })),
    { name: view.eventTimestamp, role: 'event timestamp', type: 'timestamp' },
    ...(view.createdTimestamp ? [{ name: view.createdTimestamp, role: 'created timestamp' as const, type: 'timestamp' as const }] : []),
    ...view.features.map((f) => ({ name: f.name, role: 'feature' as const, type: f.type })),
  ];
  for (const column of columns) {
    const kind = source.columns.get(column.name);
    if (kind === undefined) {
      const names = [...source.columns.keys()];
      const near = names.find((n) => looseName(n) === looseName(column.name));
      const listed = names.length > 20 ? `${names.slice(0, 20).map(visible).join(', ')} and ${names.length - 20} more` : names.map(visible).join(', ') || 'no columns';
      throw new ValidationError(
        `${source.description} does not match feature view "${view.name}": it has no column "${column.name}" (the view's ${column.role}, ${column.type}). It has ${listed}.` +
          (near === undefined ? '' : ` Column ${visible(near)} differs only by case, spaces or invisible characters (such as a byte-order mark): rename it to "${column.name}".`),
        { view: view.name, column: column.name, source: source.description },
      );
    }
    if (kind !== 'other' && !accepts[column.type].includes(kind)) {
      throw new ValidationError(
        `${source.description} does not match feature view "${view.name}": column "${column.name}" holds ${kind} values but the view declares ${column.type}.`,
        { view: view.name, column: column.name, source: source.description, found: kind, declared: column.type },
      );
    }
  }
  return columns;
}

/** A column name as a message shows it: plain when printable, else quoted with its invisible characters escaped. */
function visible(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) ? name : JSON.stringify(name).replace(/[\u007f-\u009f\u00a0\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A column name without case, surrounding or invisible characters: what a user sees when they compare two names. */
function looseName(name: string): string {
  return name.replace(/[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2060-\u206f\ufeff]/g, '').toLowerCase();
}

async function startIngestion(db: Database, key: string, view: string, source: IngestionSource): Promise<FeatureIngestion> {
  await db
    .insert(featureIngestions)
    .values({ key, view, source: source.description, contentHash: source.contentHash })
    .onConflictDoNothing({ target: featureIngestions.key });
  const [record] = await db.select().from(featureIngestions).where(eq(featureIngestions.key, key));
  if (record!.status !== 'failed') return record!;
  // A failed attempt left nothing behind (failIngestion removed it); start over.
  const [restarted] = await db
    .update(featureIngestions)
    .set({ status: 'running', error: null, rows: 0, batches: 0, startedAt: new Date() })
    .where(eq(featureIngestions.id, record!.id))
    .returning();
  return restarted!;
}

async function failIngestion(db: Database, view: string, id: number, error: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql.raw(`delete from ${tableOf(view)} where _ingestion = ${Math.trunc(id)}`));
    await tx.delete(featureIngestionBatches).where(eq(featureIngestionBatches.ingestionId, id));
    await tx.update(featureIngestions).set({ status: 'failed', error, rows: 0, batches: 0 }).where(eq(featureIngestions.id, id));
  });
}

/** Makes the rows visible, with the next commit sequence number of the view (the materialization watermark). */
async function completeIngestion(db: Database, view: string, id: number, report: Record<string, unknown>): Promise<FeatureIngestion> {
  return db.transaction(async (tx) => {
    await lockView(tx, view);
    const [current] = await tx.select().from(featureIngestions).where(eq(featureIngestions.id, id));
    if (current!.status === 'complete') return current!;
    const [{ next }] = (await tx
      .select({ next: sql<number>`coalesce(max(${featureIngestions.commitSeq}), 0)::int + 1` })
      .from(featureIngestions)
      .where(eq(featureIngestions.view, view))) as [{ next: number }];
    const [totals] = await tx
      .select({ rows: sql<number>`coalesce(sum(${featureIngestionBatches.rows}), 0)::int`, batches: sql<number>`count(*)::int` })
      .from(featureIngestionBatches)
      .where(eq(featureIngestionBatches.ingestionId, id));
    const [done] = await tx
      .update(featureIngestions)
      .set({ status: 'complete', commitSeq: Number(next), completedAt: new Date(), report, rows: totals!.rows, batches: totals!.batches })
      .where(eq(featureIngestions.id, id))
      .returning();
    return done!;
  });
}

/** Serializes completions and materialization watermarks of one view. */
export async function lockView(tx: Pick<Database, 'execute'>, view: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`steward.feature-view:${view}`}))`);
}

/** Validates rows and normalizes their values for the database (bulk.ts RowBatch). */
class RowEncoder {
  readonly nonFiniteAsNull: Record<string, number> = {};

  constructor(
    private readonly view: ViewLayout,
    private readonly columns: readonly Column[],
    private readonly source: string,
    private readonly nonFinite: NonFinitePolicy,
  ) {}

  encode(ingestionId: number, data: Record<string, ArrayLike<unknown>>, offset: number, length: number, firstRow: number): RowBatch {
    const columns: RowBatch['columns'] = this.columns.map((column) => {
      const values = data[column.name]!;
      const out = new Array<string | number | boolean | null>(length);
      for (let i = 0; i < length; i++) out[i] = this.field(column, values[offset + i], firstRow + i);
      return { name: column.name, type: column.type, values: out };
    });
    return { length, columns: [{ name: '_ingestion', type: 'int32', values: new Array<number>(length).fill(ingestionId) }, ...columns] };
  }

  private fail(column: Column, row: number, problem: string, value?: unknown): never {
    throw new ValidationError(`Row ${row} of ${this.source}: ${column.role} "${column.name}" ${problem}. Nothing from this source was kept.`, {
      view: this.view.name,
      column: column.name,
      row,
      ...(value === undefined ? {} : { value: String(value) }),
    });
  }

  private field(column: Column, value: unknown, row: number): string | number | boolean | null {
    if (value === null || value === undefined) {
      if (column.role === 'join key') this.fail(column, row, 'is missing (every row needs its entity key)');
      if (column.role === 'event timestamp') this.fail(column, row, 'is missing (every row needs the time its values became true)');
      return null;
    }
    switch (column.type) {
      case 'string':
        if (typeof value !== 'string') this.fail(column, row, `is ${typeof value} ${String(value)}, not a string`, value);
        if (value.includes('\u0000')) this.fail(column, row, 'contains a NUL character', value);
        return value;
      case 'bool':
        if (typeof value !== 'boolean') this.fail(column, row, `is ${String(value)}, not true or false`, value);
        return value;
      case 'timestamp': {
        const ms = toMillis(value);
        if (ms === undefined) {
          this.fail(column, row, `has an unparseable timestamp ${JSON.stringify(String(value))} (write ISO 8601 such as 2024-01-31T08:00:00Z, or a date-time column)`, value);
        }
        return new Date(ms).toISOString();
      }
      default:
        return this.number(column, value, row);
    }
  }

  private number(column: Column, value: unknown, row: number): number | string | null {
    if (typeof value === 'bigint') {
      if (column.type === 'int32' && (value > 2147483647n || value < -2147483648n)) this.fail(column, row, `is ${value}, outside int32`, value);
      if (column.type === 'int64' && (value > 9223372036854775807n || value < -9223372036854775808n)) this.fail(column, row, `is ${value}, outside int64`, value);
      return column.type === 'float64' ? Number(value) : value.toString();
    }
    if (typeof value !== 'number') this.fail(column, row, `is ${JSON.stringify(value)}, not a number`, value);
    if (!Number.isFinite(value)) {
      if (this.nonFinite === 'refuse' || column.role !== 'feature') {
        this.fail(column, row, `is ${value}; non-finite numbers are refused (ingest with nonFinite: 'null' to store them as null)`, value);
      }
      this.nonFiniteAsNull[column.name] = (this.nonFiniteAsNull[column.name] ?? 0) + 1;
      return null;
    }
    if (column.type !== 'float64') {
      if (!Number.isInteger(value)) this.fail(column, row, `is ${value}, not a whole number (declared ${column.type})`, value);
      if (column.type === 'int32' && (value > 2147483647 || value < -2147483648)) this.fail(column, row, `is ${value}, outside int32`, value);
      if (column.type === 'int64' && !Number.isSafeInteger(value)) this.fail(column, row, `is ${value}, beyond exact integers in a JS number; pass it as a bigint`, value);
    }
    return value;
  }
}

/** Epoch milliseconds from a Date, a number (ms), a bigint (ms) or an ISO 8601 string (UTC unless it says otherwise); undefined when unparseable. */
export function toMillis(value: unknown): number | undefined {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'bigint') ms = Number(value);
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const text = value.trim().replace(' ', 'T');
    // Date.parse rolls impossible days over (2024-02-30 becomes March 1st): a wrong date, not a parse.
    const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
    const calendar = new Date(0);
    calendar.setUTCFullYear(year, month - 1, day);
    if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
    // A time without a zone is taken as UTC (Date.parse would take it as the machine's local time).
    ms = Date.parse(/T.*([zZ]|[+-]\d{2}:?\d{2})$/.test(text) || !text.includes('T') ? text : `${text}Z`);
  } else return undefined;
  // PostgreSQL's timestamptz starts at 4713 BC; JS dates reach further back.
  return Number.isFinite(ms) && ms >= -210_866_803_200_000 && ms <= 8.64e15 ? ms : undefined;
}
