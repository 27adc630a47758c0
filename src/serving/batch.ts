/**
 * Batch scoring: a Parquet or Arrow IPC file in, an Arrow IPC or Parquet file out, streamed in
 * bounded batches. Only the model's feature columns (and any `keep` columns copied beside the
 * score) are read; Parquet is read one row group at a time and Arrow one record batch at a time,
 * then scored `batchSize` rows per inference, so memory is bounded by a row group (or record batch)
 * plus a batch whatever the file's size. Every row goes through the same validation as online
 * requests; a bad value stops the job with its file row number.
 *
 * @example
 * ```ts
 * const model = await loadModel(registrySource(db, artifacts), 'rain-tomorrow', 'champion');
 * await scoreFile(model, { input: 'weather.parquet', output: 'scores.arrow', keep: ['id'], onProgress: (done, total) => ... });
 * ```
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import {
  Bool,
  DataType,
  Float64,
  Int64,
  RecordBatchFileWriter,
  RecordBatchReader,
  RecordBatchStreamWriter,
  Table,
  TimestampMillisecond,
  Utf8,
  makeVector,
  vectorFromArray,
  type RecordBatchWriter,
  type Vector,
} from 'apache-arrow';
import { asyncBufferFromFile, parquetMetadataAsync, parquetScan, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ParquetWriter, fileWriter, schemaFromColumnData, type ColumnSource } from 'hyparquet-writer';
import { NotFoundError, ValidationError } from '../errors.js';
import type { LoadedModel } from './loaded-model.js';
import { batchFromColumns, type ColumnInput } from './validation.js';

export type FileFormat = 'parquet' | 'arrow' | 'arrow-stream';

export interface BatchScoringOptions {
  input: string;
  output: string;
  /** Rows per inference (default 65,536). */
  batchSize?: number;
  /** Input columns copied to the output beside the score. */
  keep?: readonly string[];
  /** Name of the score column (default `score`). */
  scoreColumn?: string;
  /** Default: from the extension (.parquet; .arrow/.feather/.ipc for the Arrow file format, .arrows for the stream format). */
  inputFormat?: FileFormat;
  outputFormat?: FileFormat;
  /** Called after every batch with the rows scored so far; `total` is undefined when the input does not say (an Arrow stream). */
  onProgress?: (done: number, total: number | undefined) => void;
}

export interface BatchScoringResult {
  model: string;
  version: number;
  input: string;
  output: string;
  rows: number;
  batches: number;
  seconds: number;
  rowsPerSecond: number;
  /** Of `seconds`, the time spent in onnxruntime (the rest is reading, validating and writing). */
  inferenceSeconds: number;
}

/** One chunk read from the input: feature columns (and kept ones) for rows [firstRow, firstRow + rows). */
interface Chunk {
  firstRow: number;
  rows: number;
  columns: Record<string, ColumnInput>;
  /** Kept columns as read, for the writer. */
  kept: Record<string, ColumnInput | Vector>;
}

export function formatOf(file: string): FileFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') return 'arrow';
  if (ext === '.arrows') return 'arrow-stream';
  throw new ValidationError(`Cannot tell the format of ${file} from its extension; use .parquet, .arrow (Arrow IPC file) or .arrows (Arrow IPC stream).`, { file });
}

export async function scoreFile(model: LoadedModel, options: BatchScoringOptions): Promise<BatchScoringResult> {
  const batchSize = options.batchSize ?? 65_536;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValidationError(`batchSize must be a whole number of at least 1, got ${batchSize}.`);
  if (!fs.existsSync(options.input)) throw new NotFoundError(`Input file ${options.input} does not exist.`, { file: options.input });
  if (path.resolve(options.input) === path.resolve(options.output)) throw new ValidationError('The output file must differ from the input file.');
  const inputFormat = options.inputFormat ?? formatOf(options.input);
  const outputFormat = options.outputFormat ?? formatOf(options.output);
  const features = model.signature.inputs.map((i) => i.name);
  const keep = [...(options.keep ?? [])];
  const scoreColumn = options.scoreColumn ?? 'score';
  if (keep.includes(scoreColumn)) throw new ValidationError(`Kept column "${scoreColumn}" would clash with the score column; choose another scoreColumn.`);
  const started = performance.now();
  const reader = inputFormat === 'parquet' ? readParquet(options.input, features, keep, batchSize) : readArrow(options.input, features, keep, batchSize);
  const writer = outputFormat === 'parquet' ? new ParquetOutput(options.output) : new ArrowOutput(options.output, outputFormat === 'arrow-stream');
  let rows = 0;
  let batches = 0;
  let inferenceMs = 0;
  try {
    for await (const { chunk, total } of reader) {
      const batch = batchFromColumns(model.signature, chunk.columns, chunk.firstRow);
      const inferenceStarted = performance.now();
      const { scores } = await model.run(batch);
      inferenceMs += performance.now() - inferenceStarted;
      await writer.write(scoreColumn, scores, chunk.kept);
      rows += chunk.rows;
      batches++;
      options.onProgress?.(rows, total);
    }
    await writer.finish(scoreColumn);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    model: model.model,
    version: model.version,
    input: options.input,
    output: options.output,
    rows,
    batches,
    seconds,
    rowsPerSecond: rows / seconds,
    inferenceSeconds: inferenceMs / 1000,
  };
}

