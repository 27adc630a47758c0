import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordBatchStreamWriter, tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { scoreFile } from '../../../src/serving/batch.js';
import { loadModel, type LoadedModel } from '../../../src/serving/loaded-model.js';
import { FIXTURE_AIRPORTS, FIXTURE_SIGNATURE, MemorySource, trainFixtureModel } from '../../support/serving-models.js';

const ROWS = 1_000;
let dir: string;
let bytes: Uint8Array;
let model: LoadedModel;
const id = Int32Array.from({ length: ROWS }, (_, i) => 10_000 + i);
const hour = Float64Array.from({ length: ROWS }, (_, i) => i % 24);
const distance = Float64Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? Number.NaN : 100 + i));
const origin = Array.from({ length: ROWS }, (_, i) => FIXTURE_AIRPORTS[i % 4]!);

/** P(late) for every row from a bare session: what the batch scorer must write. */
let expected: Float64Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-batch-'));
  bytes = await trainFixtureModel(3);
  model = await loadModel(new MemorySource().add('flight-delay', { version: 5, bytes, signature: FIXTURE_SIGNATURE }), 'flight-delay', 5);
  const session = await InferenceSession.create(bytes);
  const out = await session.run({
    hour: new Tensor('float32', Float32Array.from(hour), [ROWS, 1]),
    distance: new Tensor('float32', Float32Array.from(distance), [ROWS, 1]),
    origin: new Tensor('string', origin, [ROWS, 1]),
  });
  expected = Float64Array.from({ length: ROWS }, (_, i) => (out.probabilities!.data as Float32Array)[2 * i + 1]!);
  await session.release();
  // Row groups of 300 rows and nullable columns, as other writers make them.
  parquetWriteFile({
    filename: path.join(dir, 'flights.parquet'),
    columnData: [
      { name: 'id', data: id, type: 'INT32' },
      { name: 'hour', data: hour, type: 'DOUBLE' },
      { name: 'distance', data: Array.from(distance, (d) => (Number.isNaN(d) ? null : d)), type: 'DOUBLE' },
      { name: 'origin', data: origin, type: 'STRING' },
      { name: 'ignored', data: origin, type: 'STRING' },
    ],
    rowGroupSize: 300,
  });
  fs.writeFileSync(path.join(dir, 'flights.arrow'), tableToIPC(tableFromArrays({ id, hour, distance, origin }), 'file'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await model.session.release();
});

describe('batch scoring files', () => {
  it('scores Parquet into Arrow in bounded batches, keeping chosen columns, with progress', async () => {
    const progress: Array<[number, number | undefined]> = [];
    const output = path.join(dir, 'scores.arrow');
    const result = await scoreFile(model, { input: path.join(dir, 'flights.parquet'), output, batchSize: 128, keep: ['id'], onProgress: (d, t) => progress.push([d, t]) });
    expect(result).toMatchObject({ model: 'flight-delay', version: 5, rows: ROWS });
    // 300-row groups cut into 128-row batches: 128, 128, 44 per group, 100 in the last.
    expect(result.batches).toBe(10);
    expect(progress.at(-1)).toEqual([ROWS, ROWS]);
    expect(progress.every(([d], i) => i === 0 || d > progress[i - 1]![0])).toBe(true);
    const table = tableFromIPC(fs.readFileSync(output));
    expect(table.schema.fields.map((f) => f.name)).toEqual(['score', 'id']);
    expect(Array.from(table.getChild('id')!.toArray() as Int32Array)).toEqual(Array.from(id));
    const scores = table.getChild('score')!.toArray() as Float64Array;
    expect(Array.from(scores)).toEqual(Array.from(expected));
  });

  it('scores an Arrow stream into Parquet', async () => {
    const input = path.join(dir, 'flights.arrows');
    fs.writeFileSync(input, RecordBatchStreamWriter.writeAll(tableFromArrays({ id, hour, distance, origin })).toUint8Array(true));
    const output = path.join(dir, 'scores.parquet');
    const result = await scoreFile(model, { input, output, batchSize: 333, keep: ['origin'] });
    expect(result).toMatchObject({ rows: ROWS, batches: 4 });
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(output) });
    expect(rows).toHaveLength(ROWS);
    expect(rows.map((r) => r.score)).toEqual(Array.from(expected));
    expect(rows.map((r) => r.origin)).toEqual(origin);
    const fromFile = await scoreFile(model, { input: path.join(dir, 'flights.arrow'), output: path.join(dir, 'again.arrow') });
    expect(fromFile.rows).toBe(ROWS);
  });

  it('refuses a file without the model features and names a bad value by its file row', async () => {
    const bad = path.join(dir, 'bad.parquet');
    parquetWriteFile({ filename: bad, columnData: [{ name: 'hour', data: [1, 2], type: 'DOUBLE' }], rowGroupSize: 10 });
    const missing = await scoreFile(model, { input: bad, output: path.join(dir, 'out.arrow') }).catch((e: Error) => e);
    expect(missing).toBeInstanceOf(ValidationError);
    expect((missing as Error).message).toMatch(/bad\.parquet lacks feature column\(s\) "distance", "origin"; it has "hour"\./);
    expect(fs.existsSync(path.join(dir, 'out.arrow'))).toBe(false);

    const typed = path.join(dir, 'typed.parquet');
    parquetWriteFile({
      filename: typed,
      columnData: [
        { name: 'hour', data: new Float64Array(600), type: 'DOUBLE' },
        { name: 'distance', data: Float64Array.from({ length: 600 }, (_, i) => (i === 450 ? Infinity : 100)), type: 'DOUBLE' },
        { name: 'origin', data: Array.from({ length: 600 }, () => 'ATL'), type: 'STRING' },
      ],
      rowGroupSize: 300,
    });
    const wrong = await scoreFile(model, { input: typed, output: path.join(dir, 'typed.arrow'), batchSize: 100 }).catch((e: Error) => e);
    expect((wrong as Error).message).toBe('Row 450: feature "distance" is Infinity; only finite numbers are accepted.');
    expect(fs.existsSync(path.join(dir, 'typed.arrow'))).toBe(false);
  });
});
