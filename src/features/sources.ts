/**
 * What ingestion reads: Parquet files (hyparquet, one row group at a time), Arrow IPC files and
 * streams (apache-arrow's RecordBatchReader, one record batch at a time), in-memory Arrow tables
 * and any async iterable of column batches (a feature pipeline's output). Each describes its
 * columns up front, so a schema mismatch is refused before anything is written, and yields batches
 * whose size is set by the file's own row groups or record batches, never by the file's size.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataType, RecordBatchReader, Table, tableToIPC, type RecordBatch, type Vector } from 'apache-arrow';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { NotFoundError, ValidationError } from '../errors.js';
import { readTimes } from './columns.js';

/** What a source column holds, as far as its schema says. */
export type SourceKind = 'string' | 'integer' | 'float' | 'boolean' | 'timestamp' | 'other';

export interface SourceBatch {
  /** Index of the batch's first row in the whole source. */
  rowStart: number;
  length: number;
  /** Column name -> values (strings, numbers, bigints, booleans, Dates or epoch-ms numbers for timestamps, null). */
  columns: Record<string, ArrayLike<unknown>>;
}

export interface IngestionSource {
  /** For messages and the ingestion record: a path or a name. */
  description: string;
  /** Identifies the content: a retry of the same content is recognised by it. */
  contentHash: string;
  columns: ReadonlyMap<string, SourceKind>;
  /** Rows in the source, when known up front (for progress). */
  rows?: number;
  batches(): AsyncIterable<SourceBatch>;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The file exists, is a regular file and holds something: otherwise a message saying which, before any reader guesses. */
export function requireFile(file: string, format: string): void {
  const aFile = `${/^[AEIOU]/.test(format) ? 'an' : 'a'} ${format} file`;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    const resolved = path.resolve(file);
    throw new NotFoundError(`File not found: ${file}${resolved !== file ? ` (looked for ${resolved})` : ''}. Check the path.`, { source: file });
  }
  if (stat.isDirectory()) throw new ValidationError(`${file} is a directory, not ${aFile}; give the path of one file.`, { source: file });
  if (!stat.isFile()) throw new ValidationError(`${file} is not a regular file; give the path of ${aFile}.`, { source: file });
  if (stat.size === 0) throw new ValidationError(`${file} is empty (0 bytes), not ${aFile}; write the file again.`, { source: file });
}

function parquetKind(element: { type?: string; logical_type?: { type: string }; converted_type?: string }): SourceKind {
  const logical = element.logical_type?.type;
  if (logical === 'TIMESTAMP' || logical === 'DATE' || element.converted_type?.startsWith('TIMESTAMP') || element.converted_type === 'DATE') {
    return 'timestamp';
  }
  if (logical === 'STRING' || element.converted_type === 'UTF8' || logical === 'ENUM') return 'string';
  switch (element.type) {
    case 'INT32':
    case 'INT64':
      return 'integer';
    case 'FLOAT':
    case 'DOUBLE':
      return 'float';
    case 'BOOLEAN':
      return 'boolean';
    default:
      return 'other';
  }
}

/** A Parquet file, read one row group at a time (optionally only its first `rows` rows). */
export async function parquetSource(file: string, options: { rows?: number } = {}): Promise<IngestionSource> {
  requireFile(file, 'Parquet');
  const buffer = await asyncBufferFromFile(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new ValidationError(`${file} is not a readable Parquet file (${(error as Error).message}).`, { source: file });
  }
  const columns = new Map(parquetSchema(metadata).children.map((c) => [c.element.name, parquetKind(c.element as never)] as const));
  const total = Math.min(Number(metadata.num_rows), options.rows ?? Infinity);
  return {
    description: file,
    contentHash: `sha256:${await sha256File(file)}${options.rows !== undefined ? `:rows=${total}` : ''}`,
    columns,
    rows: total,
    async *batches() {
      let groupStart = 0;
      for (const group of metadata.row_groups) {
        const groupEnd = groupStart + Number(group.num_rows);
        const end = Math.min(groupEnd, total);
        if (groupStart >= end) break;
        const chunks: Record<string, unknown[]> = {};
        // A damaged page is bad input like a bad value: a ValidationError, so the ingestion takes back what earlier row groups wrote.
        await readingRows(file, 'Parquet', groupStart, end, () => parquetRead({
          file: buffer,
          metadata,
          compressors,
          rowStart: groupStart,
          rowEnd: end,
          columns: [...columns.keys()],
          parsers: {
            timestampFromMilliseconds: (v: bigint) => Number(v),
            timestampFromMicroseconds: (v: bigint) => Number(v / 1000n),
            timestampFromNanoseconds: (v: bigint) => Number(v / 1_000_000n),
            dateFromDays: (days: number) => days * 86_400_000,
          },
          onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
            const target = (chunks[columnName] ??= new Array(end - groupStart).fill(null));
            for (let r = Math.max(rowStart, groupStart); r < Math.min(rowEnd, end); r++) target[r - groupStart] = columnData[r - rowStart];
          },
        }));
        yield { rowStart: groupStart, length: end - groupStart, columns: chunks };
        groupStart = groupEnd;
      }
    },
  };
}