function missingColumns(file: string, available: readonly string[], wanted: readonly string[], role: string): void {
  const missing = wanted.filter((w) => !available.includes(w));
  if (missing.length > 0) {
    throw new ValidationError(`${file} lacks ${role} column(s) ${missing.map((m) => `"${m}"`).join(', ')}; it has ${available.map((a) => `"${a}"`).join(', ')}.`, { file, missing });
  }
}

type Reader = AsyncGenerator<{ chunk: Chunk; total: number | undefined }>;

function slice(values: ColumnInput | Vector, from: number, to: number): ColumnInput | Vector {
  if (ArrayBuffer.isView(values)) return (values as Float64Array).subarray(from, to);
  if (Array.isArray(values)) return values.slice(from, to);
  return (values as Vector).slice(from, to);
}

async function* readParquet(file: string, features: readonly string[], keep: readonly string[], batchSize: number): Reader {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer).catch((error: Error) => {
    throw new ValidationError(`${file} is not a readable Parquet file (${error.message}).`, { file });
  });
  const available = parquetSchema(metadata).children.map((c) => c.element.name);
  missingColumns(file, available, features, 'feature');
  missingColumns(file, available, keep, 'kept');
  const columns = [...new Set([...features, ...keep])];
  const scan = await parquetScan({ file: buffer, metadata, columns, compressors });
  const total = Number(metadata.num_rows);
  // One row group's columns at a time, then batches out of it.
  for (const range of scan.ranges) {
    const data = new Map<string, ColumnInput>();
    for (const column of columns) data.set(column, (await scan.readColumn({ column, rowStart: range.rowStart, rowEnd: range.rowEnd })) as ColumnInput);
    for (let from = 0; from < range.rowEnd - range.rowStart; from += batchSize) {
      const to = Math.min(from + batchSize, range.rowEnd - range.rowStart);
      const pick = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, slice(data.get(n)!, from, to) as ColumnInput]));
      yield { chunk: { firstRow: range.rowStart + from, rows: to - from, columns: pick(features), kept: pick(keep) }, total };
    }
  }
}

async function* readArrow(file: string, features: readonly string[], keep: readonly string[], batchSize: number): Reader {
  let reader;
  try {
    reader = await RecordBatchReader.from(fs.createReadStream(file));
    await reader.open();
  } catch (error) {
    throw new ValidationError(`${file} is not a readable Arrow IPC file (${(error as Error).message}).`, { file });
  }
  const available = reader.schema.fields.map((f) => f.name);
  missingColumns(file, available, features, 'feature');
  missingColumns(file, available, keep, 'kept');
  let firstRow = 0;
  for await (const recordBatch of reader) {
    for (let from = 0; from < recordBatch.numRows; from += batchSize) {
      const to = Math.min(from + batchSize, recordBatch.numRows);
      const part = from === 0 && to === recordBatch.numRows ? recordBatch : recordBatch.slice(from, to);
      const columns = Object.fromEntries(features.map((n) => [n, arrowValues(part.getChild(n)!)]));
      const kept = Object.fromEntries(keep.map((n) => [n, part.getChild(n)! as Vector]));
      yield { chunk: { firstRow, rows: to - from, columns, kept }, total: undefined };
      firstRow += to - from;
    }
  }
}

