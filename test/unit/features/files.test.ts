/**
 * Files read onto feature views (src/features/files.ts), without a database: every format read back
 * equal to an independent reading of the same data (vega-datasets' seattle-weather.csv, weather.csv
 * and cars.json; JSON Lines, Parquet and Arrow IPC written here from them), the mapping (renames,
 * constants, event time plus offset), bounded batches, content hashes, schema inference, and the
 * messages for bad input.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Float64, Table, TimestampMillisecond, Utf8, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { vegaDataset } from '../../../src/datasets/vega.js';
import { NotFoundError, ValidationError } from '../../../src/errors.js';
import { entity, featureView, type FeatureView } from '../../../src/features/definitions.js';
import { fileFormatOf, inferFileSchema, resolveFilePath, viewFileSource } from '../../../src/features/files.js';
import { readCsv } from '../../../src/sdk/csv.js';

const DAY = 86_400_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-files-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const seattle = vegaDataset('seattle-weather.csv');
const station = entity({ name: 'station', joinKeys: { station: 'string' } });
const weatherSchema = { precipitation: 'float64', temp_max: 'float64', temp_min: 'float64', wind: 'float64', weather: 'string' } as const;

const dailyWeather = (source: FeatureView['source'] = { kind: 'file', path: seattle, constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '1d' } }) =>
  featureView({ name: 'daily_weather', entities: [station], schema: { ...weatherSchema }, eventTimestamp: 'observed_at', source, owner: 'weather', description: 'daily' });

type Rows = Record<string, unknown[]>;

/** Every batch of a view's file, concatenated by column, with the batch sizes. */
async function readAll(view: FeatureView, options: Parameters<typeof viewFileSource>[1] = {}): Promise<{ rows: Rows; sizes: number[]; starts: number[] }> {
  const source = await viewFileSource(view, options);
  const rows: Rows = Object.fromEntries([...source.columns.keys()].map((c) => [c, []]));
  const sizes: number[] = [];
  const starts: number[] = [];
  for await (const batch of source.batches()) {
    sizes.push(batch.length);
    starts.push(batch.rowStart);
    for (const [name, values] of Object.entries(batch.columns)) for (let i = 0; i < batch.length; i++) rows[name]!.push(values[i]);
  }
  return { rows, sizes, starts };
}

/** seattle-weather.csv as the sdk's whole-file CSV reader sees it: the independent reading. */
async function seattleExpected(): Promise<Rows> {
  const table = await readCsv(seattle);
  const column = (name: string) => Array.from({ length: table.numRows }, (_, i) => table.getChild(name)!.get(i) as unknown);
  return {
    station: new Array(table.numRows).fill('SEA'),
    observed_at: column('date').map((ms) => (ms as number) + DAY),
    precipitation: column('precipitation'),
    temp_max: column('temp_max'),
    temp_min: column('temp_min'),
    wind: column('wind'),
    weather: column('weather'),
  };
}

