/**
 * Files into feature views: CSV (csv-parse), JSON (an array of objects, through stream-json), JSON
 * Lines, Parquet and Arrow IPC, read as a stream in batches of at most 10,000 rows (Parquet row groups
 * and Arrow record batches as the file holds them), so memory never grows with the file.
 *
 * A view declares its file with a source `{ kind: 'file', path, format?, columns?, constants?,
 * timestamp? }` (definitions.ts): the file's columns are mapped to the view's (renames, constants for
 * key columns the file lacks, the event time from a date column plus an offset) and every value is
 * converted to the type the view declares before `ingest` sees it: an empty CSV field, a JSON null or
 * an absent key is missing; numbers and booleans may be written as text (true/false, yes/no, 1/0);
 * dates are ISO 8601. A missing column is refused before anything is read, naming it and listing the
 * file's columns; a value of the wrong type names the file, the row (and the line) and the column.
 * The ingestion's content hash is the file's sha256 (streamed), with the mapping when it is not the
 * identity, so the same content ingested again is the same ingestion and writes nothing.
 *
 * @example
 * const weather = featureView({ name: 'daily_weather', entities: [station], eventTimestamp: 'observed_at',
 *   schema: { precipitation: 'float64', temp_max: 'float64', weather: 'string' }, owner: 'data', description: '',
 *   source: { kind: 'file', path: 'data/seattle-weather.csv', constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '1d' } } });
 * await ingestFile(db, weather, { root: projectFolder });
 * await inferFileSchema('data/seattle-weather.csv'); // { columns: { date: 'timestamp', precipitation: 'float64', ... } }
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parse as parseCsv, type Info } from 'csv-parse';
import streamArray from 'stream-json/streamers/stream-array.js';
import { vegaDataset } from '../datasets/vega.js';
import type { Database } from '../db/client.js';
import { ValidationError } from '../errors.js';
import { canonicalJson, FILE_FORMATS, parseDuration, type FeatureView, type FileFeatureSource, type FileFormat, type ValueType } from './definitions.js';
import { ingest, toMillis, type IngestOptions, type IngestResult } from './ingestion.js';
import { arrowSource, parquetSource, requireFile, sha256File, type IngestionSource, type SourceBatch, type SourceKind } from './sources.js';

export type { FileFormat } from './definitions.js';

/** Rows per batch read from CSV and JSON files. */
export const FILE_BATCH_ROWS = 10_000;
/** Rows of a CSV or JSON file read to find its columns (JSON) or guess their types (inferFileSchema). */
const SNIFF_ROWS = 1_000;

const EXTENSIONS: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.json': 'json',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
  '.arrow': 'arrow',
  '.arrows': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
};

/** The format given, or the one the file's extension says; a clear error when neither says. */
export function fileFormatOf(file: string, format?: FileFormat): FileFormat {
  if (format !== undefined) {
    if (!FILE_FORMATS.includes(format)) throw new ValidationError(`File format ${JSON.stringify(format)} of ${file} is not one of ${FILE_FORMATS.join(', ')}.`, { source: file });
    return format;
  }
  const ext = path.extname(file).toLowerCase();
  const found = EXTENSIONS[ext];
  if (!found) {
    throw new ValidationError(
      `Cannot tell the format of ${file} from ${ext ? `its extension "${ext}"` : 'its name (it has no extension)'}; give format: ${FILE_FORMATS.map((f) => `'${f}'`).join(', ')}.`,
      { source: file },
    );
  }
  return found;
}

/**
 * A path as given when absolute, `vega:<file>` for a file the vega-datasets package ships, else
 * relative to `root` (the project's folder) or the working directory.
 */
export function resolveFilePath(file: string, root?: string): string {
  if (file.startsWith('vega:')) return vegaDataset(file.slice('vega:'.length));
  return path.isAbsolute(file) ? file : path.resolve(root ?? process.cwd(), file);
}

// --- reading files as raw rows ------------------------------------------------------------------