/** Runs a read of rows `from`..`to`, turning a reader's failure (a damaged or truncated file) into a ValidationError naming the file and the rows. */
async function readingRows<T>(file: string, format: string, from: number, to: number | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const rows = to === undefined ? `after row ${from}` : `at rows ${from}-${to - 1}`;
    throw new ValidationError(`${file} is damaged ${rows}: ${(error as Error).message.replace(/\.$/, '')}. It is not a complete ${format} file; write it again. Nothing from this source was kept.`, {
      source: file,
      row: from,
    });
  }
}

function arrowKind(type: DataType): SourceKind {
  const values = DataType.isDictionary(type) ? type.dictionary : type;
  if (DataType.isTimestamp(values) || DataType.isDate(values)) return 'timestamp';
  if (DataType.isUtf8(values) || DataType.isLargeUtf8(values)) return 'string';
  if (DataType.isInt(values)) return 'integer';
  if (DataType.isFloat(values)) return 'float';
  if (DataType.isBool(values)) return 'boolean';
  return 'other';
}

/** A column's values as JS values: timestamps as epoch ms, nulls as null. */
function arrowValues(vector: Vector): ArrayLike<unknown> {
  const type = vector.type as DataType;
  if (DataType.isTimestamp(type) || DataType.isDate(type)) {
    const ms = readTimes(vector);
    return Array.from(ms, (v) => (v === v ? v : null));
  }
  if (vector.nullCount === 0 && (DataType.isFloat(type) || (DataType.isInt(type) && type.bitWidth <= 32))) return vector.toArray() as ArrayLike<number>;
  const out = new Array<unknown>(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector.get(i) ?? null;
  return out;
}

function batchOf(batch: RecordBatch, rowStart: number): SourceBatch {
  const columns: Record<string, ArrayLike<unknown>> = {};
  batch.schema.fields.forEach((field, i) => (columns[field.name] = arrowValues(batch.getChildAt(i)!)));
  return { rowStart, length: batch.numRows, columns };
}

/** An Arrow IPC file or stream, read one record batch at a time. */
export async function arrowSource(file: string): Promise<IngestionSource> {
  requireFile(file, 'Arrow IPC');
  const open = async () => {
    let reader: RecordBatchReader;
    try {
      reader = await RecordBatchReader.from(fs.createReadStream(file));
      await reader.open();
    } catch (error) {
      throw new ValidationError(`${file} is not a readable Arrow IPC file (${(error as Error).message}).`, { source: file });
    }
    // Bytes that are not Arrow at all (text, JSON) open without error and without a schema.
    if (!reader.schema) {
      await reader.cancel();
      throw new ValidationError(`${file} is not a readable Arrow IPC file (no schema message at its start); write it as an Arrow IPC file or stream.`, { source: file });
    }
    return reader;
  };
  const reader = await open();
  const columns = new Map(reader.schema.fields.map((f) => [f.name, arrowKind(f.type)] as const));
  await reader.cancel();
  return {
    description: file,
    contentHash: `sha256:${await sha256File(file)}`,
    columns,
    async *batches() {
      let rowStart = 0;
      const iterator = (await open())[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await readingRows(file, 'Arrow IPC', rowStart, undefined, () => iterator.next());
          if (next.done) return;
          yield batchOf(next.value, rowStart);
          rowStart += next.value.numRows;
        }
      } finally {
        await iterator.return?.();
      }
    },
  };
}

/** An Arrow table already in memory (tests, pipelines); its content hash is the hash of its IPC form unless given. */
export function tableSource(table: Table, options: { description: string; contentHash?: string }): IngestionSource {
  return {
    description: options.description,
    contentHash: options.contentHash ?? `sha256:${createHash('sha256').update(tableToIPC(table, 'stream')).digest('hex')}`,
    columns: new Map(table.schema.fields.map((f) => [f.name, arrowKind(f.type)] as const)),
    rows: table.numRows,
    async *batches() {
      let rowStart = 0;
      for (const batch of table.batches) {
        yield batchOf(batch, rowStart);
        rowStart += batch.numRows;
      }
    },
  };
}

/** Batches a program produces (a feature pipeline); the caller names the content so a retry is recognised. */
export function batchSource(options: {
  description: string;
  contentHash: string;
  columns: Record<string, SourceKind>;
  rows?: number;
  batches: () => AsyncIterable<SourceBatch>;
}): IngestionSource {
  return { ...options, columns: new Map(Object.entries(options.columns)) };
}