describe('file sources', () => {
  it('reads seattle-weather.csv onto a view in bounded batches: constants, the event time plus its offset, every value', async () => {
    const expected = await seattleExpected();
    const { rows, sizes, starts } = await readAll(dailyWeather(), { batchRows: 500 });
    expect(rows.precipitation).toHaveLength(1461);
    expect(sizes).toEqual([500, 500, 461]);
    expect(starts).toEqual([0, 500, 1000]);
    expect(rows).toEqual(expected);
    // By hand: the first line is 2012-01-01,0.0,12.8,5.0,4.7,drizzle, known at the end of the day.
    expect([rows.observed_at![0], rows.precipitation![0], rows.temp_max![0], rows.weather![0]]).toEqual([Date.UTC(2012, 0, 2), 0, 12.8, 'drizzle']);
    expect(rows.precipitation![3]).toBe(20.3);
    // The default batch is 10,000 rows: the whole file in one.
    expect((await readAll(dailyWeather())).sizes).toEqual([1461]);
  });

  it('reads weather.csv with a renamed key column and the date as it is', async () => {
    const city = entity({ name: 'city', joinKeys: { city: 'string' } });
    const view = featureView({
      name: 'city_weather',
      entities: [city],
      schema: { rain: 'float64', weather: 'string' },
      eventTimestamp: 'date',
      source: { kind: 'file', path: vegaDataset('weather.csv'), columns: { city: 'location', rain: 'precipitation' } },
      owner: 'weather',
      description: 'two cities',
    });
    const table = await readCsv(vegaDataset('weather.csv'));
    const { rows } = await readAll(view);
    expect(rows.rain).toHaveLength(table.numRows);
    expect(new Set(rows.city)).toEqual(new Set(['Seattle', 'New York']));
    for (const i of [0, 1000, table.numRows - 1]) {
      expect([rows.city![i], rows.date![i], rows.rain![i], rows.weather![i]]).toEqual([
        table.getChild('location')!.get(i),
        table.getChild('date')!.get(i),
        table.getChild('precipitation')!.get(i),
        table.getChild('weather')!.get(i),
      ]);
    }
  });

  const car = entity({ name: 'car', joinKeys: { name: 'string' } });
  const cars = (file: string, format?: 'json' | 'jsonl') =>
    featureView({
      name: 'cars',
      entities: [car],
      schema: { mpg: 'float64', cylinders: 'int32', horsepower: 'float64', origin: 'string' },
      eventTimestamp: 'year',
      source: { kind: 'file', path: file, ...(format ? { format } : {}), columns: { name: 'Name', year: 'Year', mpg: 'Miles_per_Gallon', cylinders: 'Cylinders', horsepower: 'Horsepower', origin: 'Origin' } },
      owner: 'cars',
      description: 'cars',
    });
  const carsJson = JSON.parse(fs.readFileSync(vegaDataset('cars.json'), 'utf8')) as Array<Record<string, unknown>>;
  const carsExpected: Rows = {
    name: carsJson.map((c) => c.Name),
    year: carsJson.map((c) => Date.parse(`${c.Year as string}T00:00:00Z`)),
    mpg: carsJson.map((c) => c.Miles_per_Gallon ?? null),
    cylinders: carsJson.map((c) => c.Cylinders),
    horsepower: carsJson.map((c) => c.Horsepower ?? null),
    origin: carsJson.map((c) => c.Origin),
  };

  it('reads cars.json (a JSON array, streamed) with missing values as null', async () => {
    const { rows } = await readAll(cars(vegaDataset('cars.json')), { batchRows: 100 });
    expect(rows).toEqual(carsExpected);
    expect(rows.mpg!.filter((v) => v === null)).toHaveLength(carsJson.filter((c) => c.Miles_per_Gallon === null || c.Miles_per_Gallon === undefined).length);
    expect(rows.mpg!.some((v) => v === null)).toBe(true);
  });

  it('reads the same cars as JSON Lines (blank lines skipped)', async () => {
    const file = path.join(tmp, 'cars.jsonl');
    fs.writeFileSync(file, `${carsJson.map((c) => JSON.stringify(c)).join('\n')}\n\n`);
    expect(fileFormatOf(file)).toBe('jsonl');
    const { rows } = await readAll(cars(file), { batchRows: 128 });
    expect(rows).toEqual(carsExpected);
  });

  /** The Seattle rows written as Parquet and Arrow IPC, typed (dates as timestamps, numbers as doubles). */
  async function seattleTyped(): Promise<{ parquet: string; arrow: string }> {
    const table = await readCsv(seattle);
    const n = table.numRows;
    const get = (name: string) => Array.from({ length: n }, (_, i) => table.getChild(name)!.get(i) as unknown);
    const parquet = path.join(tmp, 'seattle.parquet');
    parquetWriteFile({
      filename: parquet,
      rowGroupSize: 400,
      columnData: [
        { name: 'date', data: get('date').map((ms) => new Date(ms as number)), type: 'TIMESTAMP' },
        ...['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => ({ name, data: get(name), type: 'DOUBLE' as const })),
        { name: 'weather', data: get('weather'), type: 'STRING' },
      ],
    });
    const arrow = path.join(tmp, 'seattle.arrow');
    const arrowTable = new Table({
      date: vectorFromArray(get('date').map((ms) => new Date(ms as number)), new TimestampMillisecond()),
      ...Object.fromEntries(['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => [name, vectorFromArray(get(name) as number[], new Float64())])),
      weather: vectorFromArray(get('weather') as string[], new Utf8()),
    });
    fs.writeFileSync(arrow, tableToIPC(arrowTable, 'file'));
    return { parquet, arrow };
  }

  it('reads the same rows from Parquet (row group by row group) and Arrow IPC', async () => {
    const expected = await seattleExpected();
    const { parquet, arrow } = await seattleTyped();
    const fromParquet = await readAll(dailyWeather(), { path: parquet });
    expect(fromParquet.sizes).toEqual([400, 400, 400, 261]);
    expect(fromParquet.rows).toEqual(expected);
    expect((await readAll(dailyWeather(), { path: arrow })).rows).toEqual(expected);
  });

  it('reads flights-200k.arrow record batch by record batch, with constants for the key and time it lacks', async () => {
    const airport = entity({ name: 'airport', joinKeys: { origin: 'string' } });
    const flights = (schema: Record<string, 'int32' | 'float64' | 'string'>) =>
      featureView({
        name: 'flights',
        entities: [airport],
        schema,
        eventTimestamp: 'at',
        source: { kind: 'file', path: 'vega:flights-200k.arrow', constants: { origin: 'ANY', at: '2001-01-01T00:00:00Z' } },
        owner: 'ops',
        description: 'flights',
      });
    // flights-200k.arrow has no destination column: refused before reading, listing its columns.
    await expect(viewFileSource(flights({ delay: 'int32', destination: 'string' }))).rejects.toThrow(
      `${vegaDataset('flights-200k.arrow')} has no column "destination" (the view's feature, string) for feature view "flights". Its columns are delay, distance, time.`,
    );
    const { rows, sizes } = await readAll(flights({ delay: 'int32', distance: 'int32', time: 'float64' }));
    const table = tableFromIPC(fs.readFileSync(vegaDataset('flights-200k.arrow')));
    expect(sizes).toEqual(table.batches.map((b) => b.numRows));
    expect(rows.delay).toHaveLength(200_000);
    for (const i of [0, 12_345, 199_999]) {
      expect([rows.delay![i], rows.distance![i], rows.time![i]]).toEqual([table.getChild('delay')!.get(i), table.getChild('distance')!.get(i), table.getChild('time')!.get(i)]);
    }
    expect(new Set(rows.at)).toEqual(new Set([Date.UTC(2001, 0, 1)]));
    expect(new Set(rows.origin)).toEqual(new Set(['ANY']));
    // A typed column that cannot hold the declared type is refused up front.
    await expect(viewFileSource(flights({ delay: 'string' }))).rejects.toThrow('column "delay" holds integer values but the view declares feature "delay" string.');
  });

  it('hashes the content: the file sha256, plus the mapping when it changes the rows', async () => {
    const sha = createHash('sha256').update(fs.readFileSync(seattle)).digest('hex');
    const a = await viewFileSource(dailyWeather());
    const b = await viewFileSource(dailyWeather({ kind: 'file', path: seattle, constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '1d' } }));
    const c = await viewFileSource(dailyWeather({ kind: 'file', path: seattle, constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '2d' } }));
    expect(a.sha256).toBe(sha);
    expect(a.contentHash).toMatch(new RegExp(`^sha256:${sha}:mapping=[0-9a-f]{16}$`));
    expect(b.contentHash).toBe(a.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
    expect(c.sha256).toBe(sha);
    // Read as it is (no mapping): the plain file hash.
    const plain = path.join(tmp, 'plain.csv');
    fs.writeFileSync(plain, 'station,observed_at,precipitation,temp_max,temp_min,wind,weather\nSEA,2012-01-02,0,1,2,3,sun\n');
    const identity = await viewFileSource(dailyWeather({ kind: 'file', path: plain }));
    expect(identity.contentHash).toBe(`sha256:${createHash('sha256').update(fs.readFileSync(plain)).digest('hex')}`);
  });

  it('resolves relative paths against the project folder, and vega: names to vega-datasets', () => {
    expect(resolveFilePath('data/x.csv', '/projects/rain')).toBe('/projects/rain/data/x.csv');
    expect(resolveFilePath('/abs/x.csv', '/projects/rain')).toBe('/abs/x.csv');
    expect(resolveFilePath('vega:seattle-weather.csv')).toBe(seattle);
    expect(() => fileFormatOf('data/x.xlsx')).toThrow('Cannot tell the format of data/x.xlsx from its extension ".xlsx"; give format:');
  });

  it('infers a preview schema from the first rows or the file schema', async () => {
    const csv = await inferFileSchema(seattle);
    expect(csv.columns).toEqual({ date: 'timestamp', precipitation: 'float64', temp_max: 'float64', temp_min: 'float64', wind: 'float64', weather: 'string' });
    expect(csv.sample[0]).toEqual({ date: '2012-01-01', precipitation: '0.0', temp_max: '12.8', temp_min: '5.0', wind: '4.7', weather: 'drizzle' });
    const json = await inferFileSchema(vegaDataset('cars.json'));
    expect(json.columns).toEqual({
      Name: 'string',
      Miles_per_Gallon: 'float64',
      Cylinders: 'int64',
      Displacement: 'float64',
      Horsepower: 'int64',
      Weight_in_lbs: 'int64',
      Acceleration: 'float64',
      Year: 'timestamp',
      Origin: 'string',
    });
    const { parquet } = await seattleTyped();
    expect((await inferFileSchema(parquet)).columns).toMatchObject({ date: 'timestamp', precipitation: 'float64', weather: 'string' });
  });
});

function viewArgs(view: FeatureView) {
  return {
    name: view.name,
    entities: [...view.entities],
    schema: Object.fromEntries(view.features.map((f) => [f.name, f.type])),
    eventTimestamp: view.eventTimestamp,
    source: view.source,
    owner: view.owner,
    description: view.description,
  };
}

describe('file sources refuse bad input, naming the file, the row and the column', () => {
  const write = (name: string, text: string) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const read = async (view: FeatureView, options: Parameters<typeof viewFileSource>[1] = {}) => {
    try {
      await readAll(view, options);
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a refusal');
  };

  it('a declared numeric feature with text values', async () => {
    const file = write('text.csv', 'date,precipitation,temp_max,temp_min,wind,weather\n2012-01-01,0.0,12.8,5.0,4.7,drizzle\n2012-01-02,lots,10.6,2.8,4.5,rain\n');
    const error = await read(dailyWeather(), { path: file });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      `${file}, row 2 (line 3): column "precipitation" (feature of feature view "daily_weather") is "lots", not a number (declared float64). Fix the value, or declare "precipitation" string if the column is text. Nothing from this file was kept.`,
    );
    expect((error as ValidationError).details).toMatchObject({ view: 'daily_weather', row: 2, line: 3, column: 'precipitation', value: 'lots' });
  });

  it('a bad date, a missing key value, a non-integer int, a JSON row that is not an object', async () => {
    const badDate = write('date.csv', 'date,precipitation,temp_max,temp_min,wind,weather\nyesterday,0,1,2,3,sun\n');
    expect((await read(dailyWeather(), { path: badDate })).message).toContain(`${badDate}, row 1 (line 2): column "date" (read for event timestamp "observed_at" of feature view "daily_weather") is "yesterday", not a date or date-time`);
    const noKey = write('nokey.csv', 'station,observed_at,precipitation,temp_max,temp_min,wind,weather\nSEA,2012-01-02,0,1,2,3,sun\n,2012-01-03,0,1,2,3,sun\n');
    expect((await read(dailyWeather({ kind: 'file', path: noKey }))).message).toContain('row 2 (line 3): column "station" (join key of feature view "daily_weather") is missing (every row needs its entity key)');
    const jsonl = write('cars.jsonl', '{"Name":"a","Year":"1970-01-01","Miles_per_Gallon":1,"Cylinders":4,"Horsepower":1,"Origin":"USA"}\n{"Name":"b","Year":"1970-01-01","Miles_per_Gallon":1,"Cylinders":4.5,"Horsepower":1,"Origin":"USA"}\n');
    const view = featureView({
      name: 'cars',
      entities: [entity({ name: 'car', joinKeys: { name: 'string' } })],
      schema: { cylinders: 'int32' },
      eventTimestamp: 'year',
      source: { kind: 'file', path: jsonl, columns: { name: 'Name', year: 'Year', cylinders: 'Cylinders' } },
      owner: 'o',
      description: 'd',
    });
    expect((await read(view)).message).toContain('row 2 (line 2): column "Cylinders" (read for feature "cylinders" of feature view "cars") is 4.5, not a whole number (declared int32)');
    const arrayRow = write('array-row.jsonl', '{"Name":"a","Year":"1970-01-01","Cylinders":4}\n\n[1]\n');
    expect((await read(featureView({ ...viewArgs(view), source: { kind: 'file', path: arrayRow, columns: { name: 'Name', year: 'Year', cylinders: 'Cylinders' } } }))).message).toBe(
      `${arrayRow}, row 2 (line 3) is an array, not an object; each row of a JSON file is an object of column values. Nothing from this file was kept.`,
    );
    const notArray = write('object.json', '{"a": 1}');
    const error = await read(featureView({ ...viewArgs(view), source: { kind: 'file', path: notArray } }));
    expect(error.message).toContain(`${notArray} is not a JSON array of objects`);
  });

  it('a missing column: named, with the file columns listed and how to map it', async () => {
    const error = await read(dailyWeather({ kind: 'file', path: seattle, timestamp: { column: 'date' } }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      `${seattle} has no column "station" (the view's join key, string) for feature view "daily_weather". Its columns are date, precipitation, temp_max, temp_min, wind, weather. Map it in the view's file source with columns: { station: '<file column>' }, or give every row one value with constants: { station: '…' }.`,
    );
    const renamed = await read(dailyWeather({ kind: 'file', path: seattle, constants: { station: 'SEA' }, timestamp: { column: 'day' } }));
    expect(renamed.message).toContain(`has no column "day" (read for the view's event timestamp "observed_at", timestamp)`);
    const cased = write('cased.csv', 'Date,precipitation,temp_max,temp_min,wind,weather\n2012-01-01,0,1,2,3,sun\n');
    expect((await read(dailyWeather(), { path: cased })).message).toContain(`Column "Date" differs only by case or spaces: rename it in the view's file source (columns: { observed_at: 'Date' }).`);
  });

  it('files that are not there, empty, or not what their extension says', async () => {
    await expect(viewFileSource(dailyWeather(), { path: path.join(tmp, 'none.csv') })).rejects.toThrow(NotFoundError);
    const empty = write('empty.csv', '');
    await expect(viewFileSource(dailyWeather(), { path: empty })).rejects.toThrow(`${empty} is empty (0 bytes), not a CSV file`);
    const ragged = write('ragged.csv', 'date,precipitation,temp_max,temp_min,wind,weather\n2012-01-01,0,1,2,3\n');
    expect((await read(dailyWeather(), { path: ragged })).message).toMatch(new RegExp(`^${ragged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, line 2 is not valid CSV: `));
    const emptyJson = write('empty.json', '[]');
    await expect(viewFileSource(dailyWeather(), { path: emptyJson })).rejects.toThrow(`${emptyJson} holds no rows (an empty JSON array).`);
  });

  it('a view with no file and no path, and bad file source declarations', () => {
    const pipelineView = featureView({ ...viewArgs(dailyWeather()), source: { kind: 'pipeline', name: 'weather-features' } });
    return Promise.all([
      expect(viewFileSource(pipelineView)).rejects.toThrow('Feature view "daily_weather" declares no file to read (its rows come from pipeline "weather-features"); give a path'),
      expect(() => dailyWeather({ kind: 'file', path: seattle, columns: { rainfall: 'precipitation' } })).toThrow(
        `The file source of the feature view "daily_weather" renames "rainfall", which is not a column of the view; the view's columns are station, observed_at, precipitation, temp_max, temp_min, wind, weather.`,
      ),
      expect(() => dailyWeather({ kind: 'file', path: seattle, timestamp: { column: 'date', offset: 'tomorrow' } })).toThrow('must be a positive duration'),
      expect(() => dailyWeather({ kind: 'file', path: seattle, format: 'xlsx' as 'csv' })).toThrow('has format "xlsx"; formats are csv, json, jsonl, parquet, arrow.'),
      expect(() => dailyWeather({ kind: 'file', path: seattle, constants: { station: 'SEA' }, columns: { station: 'x' } })).toThrow('both renames and sets constant "station"'),
    ]);
  });
});