/** A batch of raw values by file column, with each row's line when the reader knows it (JSON Lines), for messages. */
interface RawBatch extends SourceBatch {
  lines?: Int32Array;
}

interface RawFile {
  file: string;
  format: FileFormat;
  /** The file's columns, in its order (JSON: the keys of its first rows). */
  columns: string[];
  /** What each column holds, for the typed formats (Parquet, Arrow); text formats say nothing. */
  kinds?: ReadonlyMap<string, SourceKind>;
  rows?: number;
  /** The file's sha256 when the reader already computed it. */
  sha256?: string;
  /** The line a data row (1-based) ends on, for messages (CSV). */
  lineOf?: (row: number) => Promise<number | undefined>;
  batches(): AsyncIterable<RawBatch>;
}

async function openRawFile(file: string, format: FileFormat, batchRows: number): Promise<RawFile> {
  switch (format) {
    case 'csv':
      return csvFile(file, batchRows);
    case 'json':
    case 'jsonl':
      return jsonFile(file, format, batchRows);
    case 'parquet':
    case 'arrow': {
      const source = format === 'parquet' ? await parquetSource(file) : await arrowSource(file);
      const hash = /^sha256:([0-9a-f]{64})$/.exec(source.contentHash)?.[1];
      return {
        file,
        format,
        columns: [...source.columns.keys()],
        kinds: source.columns,
        ...(source.rows !== undefined ? { rows: source.rows } : {}),
        ...(hash ? { sha256: hash } : {}),
        batches: () => source.batches(),
      };
    }
  }
}