/** Typed arrays when the column has no nulls (no copy for one-chunk vectors); otherwise values with null for missing. */
function arrowValues(vector: Vector): ColumnInput {
  if (vector.nullCount === 0) {
    const array = vector.toArray() as ColumnInput;
    if (ArrayBuffer.isView(array) || Array.isArray(array)) return array;
  }
  return Array.from(vector as Iterable<unknown>);
}

interface Output {
  write(scoreColumn: string, scores: Float64Array, kept: Record<string, ColumnInput | Vector>): Promise<void>;
  finish(scoreColumn: string): Promise<void>;
  abort(): Promise<void>;
}

class ArrowOutput implements Output {
  private writer: RecordBatchWriter | undefined;
  private done: Promise<void> | undefined;
  private sink: fs.WriteStream | undefined;
  private source: NodeJS.ReadableStream & { destroy(): void } | undefined;
  private types = new Map<string, DataType>();

  constructor(
    private readonly file: string,
    private readonly stream: boolean,
  ) {}

  async write(scoreColumn: string, scores: Float64Array, kept: Record<string, ColumnInput | Vector>): Promise<void> {
    const vectors: Record<string, Vector> = { [scoreColumn]: makeVector(scores) };
    for (const [name, values] of Object.entries(kept)) vectors[name] = this.vector(name, values);
    const table = new Table(vectors);
    if (!this.writer) {
      this.writer = this.stream ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
      this.sink = fs.createWriteStream(this.file);
      this.source = this.writer.toNodeStream();
      this.source.pipe(this.sink);
      this.done = finished(this.sink);
    }
    for (const recordBatch of table.batches) this.writer.write(recordBatch);
    // Let the file catch up before the next batch, so written batches do not pile up in memory.
    if (this.sink!.writableNeedDrain) await once(this.sink!, 'drain');
  }

  /**
   * Columns keep one type across batches (the Arrow file format cannot replace a dictionary
   * between batches, so dictionary-encoded strings are written plain).
   */
  private vector(name: string, values: ColumnInput | Vector): Vector {
    if (!(ArrayBuffer.isView(values) || Array.isArray(values))) {
      const vector = values as Vector;
      return DataType.isDictionary(vector.type) ? vectorFromArray(Array.from(vector as Iterable<unknown>), vector.type.dictionary) : vector;
    }
    if (ArrayBuffer.isView(values)) return makeVector(values as Float64Array);
    let type = this.types.get(name);
    if (!type) {
      const sample = (values as unknown[]).find((x) => x !== null && x !== undefined);
      type =
        typeof sample === 'string'
          ? new Utf8()
          : typeof sample === 'bigint'
            ? new Int64()
            : typeof sample === 'boolean'
              ? new Bool()
              : sample instanceof Date
                ? new TimestampMillisecond()
                : new Float64();
      this.types.set(name, type);
    }
    return vectorFromArray(values as unknown[], type);
  }

  async finish(scoreColumn: string): Promise<void> {
    if (!this.writer) {
      // No rows: still a valid file with the score column.
      await this.write(scoreColumn, new Float64Array(0), {});
    }
    this.writer!.finish();
    await this.done;
  }

  async abort(): Promise<void> {
    if (this.source && this.sink) {
      this.source.unpipe(this.sink);
      this.source.destroy();
      this.sink.destroy();
      await this.done?.catch(() => {});
    }
    fs.rmSync(this.file, { force: true });
  }
}

class ParquetOutput implements Output {
  private writer: ParquetWriter | undefined;

  constructor(private readonly file: string) {}

  async write(scoreColumn: string, scores: Float64Array, kept: Record<string, ColumnInput | Vector>): Promise<void> {
    const columnData: ColumnSource[] = [{ name: scoreColumn, data: scores, type: 'DOUBLE', nullable: false }];
    for (const [name, values] of Object.entries(kept)) {
      const data = ArrayBuffer.isView(values) || Array.isArray(values) ? values : (values as Vector).toArray();
      columnData.push({ name, data: data as ColumnSource['data'] });
    }
    if (!this.writer) this.writer = new ParquetWriter({ writer: fileWriter(this.file), schema: schemaFromColumnData({ columnData }), createdBy: 'steward' });
    await this.writer.write({ columnData, rowGroupSize: Math.max(scores.length, 1) });
  }

  async finish(scoreColumn: string): Promise<void> {
    if (!this.writer) await this.write(scoreColumn, new Float64Array(0), {});
    await this.writer!.finish();
  }

  async abort(): Promise<void> {
    fs.rmSync(this.file, { force: true });
  }
}
