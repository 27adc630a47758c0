/**
 * CSV files as Arrow tables: RFC 4180 (quoted fields, doubled quotes, commas and line breaks inside
 * quotes, CRLF or LF), a header row naming the columns, and column types inferred from the values
 * unless given: a column whose every non-empty value is a number is float64, one whose every value
 * is an ISO 8601 date or date-time is a UTC timestamp (milliseconds), anything else a string. An
 * empty field is null. The whole file is read into memory: for the sample and reference files a
 * project keeps beside its code, not for data that belongs in the feature store's offline tables.
 *
 * @example
 * const weather = await readCsv('data/seattle-weather.csv');
 * weather.numRows;                                  // 1461
 * weather.getChild('temp_max')!.type.toString();    // Float64
 * weather.getChild('date')!.get(0);                 // 1325376000000 (2012-01-01T00:00:00Z)
 */
import fs from 'node:fs';
import { Bool, Float64, Int32, Table, TimestampMillisecond, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { parse, type CastingContext } from 'csv-parse/sync';
import { NotFoundError, ValidationError } from '../errors.js';

export type CsvColumnType = 'string' | 'float64' | 'int32' | 'bool' | 'timestamp';

export interface CsvOptions {
  /** Column types by name, overriding inference for the columns named. */
  types?: Record<string, CsvColumnType>;
  /** Field separator (default ','). */
  delimiter?: string;
  /** Keep only these columns, in this order (default: every column, in the file's order). */
  columns?: readonly string[];
}

/** Parses CSV text into a header and rows of raw fields (null for an empty unquoted field). */
export function parseCsv(text: string, options: { delimiter?: string; source?: string } = {}): { header: string[]; rows: Array<Array<string | null>> } {
  const delimiter = options.delimiter ?? ',';
  const source = options.source ?? 'the CSV text';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ValidationError(`The CSV delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}.`);
  }
  // csv-parse reads RFC 4180 (quotes, doubled quotes, delimiters and line breaks inside quotes, CRLF
  // or LF, a BOM); an empty unquoted field becomes null, a quoted "" stays the empty string.
  let records: Array<Array<string | null>>;
  try {
    records = parse(text, {
      delimiter,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      cast: (value: string, context: CastingContext) => (value === '' && !context.quoting ? null : value),
    }) as Array<Array<string | null>>;
  } catch (error) {
    const { lines, message } = error as { lines?: number; message: string };
    throw new ValidationError(`${source}${lines ? `, line ${lines}` : ''}: ${message.replace(/^Invalid Record Length: |^Quote Not Closed: /, '')}`, { source, ...(lines ? { line: lines } : {}) });
  }
  const [header, ...rows] = records;
  if (!header) throw new ValidationError(`${source} is empty: a CSV file needs a header row naming its columns.`, { source });
  const names = header.map((name, index) => {
    const trimmed = (name ?? '').trim();
    if (!trimmed) throw new ValidationError(`${source}: column ${index + 1} of the header has no name.`, { source, column: index + 1 });
    return trimmed;
  });
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new ValidationError(`${source}: the header names column "${duplicate}" twice.`, { source, column: duplicate });
  rows.forEach((row, index) => {
    if (row.length !== names.length) {
      throw new ValidationError(`${source}: data row ${index + 1} has ${row.length} fields, the header ${names.length}.`, { source, row: index + 1 });
    }
  });
  return { header: names, rows };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const BOOLEAN = /^(true|false)$/i;

function inferType(values: ReadonlyArray<string | null>): CsvColumnType {
  let seen = 0;
  let numbers = 0;
  let dates = 0;
  for (const v of values) {
    if (v === null) continue;
    seen++;
    const t = v.trim();
    if (NUMBER.test(t)) numbers++;
    else if (ISO_DATE.test(t)) dates++;
  }
  if (seen > 0 && numbers === seen) return 'float64';
  if (seen > 0 && dates === seen) return 'timestamp';
  return 'string';
}

/** Epoch milliseconds of an ISO 8601 date or date-time; a date or a time without an offset is UTC. */
function parseTime(value: string): number {
  const t = value.trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : /[T ]\d{2}:\d{2}/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t.replace(' ', 'T')}Z` : t.replace(' ', 'T');
  return Date.parse(iso);
}

function convert(name: string, type: CsvColumnType, values: ReadonlyArray<string | null>, source: string): Vector {
  const bad = (row: number, what: string) =>
    new ValidationError(`${source}: column "${name}" is ${type}, but data row ${row + 1} holds ${JSON.stringify(values[row])}, ${what}.`, { source, column: name, row: row + 1 });
  switch (type) {
    case 'string':
      return vectorFromArray(values, new Utf8());
    case 'float64':
      return vectorFromArray(
        values.map((v, row) => {
          if (v === null) return null;
          if (!NUMBER.test(v.trim())) throw bad(row, 'not a number');
          return Number(v);
        }),
        new Float64(),
      );
    case 'int32':
      return vectorFromArray(
        values.map((v, row) => {
          if (v === null) return null;
          const n = Number(v);
          if (!INTEGER.test(v.trim()) || n > 2 ** 31 - 1 || n < -(2 ** 31)) throw bad(row, 'not a 32-bit whole number');
          return n;
        }),
        new Int32(),
      );
    case 'bool':
      return vectorFromArray(
        values.map((v, row) => {
          if (v === null) return null;
          if (!BOOLEAN.test(v.trim())) throw bad(row, 'neither true nor false');
          return v.trim().toLowerCase() === 'true';
        }),
        new Bool(),
      );
    case 'timestamp':
      return vectorFromArray(
        values.map((v, row) => {
          if (v === null) return null;
          const ms = ISO_DATE.test(v.trim()) ? parseTime(v) : Number.NaN;
          if (!Number.isFinite(ms)) throw bad(row, 'not an ISO 8601 date or date-time');
          return new Date(ms);
        }),
        new TimestampMillisecond() as DataType,
      );
  }
}

const TYPES: readonly CsvColumnType[] = ['string', 'float64', 'int32', 'bool', 'timestamp'];

/** CSV text as an Arrow table (see the module's description for the rules). */
export function csvToTable(text: string, options: CsvOptions & { source?: string } = {}): Table {
  const source = options.source ?? 'the CSV text';
  const { header, rows } = parseCsv(text, { delimiter: options.delimiter, source });
  for (const [name, type] of Object.entries(options.types ?? {})) {
    if (!header.includes(name)) throw new ValidationError(`${source} has no column "${name}" to give type ${type}; its columns are ${header.join(', ')}.`, { source, column: name });
    if (!TYPES.includes(type)) throw new ValidationError(`Column type ${JSON.stringify(type)} for "${name}" is not one of ${TYPES.join(', ')}.`, { column: name });
  }
  const wanted = options.columns ?? header;
  const columns: Record<string, Vector> = {};
  for (const name of wanted) {
    const index = header.indexOf(name);
    if (index < 0) throw new ValidationError(`${source} has no column "${name}"; its columns are ${header.join(', ')}.`, { source, column: name });
    const values = rows.map((row) => row[index]!);
    columns[name] = convert(name, options.types?.[name] ?? inferType(values), values, source);
  }
  return new Table(columns);
}

/** A CSV file as an Arrow table; errors name the file, the column and the row. */
export async function readCsv(file: string, options: CsvOptions = {}): Promise<Table> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`CSV file not found: ${file}.`, { source: file });
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new ValidationError(`${file} is a directory, not a CSV file.`, { source: file });
    throw error;
  }
  return csvToTable(text, { ...options, source: file });
}