/** Records of a stream in arrays of up to `size`, read synchronously while the stream has them buffered (no promise per record). */
async function* recordBatches<T>(stream: Readable, size: number, skip = 0): AsyncGenerator<T[]> {
  let batch: T[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on('readable', signal);
  stream.on('end', () => ((ended = true), signal()));
  stream.on('error', (error) => ((failure = error), signal()));
  for (;;) {
    let record: T | null;
    while ((record = stream.read() as T | null) !== null) {
      if (skip > 0) {
        skip--;
        continue;
      }
      batch.push(record);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (failure !== undefined) throw failure;
    if (ended) break;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  if (batch.length > 0) yield batch;
}

/** The CSV records of a file, streamed, in arrays of up to `size` (the header first unless skipped). Errors name the file and the line. */
async function* csvRecords(file: string, size: number, options: { info?: boolean; skipHeader?: boolean } = {}): AsyncGenerator<unknown[]> {
  const input = fs.createReadStream(file);
  // No cast function: csv-parse is several times slower with one. Empty fields are read as missing.
  const parser = parseCsv({ bom: true, skip_empty_lines: true, ...(options.info ? { info: true } : {}) });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    yield* recordBatches<unknown>(parser, size, options.skipHeader ? 1 : 0);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const { lines, message } = error as { lines?: number; message: string };
    throw new ValidationError(`${file}${lines ? `, line ${lines}` : ''} is not valid CSV: ${message}. Nothing from this file was kept.`, { source: file, ...(lines ? { line: lines } : {}) });
  } finally {
    input.destroy();
    parser.destroy();
  }
}

/** The line a CSV data row (1-based) ends on: read again only when a message needs it. */
async function csvLineOf(file: string, row: number): Promise<number | undefined> {
  let seen = -1;
  for await (const batch of csvRecords(file, FILE_BATCH_ROWS, { info: true })) {
    if (seen + batch.length >= row) return (batch[row - seen - 1] as { info: Info }).info.lines;
    seen += batch.length;
  }
  return undefined;
}

/** Magic numbers of binary files a text reader may be handed by mistake, and what they are. */
const BINARY_SIGNATURES: Array<[Uint8Array, string]> = [
  [new TextEncoder().encode('PAR1'), "Parquet (give format: 'parquet')"],
  [new TextEncoder().encode('ARROW1'), "Arrow IPC (give format: 'arrow')"],
  [Uint8Array.of(0xff, 0xff, 0xff, 0xff), "an Arrow IPC stream (give format: 'arrow')"],
  [Uint8Array.of(0x1f, 0x8b), 'gzip-compressed (decompress it first)'],
  [Uint8Array.of(0x50, 0x4b, 0x03, 0x04), 'a ZIP archive, or a spreadsheet (export it as CSV)'],
];

/**
 * Refuses a file a text format cannot read: a known binary signature, a NUL byte, or mostly control
 * characters in its first 4 KiB. Without this, a Parquet file named .csv parses as one "header" of
 * control characters and fails later with a message about columns that names nothing real.
 */
function requireText(file: string, format: string): void {
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(file, 'r');
  let length: number;
  try {
    length = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const bytes = head.subarray(0, length);
  const known = BINARY_SIGNATURES.find(([magic]) => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b));
  let control = 0;
  for (const b of bytes) if (b === 0 || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) control++;
  if (known || bytes.includes(0) || control > bytes.length / 10) {
    throw new ValidationError(
      `${file} is not a ${format} text file: it is ${known ? known[1] : 'binary (it holds NUL or control bytes)'}. Give the file's real format, or convert it to ${format}.`,
      { source: file, format },
    );
  }
}

async function csvFile(file: string, batchRows: number): Promise<RawFile> {
  requireFile(file, 'CSV');
  requireText(file, 'CSV');
  let header: string[] | undefined;
  for await (const batch of csvRecords(file, 1)) {
    header = (batch[0] as string[]).map((name) => name.trim());
    break;
  }
  if (!header) throw new ValidationError(`${file} holds no CSV header row; the first line must name the columns.`, { source: file });
  const empty = header.findIndex((name) => !name);
  if (empty >= 0) throw new ValidationError(`${file}: column ${empty + 1} of the header has no name; name every column.`, { source: file, column: empty + 1 });
  const twice = header.find((name, i) => header!.indexOf(name) !== i);
  if (twice) throw new ValidationError(`${file}: the header names column "${twice}" twice; rename one.`, { source: file, column: twice });
  const columns = header;
  return {
    file,
    format: 'csv',
    columns,
    lineOf: (row) => csvLineOf(file, row),
    async *batches() {
      let rowStart = 0;
      for await (const records of csvRecords(file, batchRows, { skipHeader: true })) {
        const rows = records as string[][];
        const data: Record<string, Array<string | null>> = {};
        // csv-parse refuses records of another length than the header (relax_column_count is off).
        columns.forEach((column, c) => (data[column] = rows.map((r) => (r[c] === '' ? null : r[c]!))));
        yield { rowStart, length: rows.length, columns: data };
        rowStart += rows.length;
      }
    },
  };
}

interface JsonRecord {
  value: unknown;
  /** JSON Lines: the record's line. */
  line?: number;
}

/** The values of a JSON Lines file in arrays of up to `size`, split from the text as it streams in. */
async function* jsonLines(file: string, size: number): AsyncGenerator<JsonRecord[]> {
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  let pending = '';
  let line = 0;
  let batch: JsonRecord[] = [];
  const take = (text: string) => {
    line++;
    const trimmed = (line === 1 ? text.replace(/^\ufeff/, '') : text).trim();
    if (!trimmed) return;
    try {
      batch.push({ value: JSON.parse(trimmed), line });
    } catch (error) {
      throw new ValidationError(`${file}, line ${line} is not valid JSON (${(error as Error).message}); JSON Lines hold one object per line. Nothing from this file was kept.`, { source: file, line });
    }
  };
  try {
    for await (const chunk of input) {
      const parts = (pending + (chunk as string)).split('\n');
      pending = parts.pop()!;
      for (const part of parts) {
        take(part);
        if (batch.length === size) {
          yield batch;
          batch = [];
        }
      }
    }
    take(pending);
    if (batch.length > 0) yield batch;
  } finally {
    input.destroy();
  }
}

/** The elements of a JSON array in arrays of up to `size`, parsed as the file streams in. */
async function* jsonArray(file: string, size: number): AsyncGenerator<JsonRecord[]> {
  const input = fs.createReadStream(file);
  const stream = input.pipe(streamArray.withParserAsStream());
  input.on('error', (error) => stream.destroy(error));
  try {
    for await (const items of recordBatches<{ value: unknown }>(stream, size)) yield items.map((item) => ({ value: item.value }));
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(
      `${file} is not a JSON array of objects (${(error as Error).message.replace(/\.$/, '')}). Write it as [{...}, {...}], or as one object per line with format 'jsonl'. Nothing from this file was kept.`,
      { source: file },
    );
  } finally {
    stream.destroy();
    input.destroy();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function notAnObject(file: string, row: number, line: number | undefined, value: unknown): ValidationError {
  const where = line === undefined ? `row ${row}` : `row ${row} (line ${line})`;
  const what = Array.isArray(value) ? 'an array' : value === null ? 'null' : `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
  return new ValidationError(`${file}, ${where} is ${what}, not an object; each row of a JSON file is an object of column values. Nothing from this file was kept.`, { source: file, row });
}

async function jsonFile(file: string, format: 'json' | 'jsonl', batchRows: number): Promise<RawFile> {
  requireFile(file, format === 'json' ? 'JSON' : 'JSON Lines');
  requireText(file, format === 'json' ? 'JSON' : 'JSON Lines');
  const records = (size: number) => (format === 'json' ? jsonArray(file, size) : jsonLines(file, size));
  // The columns are the keys of the first rows, in the order first seen; a key only later rows have is not read.
  const seen = new Set<string>();
  let row = 0;
  for await (const batch of records(SNIFF_ROWS)) {
    for (const { value, line } of batch) {
      row++;
      if (!isRecord(value)) throw notAnObject(file, row, line, value);
      for (const key of Object.keys(value)) seen.add(key);
    }
    break;
  }
  if (row === 0) throw new ValidationError(`${file} holds no rows (${format === 'json' ? 'an empty JSON array' : 'no JSON object on any line'}).`, { source: file });
  const columns = [...seen];
  return {
    file,
    format,
    columns,
    async *batches() {
      let rowStart = 0;
      for await (const batch of records(batchRows)) {
        const data: Record<string, unknown[]> = Object.fromEntries(columns.map((c) => [c, new Array<unknown>(batch.length)]));
        batch.forEach(({ value, line }, i) => {
          if (!isRecord(value)) throw notAnObject(file, rowStart + i + 1, line, value);
          for (const column of columns) data[column]![i] = value[column] ?? null;
        });
        yield { rowStart, length: batch.length, columns: data, ...(format === 'jsonl' ? { lines: Int32Array.from(batch, (r) => r.line!) } : {}) };
        rowStart += batch.length;
      }
    },
  };
}

// --- converting values to declared types ---------------------------------------------------------

const INVALID = Symbol('invalid');
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const NON_FINITE = /^([+-]?)(nan|inf|infinity)$/i;
const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

const EXPECTED: Record<ValueType, string> = {
  string: 'text',
  int32: 'a whole number',
  int64: 'a whole number',
  float64: 'a number',
  bool: 'true or false',
  timestamp: 'a date or date-time (ISO 8601 such as 2012-01-31 or 2012-01-31T08:00:00Z)',
};

/** A file value as the view's type wants it (timestamps as epoch ms), null when missing, INVALID when it cannot be. */
function convertValue(type: ValueType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && type !== 'string') {
    value = value.trim();
    if (value === '') return null;
  }
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : INVALID;
    case 'float64':
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      if (typeof value === 'string') {
        if (NUMBER.test(value)) return Number(value);
        const special = NON_FINITE.exec(value);
        if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
      }
      return INVALID;
    case 'int32':
    case 'int64': {
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number') return Number.isInteger(value) ? value : INVALID;
      if (typeof value !== 'string') return INVALID;
      if (INTEGER.test(value)) {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : BigInt(value);
      }
      return NUMBER.test(value) && Number.isInteger(Number(value)) ? Number(value) : INVALID;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      if (typeof value === 'string') {
        const lower = value.toLowerCase();
        if (TRUE.has(lower)) return true;
        if (FALSE.has(lower)) return false;
      }
      return INVALID;
    case 'timestamp': {
      if (typeof value === 'string' && NUMBER.test(value)) return INVALID;
      const ms = toMillis(value);
      return ms === undefined ? INVALID : ms;
    }
  }
}

const SOURCE_KIND: Record<ValueType, SourceKind> = { string: 'string', int32: 'integer', int64: 'integer', float64: 'float', bool: 'boolean', timestamp: 'timestamp' };

/** What a typed file's column may hold for each declared type (text formats are checked value by value). */
const TYPED_ACCEPTS: Record<ValueType, readonly SourceKind[]> = {
  string: ['string'],
  int32: ['integer'],
  int64: ['integer'],
  float64: ['float', 'integer'],
  bool: ['boolean'],
  timestamp: ['timestamp', 'integer', 'float', 'string'],
};

// --- a file mapped onto a view -------------------------------------------------------------------

type Role = 'join key' | 'event timestamp' | 'created timestamp' | 'feature';

interface ColumnPlan {
  name: string;
  role: Role;
  type: ValueType;
  /** The file column read, or a constant, or nothing (a created timestamp the file lacks). */
  from: { column: string } | { constant: unknown } | { absent: true };
  offsetMs: number;
}

export interface FileSourceOptions {
  /** Read this file instead of the view's declared one (the view's renames, constants and timestamp still apply). */
  path?: string;
  format?: FileFormat;
  /** Where a relative path is found: the project's folder (default: the working directory). */
  root?: string;
  /** Rows per batch read from CSV and JSON (default 10,000). */
  batchRows?: number;
}

/** An ingestion source over a file, with what the ingestion's step reports. */
export interface ViewFileSource extends IngestionSource {
  /** The file read (absolute). */
  path: string;
  format: FileFormat;
  /** Hex sha256 of the file's bytes. */
  sha256: string;
}

/**
 * The file source a view declares (another path keeps its mapping, its format then from the path's
 * extension), or the identity mapping when it declares another kind and a path is given.
 */
function declaredSource(view: FeatureView, override?: string): FileFeatureSource {
  if (view.source.kind === 'file') {
    if (override === undefined) return view.source;
    const { format: _declared, ...mapping } = view.source;
    return { ...mapping, path: override };
  }
  if (view.source.kind === 'parquet' || view.source.kind === 'arrow') return override === undefined ? { kind: 'file', path: view.source.path, format: view.source.kind } : { kind: 'file', path: override };
  if (override === undefined) {
    throw new ValidationError(
      `Feature view "${view.name}" declares no file to read (its rows come from pipeline "${view.source.name}"); give a path, or declare source: { kind: 'file', path: 'data/….csv' }.`,
      { view: view.name },
    );
  }
  return { kind: 'file', path: override };
}

/** Where a view column comes from in a file with these columns, or a message listing them when it is not there. */
function planColumns(view: FeatureView, source: FileFeatureSource, raw: RawFile): ColumnPlan[] {
  const offsetMs = source.timestamp?.offset === undefined ? 0 : parseDuration(source.timestamp.offset, `The timestamp offset of feature view "${view.name}"`);
  const columns: Array<Omit<ColumnPlan, 'from' | 'offsetMs'>> = [
    ...view.joinKeys.map((k) => ({ name: k.name, role: 'join key' as const, type: k.type })),
    { name: view.eventTimestamp, role: 'event timestamp', type: 'timestamp' },
    ...(view.createdTimestamp ? [{ name: view.createdTimestamp, role: 'created timestamp' as const, type: 'timestamp' as const }] : []),
    ...view.features.map((f) => ({ name: f.name, role: 'feature' as const, type: f.type })),
  ];
  const have = new Set(raw.columns);
  return columns.map((column) => {
    const offset = column.role === 'event timestamp' ? offsetMs : 0;
    const constant = source.constants?.[column.name];
    if (constant !== undefined) {
      const value = convertValue(column.type, constant);
      if (value === INVALID || value === null) {
        throw new ValidationError(`Feature view "${view.name}" sets constant ${column.role} "${column.name}" to ${JSON.stringify(constant)}, which is not ${EXPECTED[column.type]} (declared ${column.type}).`, {
          view: view.name,
          column: column.name,
        });
      }
      return { ...column, from: { constant: value }, offsetMs: offset };
    }
    const fileColumn = (column.role === 'event timestamp' ? source.timestamp?.column : undefined) ?? source.columns?.[column.name] ?? column.name;
    if (!have.has(fileColumn)) {
      if (column.role === 'created timestamp') return { ...column, from: { absent: true }, offsetMs: 0 };
      throw missingColumn(view, raw, column, fileColumn);
    }
    const kind = raw.kinds?.get(fileColumn);
    if (kind !== undefined && kind !== 'other' && !TYPED_ACCEPTS[column.type].includes(kind)) {
      throw new ValidationError(
        `${raw.file} does not match feature view "${view.name}": column "${fileColumn}" holds ${kind} values but the view declares ${column.role} "${column.name}" ${column.type}.`,
        { view: view.name, column: fileColumn, source: raw.file, found: kind, declared: column.type },
      );
    }
    return { ...column, from: { column: fileColumn }, offsetMs: offset };
  });
}

function missingColumn(view: FeatureView, raw: RawFile, column: { name: string; role: Role; type: ValueType }, fileColumn: string): ValidationError {
  const names = raw.columns;
  const listed = names.length > 30 ? `${names.slice(0, 30).join(', ')} and ${names.length - 30} more` : names.join(', ') || 'no columns';
  const loose = (n: string) => n.replace(/[\s\ufeff\u200b-\u200f]/g, '').toLowerCase();
  const near = names.find((n) => loose(n) === loose(fileColumn));
  const what = fileColumn === column.name ? `the view's ${column.role}, ${column.type}` : `read for the view's ${column.role} "${column.name}", ${column.type}`;
  const fix =
    near !== undefined
      ? ` Column "${near}" differs only by case or spaces: rename it in the view's file source (columns: { ${column.name}: '${near}' }).`
      : column.role === 'join key'
        ? ` Map it in the view's file source with columns: { ${column.name}: '<file column>' }, or give every row one value with constants: { ${column.name}: '…' }.`
        : column.role === 'event timestamp'
          ? ` Name the file's time column in the view's file source: timestamp: { column: '<file column>' }.`
          : ` Map it in the view's file source with columns: { ${column.name}: '<file column>' }.`;
  return new ValidationError(`${raw.file} has no column "${fileColumn}" (${what}) for feature view "${view.name}". Its columns are ${listed}.${fix}`, {
    view: view.name,
    column: fileColumn,
    source: raw.file,
    columns: names,
  });
}

/** What the mapping changes about the rows besides the file's bytes (empty when the file is read as it is). */
function mappingOf(plans: readonly ColumnPlan[]): string {
  const changes: Record<string, unknown> = {};
  for (const plan of plans) {
    if ('constant' in plan.from) changes[plan.name] = { constant: plan.from.constant };
    else if ('column' in plan.from && plan.from.column !== plan.name) changes[plan.name] = { column: plan.from.column };
    if (plan.offsetMs) changes[`${plan.name}+`] = plan.offsetMs;
  }
  if (Object.keys(changes).length === 0) return '';
  return `:mapping=${createHash('sha256').update(canonicalJson(changes)).digest('hex').slice(0, 16)}`;
}

/**
 * A file read onto a view's columns: `ingest(db, view, await viewFileSource(view))`. The view's file
 * source (or `options.path`) says where; columns are checked before anything is read.
 */
export async function viewFileSource(view: FeatureView, options: FileSourceOptions = {}): Promise<ViewFileSource> {
  const declared = declaredSource(view, options.path);
  const file = resolveFilePath(declared.path, options.root);
  const format = fileFormatOf(file, options.format ?? declared.format);
  const batchRows = options.batchRows ?? FILE_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows <= 0) throw new ValidationError(`batchRows must be a positive whole number, got ${batchRows}.`);
  const raw = await openRawFile(file, format, batchRows);
  const plans = planColumns(view, declared, raw);
  const sha256 = raw.sha256 ?? (await sha256File(file));
  return {
    description: file,
    contentHash: `sha256:${sha256}${mappingOf(plans)}`,
    columns: new Map(plans.map((p) => [p.name, SOURCE_KIND[p.type]] as const)),
    ...(raw.rows !== undefined ? { rows: raw.rows } : {}),
    path: file,
    format,
    sha256,
    async *batches() {
      for await (const batch of raw.batches()) {
        let converted: SourceBatch;
        try {
          converted = convertBatch(plans, batch);
        } catch (error) {
          if (!(error instanceof BadValue)) throw error;
          const line = batch.lines?.[error.index] ?? (await raw.lineOf?.(batch.rowStart + error.index + 1));
          throw badValue(view, raw, error, batch.rowStart + error.index + 1, line);
        }
        yield converted;
      }
    },
  };
}

/** A value that cannot become its column's type: turned into a ValidationError with the file's row and line. */
class BadValue {
  constructor(
    readonly plan: ColumnPlan,
    readonly fileColumn: string,
    readonly index: number,
    readonly value: unknown,
    readonly problem: string,
  ) {}
}

function convertBatch(plans: readonly ColumnPlan[], batch: RawBatch): SourceBatch {
  const columns: Record<string, ArrayLike<unknown>> = {};
  const { length } = batch;
  for (const plan of plans) {
    if ('absent' in plan.from) {
      columns[plan.name] = new Array<null>(length).fill(null);
      continue;
    }
    if ('constant' in plan.from) {
      columns[plan.name] = new Array<unknown>(length).fill(plan.from.constant);
      continue;
    }
    const fileColumn = plan.from.column;
    const values = batch.columns[fileColumn]!;
    const out = new Array<unknown>(length);
    const required = plan.role === 'join key' || plan.role === 'event timestamp';
    for (let i = 0; i < length; i++) {
      let value = convertValue(plan.type, values[i]);
      if (value === INVALID) throw new BadValue(plan, fileColumn, i, values[i], `is ${describe(values[i])}, not ${EXPECTED[plan.type]} (declared ${plan.type})`);
      if (value === null && required) {
        throw new BadValue(plan, fileColumn, i, values[i], plan.role === 'join key' ? 'is missing (every row needs its entity key)' : 'is missing (every row needs the time its values became true)');
      }
      if (plan.offsetMs && value !== null) value = (value as number) + plan.offsetMs;
      out[i] = value;
    }
    columns[plan.name] = out;
  }
  return { rowStart: batch.rowStart, length, columns };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'a list' : 'an object';
  return String(value);
}

function badValue(view: FeatureView, raw: RawFile, { plan, fileColumn, value, problem }: BadValue, row: number, line: number | undefined): ValidationError {
  const role = fileColumn === plan.name ? `${plan.role} of feature view "${view.name}"` : `read for ${plan.role} "${plan.name}" of feature view "${view.name}"`;
  const fix = plan.type !== 'string' && plan.role === 'feature' ? ` Fix the value, or declare "${plan.name}" string if the column is text.` : ' Fix the value.';
  return new ValidationError(`${raw.file}, row ${row}${line !== undefined ? ` (line ${line})` : ''}: column "${fileColumn}" (${role}) ${problem}.${fix} Nothing from this file was kept.`, {
    view: view.name,
    source: raw.file,
    row,
    ...(line !== undefined ? { line } : {}),
    column: fileColumn,
    value: typeof value === 'string' ? value : String(value),
  });
}

/** Result of ingesting a file: the ingestion and the file's hash, path and format. */
export interface IngestFileResult extends IngestResult {
  sha256: string;
  path: string;
  format: FileFormat;
}

/**
 * Ingests a view's file (or `options.path`) into its offline table; the same content again writes
 * nothing. `batchRows` sizes both the batches read from the file and the write transactions.
 */
export async function ingestFile(db: Database, view: FeatureView, options: FileSourceOptions & IngestOptions = {}): Promise<IngestFileResult> {
  const { path: file, format, root, batchRows, ...ingestOptions } = options;
  const source = await viewFileSource(view, { path: file, format, root, batchRows });
  const result = await ingest(db, view, source, { ...ingestOptions, ...(batchRows !== undefined ? { batchRows } : {}) });
  return { ...result, sha256: source.sha256, path: source.path, format: source.format };
}

// --- inference, for previews --------------------------------------------------------------------

export interface InferredFileSchema {
  path: string;
  format: FileFormat;
  /** Each column's type as a view would declare it, in the file's order. */
  columns: Record<string, ValueType>;
  /** Rows the guess was made from (CSV and JSON), or the file's rows (Parquet, Arrow) when known. */
  rows: number | undefined;
  /** The first rows as read (at most 5), for a preview. */
  sample: Array<Record<string, unknown>>;
}

const KIND_TYPE: Record<SourceKind, ValueType> = { string: 'string', integer: 'int64', float: 'float64', boolean: 'bool', timestamp: 'timestamp', other: 'string' };

/** A type for values of a text file's column: all whole numbers, all numbers, all true/false, all ISO dates, else string. */
function inferType(values: readonly unknown[]): ValueType {
  let seen = 0;
  let ints = 0;
  let numbers = 0;
  let bools = 0;
  let dates = 0;
  for (const v of values) {
    if (v === null || v === undefined || v === '') continue;
    seen++;
    if (typeof v === 'boolean' || (typeof v === 'string' && /^(true|false)$/i.test(v.trim()))) bools++;
    else if (typeof v === 'number' || (typeof v === 'string' && NUMBER.test(v.trim()))) {
      numbers++;
      if (Number.isInteger(Number(v)) && (typeof v === 'number' || INTEGER.test(v.trim()))) ints++;
    } else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v.trim()) && toMillis(v) !== undefined) dates++;
  }
  if (seen === 0) return 'string';
  if (bools === seen) return 'bool';
  if (ints === seen) return 'int64';
  if (numbers === seen) return 'float64';
  if (dates === seen) return 'timestamp';
  return 'string';
}

/** The columns of a file and their likely types, from its schema (Parquet, Arrow) or its first 1,000 rows (CSV, JSON). */
export async function inferFileSchema(file: string, options: { format?: FileFormat; root?: string; sampleRows?: number } = {}): Promise<InferredFileSchema> {
  const resolved = resolveFilePath(file, options.root);
  const format = fileFormatOf(resolved, options.format);
  const sampleRows = options.sampleRows ?? SNIFF_ROWS;
  const raw = await openRawFile(resolved, format, sampleRows);
  let first: RawBatch | undefined;
  for await (const batch of raw.batches()) {
    first = batch;
    break;
  }
  const sample: Array<Record<string, unknown>> = [];
  for (let i = 0; i < Math.min(5, first?.length ?? 0); i++) sample.push(Object.fromEntries(raw.columns.map((c) => [c, first!.columns[c]![i] ?? null])));
  const columns = Object.fromEntries(
    raw.columns.map((c) => [c, raw.kinds ? KIND_TYPE[raw.kinds.get(c)!] : inferType(first ? Array.from(first.columns[c]!) : [])] as const),
  );
  return { path: resolved, format, columns, rows: raw.kinds ? raw.rows : first?.length ?? 0, sample };
}
