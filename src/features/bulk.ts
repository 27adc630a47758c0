/**
 * Bulk moves between the feature store and the database: batches in (one statement per batch instead
 * of thousands of bound parameters) and binary COPY out, decoded straight into columns
 * (copy-binary.ts). The rest of Steward goes through drizzle; COPY is the one thing drizzle cannot
 * express, so this module reaches the driver under a `Database` or a `Transaction`.
 */
import { sql } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { BinaryCopyDecoder, type CopyColumn, type CopyKind } from './copy-binary.js';
import type { ValueType } from './definitions.js';

interface PgliteLike {
  query(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ blob?: Blob }>;
}

interface PostgresJsLike {
  unsafe(sql: string): { readable(): Promise<AsyncIterable<Uint8Array> & { _read?: () => void }> };
}

type Driver = { kind: 'pglite'; client: PgliteLike } | { kind: 'postgres'; client: PostgresJsLike };

/** The driver's client behind a drizzle database or transaction (drizzle keeps it on its session). */
function driverOf(db: Database | Transaction): Driver {
  const client = (db as unknown as { session: { client: unknown } }).session.client;
  if (typeof client === 'function') return { kind: 'postgres', client: client as unknown as PostgresJsLike };
  return { kind: 'pglite', client: client as PgliteLike };
}

/** A batch of rows by column, values already validated: strings, finite numbers, int64 as digit strings, ISO timestamps, booleans, null. */
export interface RowBatch {
  length: number;
  columns: Array<{ name: string; type: ValueType; values: ReadonlyArray<string | number | boolean | null> }>;
}

/** The batch as CSV (no header, empty unquoted field = null): what PGlite loads, and what the batch's hash is taken of. */
export function batchCsv(batch: RowBatch): string {
  const formatted = batch.columns.map(({ type, values }) => {
    const out = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const v = values[i];
      out[i] = v === null || v === undefined ? '' : type === 'string' ? `"${(v as string).replaceAll('"', '""')}"` : type === 'bool' ? (v ? 't' : 'f') : String(v);
    }
    return out;
  });
  const lines = new Array<string>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    let line = '';
    for (let c = 0; c < formatted.length; c++) line += (c === 0 ? '' : ',') + formatted[c]![i]!;
    lines[i] = line;
  }
  return batch.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function batchJson(batch: RowBatch): string {
  const keys = batch.columns.map((c) => `${JSON.stringify(c.name)}:`);
  const rows = new Array<string>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    let row = '{';
    batch.columns.forEach(({ type, values }, c) => {
      const v = values[i];
      const text = v === null || v === undefined ? 'null' : type === 'string' || type === 'timestamp' ? JSON.stringify(v) : String(v);
      row += (c === 0 ? '' : ',') + keys[c] + text;
    });
    rows[i] = `${row}}`;
  }
  return `[${rows.join(',')}]`;
}

/**
 * Inserts a batch into `table` inside `tx`. PGlite loads it with COPY FROM a CSV blob; on PostgreSQL
 * the rows go as one JSON parameter (json_populate_recordset), because postgres.js never settles a
 * COPY FROM STDIN stream that the server rejects (porsager/postgres#1173), which would hang the
 * transaction instead of failing it.
 */
export async function insertBatch(tx: Transaction, table: string, batch: RowBatch, csv?: string): Promise<void> {
  const columns = batch.columns.map((c) => ident(c.name)).join(', ');
  const driver = driverOf(tx);
  if (driver.kind === 'pglite') {
    await driver.client.query(`copy ${table} (${columns}) from '/dev/blob' with (format csv)`, [], { blob: new Blob([csv ?? batchCsv(batch)]) });
    return;
  }
  await tx.execute(sql`insert into ${sql.raw(table)} (${sql.raw(columns)}) select ${sql.raw(columns)} from json_populate_recordset(null::${sql.raw(table)}, ${batchJson(batch)}::json)`);
}

/**
 * Runs `select` (SQL text with literals only: COPY takes no parameters) and decodes the rows into
 * columns of the given kinds, one per selected column in order.
 */
export async function copyColumnsOut(db: Database | Transaction, select: string, kinds: readonly CopyKind[]): Promise<CopyColumn[]> {
  const decoder = new BinaryCopyDecoder(kinds);
  const driver = driverOf(db);
  const statement = (target: string) => `copy (${select}) to ${target} with (format binary)`;
  if (driver.kind === 'pglite') {
    const result = await driver.client.query(statement(`'/dev/blob'`));
    if (result.blob) decoder.push(new Uint8Array(await result.blob.arrayBuffer()));
  } else {
    const stream = await driver.client.unsafe(statement('stdout')).readable();
    for await (const chunk of stream) decoder.push(chunk);
    // postgres.js may leave the socket paused when the last data and the end of the COPY arrive
    // together, hanging the connection's next query (porsager/postgres#1016); its _read resumes it.
    stream._read?.();
  }
  return decoder.finish();
}

/** A SQL string literal (standard_conforming_strings, the default since PostgreSQL 9.1). */
export function literal(value: string): string {
  if (value.includes('\u0000')) throw new TypeError('Text with a NUL character cannot be stored in PostgreSQL.');
  return `'${value.replaceAll("'", "''")}'`;
}

export function timestampLiteral(ms: number): string {
  return `'${new Date(ms).toISOString()}'::timestamptz`;
}

/** A quoted identifier; Steward's names are checked to be lower-case words, quoting keeps that safe anyway. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
