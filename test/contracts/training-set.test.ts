/**
 * Data in, checked, and out as training sets, on both drivers: vega-datasets' seattle-weather.csv
 * ingested into a daily view (station SEA, each day known at its end), idempotently by content; the
 * project's expectations over the view; and training sets built from a feature service and a label,
 * checked row by row against answers computed here from the CSV itself: a "rain tomorrow" label (the
 * next day's precipitation > 0), a regression label, a labels view joined point in time, and the
 * refusals. The three built-in steps run as the worker runs them (cache, progress, lineage).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { DataType, tableFromIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTrainingSet as buildTrainingSetStep } from '../../pipelines/steps/build-training-set.js';
import { checkExpectations } from '../../pipelines/steps/check-expectations.js';
import { ingestFile as ingestFileStep } from '../../pipelines/steps/ingest-file.js';
import { queryRows } from '../../src/db/client.js';
import { featureIngestions } from '../../src/db/schema.js';
import { vegaDataset } from '../../src/datasets/vega.js';
import { ValidationError } from '../../src/errors.js';
import { entity, featureService, featureView, type Definition } from '../../src/features/definitions.js';
import { ingestFile } from '../../src/features/files.js';
import { apply } from '../../src/features/registry.js';
import { buildTrainingSet, type BuildTrainingSetOptions } from '../../src/features/training-set.js';
import { expect as rule, expectationSuite, readQualityReport } from '../../src/governance/expectations.js';
import { runStepWithCache, type StepImplementations, type StepServices } from '../../src/pipeline/step-runtime.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { readCsv } from '../../src/sdk/csv.js';
import { checkDatasetExpectations } from '../../src/sdk/features.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

const DAY = 86_400_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-training-set-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const station = entity({ name: 'station', joinKeys: { station: 'string' } });
const dailyWeather = featureView({
  name: 'daily_weather',
  entities: [station],
  schema: { precipitation: 'float64', temp_max: 'float64', temp_min: 'float64', wind: 'float64', weather: 'string' },
  eventTimestamp: 'observed_at',
  ttl: '2d',
  source: { kind: 'file', path: 'vega:seattle-weather.csv', constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '1d' } },
  owner: 'weather-team',
  description: 'Daily weather, known at the end of each day.',
  tags: { sensitivity: 'public' },
});
/** Sparse monthly notes: a second view joined point in time, with a TTL that leaves gaps. */
const monthly = featureView({
  name: 'monthly_notes',
  entities: [station],
  schema: { mean_temp: 'float64', season: 'string' },
  eventTimestamp: 'at',
  ttl: '20d',
  source: { kind: 'file', path: 'monthly.jsonl' },
  owner: 'weather-team',
  description: 'Notes written now and then.',
});
/** Labels of their own: did it rain at the station, as someone recorded it. */
const rainLabels = featureView({
  name: 'rain_labels',
  entities: [station],
  schema: { outcome: 'string', rain_mm: 'float64' },
  eventTimestamp: 'at',
  createdTimestamp: 'recorded_at',
  source: { kind: 'file', path: 'labels.csv' },
  owner: 'weather-team',
  description: 'Recorded outcomes.',
});
/** Two cities on the same days (vega-datasets' weather.csv): examples at one time, ordered by key. */
const city = entity({ name: 'city', joinKeys: { city: 'string' } });
const cityWeather = featureView({
  name: 'city_weather',
  entities: [city],
  schema: { precipitation: 'float64', wind: 'float64' },
  eventTimestamp: 'observed_at',
  ttl: '2d',
  source: { kind: 'file', path: 'vega:weather.csv', columns: { city: 'location' }, timestamp: { column: 'date', offset: '1d' } },
  owner: 'weather-team',
  description: 'Daily weather of two cities.',
});
const cityForecast = featureService({ name: 'city_forecast', version: 1, features: [cityWeather] });
const forecast = featureService({ name: 'rain_forecast', version: 1, features: [dailyWeather], owner: 'weather-team' });
const withNotes = featureService({ name: 'rain_with_notes', version: 1, features: [dailyWeather.select('precipitation', 'weather'), monthly.select('mean_temp')] });
const definitions: Definition[] = [station, dailyWeather, monthly, rainLabels, forecast, withNotes, city, cityWeather, cityForecast];

const monthlyRows = [
  { station: 'SEA', at: '2012-01-10T12:00:00Z', mean_temp: 6.5, season: 'winter' },
  { station: 'SEA', at: '2012-02-03T00:00:00Z', mean_temp: 7.25, season: 'winter' },
  { station: 'SEA', at: '2012-04-01T00:00:00Z', mean_temp: 11, season: 'spring' },
  // Another station: never joined to SEA's examples.
  { station: 'NYC', at: '2012-01-01T00:00:00Z', mean_temp: -3, season: 'winter' },
];
fs.writeFileSync(path.join(tmp, 'monthly.jsonl'), monthlyRows.map((r) => JSON.stringify(r)).join('\n'));
fs.writeFileSync(
  path.join(tmp, 'labels.csv'),
  [
    'station,at,recorded_at,outcome,rain_mm',
    // Before any weather: kept, with missing features.
    'SEA,2011-12-01T12:00:00Z,,dry,0',
    'SEA,2012-01-05T12:00:00Z,2012-01-06T00:00:00Z,dry,0',
    // Recorded again later: the later record of the same time wins.
    'SEA,2012-01-05T12:00:00Z,2012-01-07T00:00:00Z,rain,2.5',
    'SEA,2012-03-01T06:00:00Z,,rain,4',
    'SEA,2012-03-02T06:00:00Z,,,',
  ].join('\n'),
);

interface Day {
  ms: number;
  precipitation: number;
  temp_max: number;
  temp_min: number;
  wind: number;
  weather: string;
}

async function seattleDays(): Promise<Day[]> {
  const csv = await readCsv(vegaDataset('seattle-weather.csv'));
  return Array.from({ length: csv.numRows }, (_, i) => ({
    ms: csv.getChild('date')!.get(i) as number,
    precipitation: csv.getChild('precipitation')!.get(i) as number,
    temp_max: csv.getChild('temp_max')!.get(i) as number,
    temp_min: csv.getChild('temp_min')!.get(i) as number,
    wind: csv.getChild('wind')!.get(i) as number,
    weather: csv.getChild('weather')!.get(i) as string,
  }));
}

const column = (table: Table, name: string) => Array.from({ length: table.numRows }, (_, i) => table.getChild(name)!.get(i) as unknown);

describeEachDriver('files, expectations and training sets', (driver) => {
  const db = useTestDatabase(driver);
  let artifacts: LocalArtifactStore;
  let days: Day[];
  let weatherIngestion: number;

  beforeAll(async () => {
    artifacts = new LocalArtifactStore(path.join(tmp, `${driver}-artifacts`));
    days = await seattleDays();
    await apply(db.handle.db, definitions);
  });

  const count = async (view: string) => (await queryRows<{ n: number }>(db.handle.db, sql.raw(`select count(*)::int as n from features.${view}`)))[0]!.n;
  const build = (options: BuildTrainingSetOptions) => buildTrainingSet(db.handle.db, artifacts, definitions, options);
  const load = async (uri: string) => tableFromIPC(await artifacts.get(uri));

  it('ingests seattle-weather.csv once: the ingestion records the file hash, and the same content again writes nothing', async () => {
    const sha = createHash('sha256').update(fs.readFileSync(vegaDataset('seattle-weather.csv'))).digest('hex');
    const progress: number[] = [];
    const first = await ingestFile(db.handle.db, dailyWeather, { onProgress: (p) => progress.push(p.rowsWritten) });
    expect(first).toMatchObject({ view: 'daily_weather', rows: 1461, reused: false, sha256: sha, format: 'csv', path: vegaDataset('seattle-weather.csv') });
    expect(progress.at(-1)).toBe(1461);
    const [record] = await db.handle.db.select().from(featureIngestions);
    expect(record!.contentHash.startsWith(`sha256:${sha}`)).toBe(true);
    expect(record!.status).toBe('complete');
    weatherIngestion = first.ingestionId;

    const again = await ingestFile(db.handle.db, dailyWeather);
    expect(again).toMatchObject({ ingestionId: first.ingestionId, rows: 1461, reused: true });
    // The same bytes under another name are the same content.
    const copy = path.join(tmp, 'copy.csv');
    fs.copyFileSync(vegaDataset('seattle-weather.csv'), copy);
    expect(await ingestFile(db.handle.db, dailyWeather, { path: copy })).toMatchObject({ ingestionId: first.ingestionId, reused: true });
    expect(await count('daily_weather')).toBe(1461);

    const [row] = await queryRows<{ station: string; observed_at: Date | string; precipitation: number; weather: string }>(
      db.handle.db,
      sql.raw(`select station, observed_at, precipitation, weather from features.daily_weather order by observed_at limit 1`),
    );
    expect([row!.station, new Date(row!.observed_at).toISOString(), row!.precipitation, row!.weather]).toEqual(['SEA', '2012-01-02T00:00:00.000Z', 0, 'drizzle']);
  });

  it('refuses text in a numeric feature, naming the file, row, line and column, and keeps nothing of it', async () => {
    const bad = path.join(tmp, 'bad.csv');
    fs.writeFileSync(bad, 'date,precipitation,temp_max,temp_min,wind,weather\n2016-01-01,0.0,12.8,5.0,4.7,drizzle\n2016-01-02,1.2,10.6,2.8,4.5,rain\n2016-01-03,0.8,n/a,7.2,2.3,rain\n');
    const error = (await ingestFile(db.handle.db, dailyWeather, { path: bad, batchRows: 2 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      `${bad}, row 3 (line 4): column "temp_max" (feature of feature view "daily_weather") is "n/a", not a number (declared float64). Fix the value, or declare "temp_max" string if the column is text. Nothing from this file was kept.`,
    );
    expect(await count('daily_weather')).toBe(1461);
    const failed = await db.handle.db.select().from(featureIngestions);
    expect(failed.filter((r) => r.status === 'failed')).toHaveLength(1);
  });

  it('builds "rain tomorrow": each day labelled by the next day\'s precipitation, with that day\'s features and none stamped later', async () => {
    const phases: string[] = [];
    const set = await buildTrainingSet(
      db.handle.db,
      artifacts,
      definitions,
      { service: 'rain_forecast', task: 'binary-classification', label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } } },
      (p) => phases.push(p.stage),
    );
    expect(phases).toEqual(['examples', 'features', 'writing']);
    // The last day has no next day: 1,460 examples.
    const expectedLabels = days.slice(0, -1).map((_, i) => (days[i + 1]!.precipitation > 0 ? 1 : 0));
    expect(set).toMatchObject({
      rows: 1460,
      task: 'binary-classification',
      positives: expectedLabels.filter((y) => y === 1).length,
      from: '2012-01-02T00:00:00.000Z',
      to: '2015-12-31T00:00:00.000Z',
      featureService: 'rain_forecast',
      featureServiceVersion: 1,
      label: 'daily_weather.precipitation in 1d > 0',
      columns: {
        label: 'label',
        time: 'event_time',
        keys: ['station'],
        numeric: ['daily_weather__precipitation', 'daily_weather__temp_max', 'daily_weather__temp_min', 'daily_weather__wind'],
        categorical: ['daily_weather__weather'],
      },
    });
    expect(set.uri).toBe(`artifact://sha256/${set.sha256}`);
    const table = await load(set.uri);
    expect(table.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['station', 'Utf8'],
      ['event_time', 'Float64'],
      ['daily_weather__precipitation', 'Float64'],
      ['daily_weather__temp_max', 'Float64'],
      ['daily_weather__temp_min', 'Float64'],
      ['daily_weather__wind', 'Float64'],
      ['daily_weather__weather', 'Utf8'],
      ['label', 'Int8'],
    ]);
    expect(DataType.isInt(table.getChild('label')!.type)).toBe(true);
    // By hand: 2012-01-01 (0.0 mm, 12.8/5.0 °C, wind 4.7, drizzle) is known at 2012-01-02T00:00; 2012-01-02 had 10.9 mm.
    expect([0, 2, 3].map((i) => table.get(i)!.toJSON())).toEqual([
      { station: 'SEA', event_time: Date.UTC(2012, 0, 2), daily_weather__precipitation: 0, daily_weather__temp_max: 12.8, daily_weather__temp_min: 5, daily_weather__wind: 4.7, daily_weather__weather: 'drizzle', label: 1 },
      { station: 'SEA', event_time: Date.UTC(2012, 0, 4), daily_weather__precipitation: 0.8, daily_weather__temp_max: 11.7, daily_weather__temp_min: 7.2, daily_weather__wind: 2.3, daily_weather__weather: 'rain', label: 1 },
      { station: 'SEA', event_time: Date.UTC(2012, 0, 5), daily_weather__precipitation: 20.3, daily_weather__temp_max: 12.2, daily_weather__temp_min: 5.6, daily_weather__wind: 4.7, daily_weather__weather: 'rain', label: 1 },
    ]);
    // Every row: the features of the day that ended at the example's time (never a later day), the next day's rain as the label.
    const times = column(table, 'event_time') as number[];
    expect(times).toEqual(days.slice(0, -1).map((d) => d.ms + DAY));
    expect(column(table, 'daily_weather__precipitation')).toEqual(days.slice(0, -1).map((d) => d.precipitation));
    expect(column(table, 'daily_weather__weather')).toEqual(days.slice(0, -1).map((d) => d.weather));
    expect(Array.from(table.getChild('label')!.toArray() as Int8Array)).toEqual(expectedLabels);
    // A dry next day exists: 2012-01-09 had 0 mm after 2012-01-08.
    const jan8 = times.indexOf(Date.UTC(2012, 0, 9));
    expect([table.getChild('daily_weather__precipitation')!.get(jan8), table.getChild('label')!.get(jan8)]).toEqual([days[7]!.precipitation, days[8]!.precipitation > 0 ? 1 : 0]);
  });

  it('joins a sparse second view point in time (latest at or before, within its TTL), and keeps a window and the latest maxRows', async () => {
    await ingestFile(db.handle.db, monthly, { root: tmp });
    const from = '2012-01-01T00:00:00Z';
    const to = '2012-05-01T00:00:00Z';
    const set = await build({ service: 'rain_with_notes', task: 'binary-classification', from, to, label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } } });
    const table = await load(set.uri);
    const times = column(table, 'event_time') as number[];
    const window = days.filter((d) => d.ms + DAY >= Date.parse(from) && d.ms + DAY < Date.parse(to));
    expect(times).toEqual(window.map((d) => d.ms + DAY));
    expect(set.columns.numeric).toEqual(['daily_weather__precipitation', 'monthly_notes__mean_temp']);
    // The brute-force answer: SEA's latest note at or before t, unless 20 days or more old.
    const notes = monthlyRows.filter((r) => r.station === 'SEA').map((r) => ({ at: Date.parse(r.at), value: r.mean_temp }));
    const expected = times.map((t) => {
      const seen = notes.filter((n) => n.at <= t).at(-1);
      return seen && t - seen.at < 20 * DAY ? seen.value : NaN;
    });
    const joined = column(table, 'monthly_notes__mean_temp') as number[];
    expect(joined).toEqual(expected);
    expect(joined.filter((v) => Number.isNaN(v)).length).toBeGreaterThan(0);
    expect(joined.filter((v) => v === 7.25).length).toBeGreaterThan(0);
    // By hand: on 2012-01-10T00:00 the note of the 10th at noon is not known yet; on the 11th it is.
    expect([joined[times.indexOf(Date.UTC(2012, 0, 10))], joined[times.indexOf(Date.UTC(2012, 0, 11))]]).toEqual([NaN, 6.5]);

    const latest = await build({ service: 'rain_with_notes', task: 'binary-classification', from, to, maxRows: 10, label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } } });
    expect(latest.rows).toBe(10);
    expect(column(await load(latest.uri), 'event_time')).toEqual(times.slice(-10));
  });

  it('orders examples by time, then key, and labels each entity from its own next day', async () => {
    await ingestFile(db.handle.db, cityWeather);
    const csv = await readCsv(vegaDataset('weather.csv'));
    const rows = Array.from({ length: csv.numRows }, (_, i) => ({ city: csv.getChild('location')!.get(i) as string, ms: csv.getChild('date')!.get(i) as number, mm: csv.getChild('precipitation')!.get(i) as number }));
    const set = await build({ service: 'city_forecast', task: 'binary-classification', label: { kind: 'future', view: 'city_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } } });
    // The brute force: every (city, day) with a next day of the same city, by time then city name.
    const next = new Map(rows.map((r) => [`${r.city}@${r.ms}`, r.mm]));
    const expected = rows
      .filter((r) => next.has(`${r.city}@${r.ms + DAY}`))
      .map((r) => ({ city: r.city, t: r.ms + DAY, mm: r.mm, label: next.get(`${r.city}@${r.ms + DAY}`)! > 0 ? 1 : 0 }))
      .sort((a, b) => a.t - b.t || (a.city < b.city ? -1 : 1));
    const table = await load(set.uri);
    expect(set.rows).toBe(expected.length);
    expect(column(table, 'city').slice(0, 4)).toEqual(['New York', 'Seattle', 'New York', 'Seattle']);
    expect(column(table, 'city')).toEqual(expected.map((e) => e.city));
    expect(column(table, 'event_time')).toEqual(expected.map((e) => e.t));
    expect(column(table, 'city_weather__precipitation')).toEqual(expected.map((e) => e.mm));
    expect(column(table, 'label')).toEqual(expected.map((e) => e.label));
  });

  it('builds a regression set: the next day\'s highest temperature', async () => {
    const set = await build({ service: 'rain_forecast', task: 'regression', label: { kind: 'future', view: 'daily_weather', feature: 'temp_max', horizon: '1d' } });
    expect(set).toMatchObject({ rows: 1460, positives: null, task: 'regression' });
    const table = await load(set.uri);
    expect(String(table.getChild('label')!.type)).toBe('Float64');
    expect(Array.from(table.getChild('label')!.toArray() as Float64Array)).toEqual(days.slice(1).map((d) => d.temp_max));

    // With gaps: the first note at or after t + 10 days, unless 20 days (the view's TTL) or more after it.
    // 2012-01-10T12 -> 2012-02-03 (13.5 days after the 20th: kept); 2012-02-03 -> 2012-04-01 (47 days: dropped); the last has none.
    const sparse = await build({ service: 'rain_forecast', task: 'regression', label: { kind: 'future', view: 'monthly_notes', feature: 'mean_temp', horizon: '10d' } });
    const row = (await load(sparse.uri)).get(0)!.toJSON();
    expect(sparse.rows).toBe(1);
    // Its features: the day that ended at or before 2012-01-10T12:00 (2012-01-09).
    const jan9 = days.find((d) => d.ms === Date.UTC(2012, 0, 9))!;
    expect(row).toMatchObject({ station: 'SEA', event_time: Date.parse('2012-01-10T12:00:00Z'), label: 7.25, daily_weather__temp_max: jan9.temp_max, daily_weather__weather: jan9.weather });
  });

  it('builds from a labels view: its rows are the examples, the latest record of a time wins, features as of each label time', async () => {
    await ingestFile(db.handle.db, rainLabels, { root: tmp });
    const set = await build({ service: 'rain_forecast', task: 'binary-classification', label: { kind: 'column', view: 'rain_labels', column: 'outcome', transform: { eq: 'rain' } } });
    const table = await load(set.uri);
    // Three labelled times (the one with no outcome is dropped), in time order.
    expect(column(table, 'event_time')).toEqual([Date.parse('2011-12-01T12:00:00Z'), Date.parse('2012-01-05T12:00:00Z'), Date.parse('2012-03-01T06:00:00Z')]);
    expect(column(table, 'label')).toEqual([0, 1, 1]);
    expect(set).toMatchObject({ rows: 3, positives: 2, label: 'rain_labels.outcome = "rain"' });
    // No weather before 2012-01-02: missing. 2012-01-05 noon sees the day that ended at 00:00 that day (2012-01-04); 2012-03-01 06:00 sees 2012-02-29.
    const day = (iso: string) => days.find((d) => d.ms === Date.parse(`${iso}T00:00:00Z`))!;
    expect(column(table, 'daily_weather__precipitation')).toEqual([NaN, day('2012-01-04').precipitation, day('2012-02-29').precipitation]);
    expect(column(table, 'daily_weather__weather')).toEqual([null, day('2012-01-04').weather, day('2012-02-29').weather]);
    // A numeric label column with a threshold.
    const mm = await build({ service: 'rain_forecast', task: 'binary-classification', label: { kind: 'column', view: 'rain_labels', column: 'rain_mm', transform: { gte: 3 } } });
    expect(column(await load(mm.uri), 'label')).toEqual([0, 0, 1]);
  });

  it('refuses bad labels and empty sets, naming the view and column', async () => {
    const future = { kind: 'future', view: 'daily_weather', horizon: '1d' } as const;
    await expect(build({ service: 'rain_forecast', task: 'binary-classification', label: { ...future, feature: 'rain', transform: { gt: 0 } } })).rejects.toThrow(
      'Feature view "daily_weather" has no column "rain" for the label (its feature); its columns are station, observed_at, precipitation, temp_max, temp_min, wind, weather. A label is one of its features.',
    );
    await expect(build({ service: 'rain_forecast', task: 'regression', label: { ...future, feature: 'weather' } })).rejects.toThrow(
      'A regression label must be a number, but the label "weather" of feature view "daily_weather" is declared string.',
    );
    await expect(build({ service: 'rain_forecast', task: 'binary-classification', label: { ...future, feature: 'precipitation', transform: { gt: 1000 } } })).rejects.toThrow(
      'The classification label "daily_weather.precipitation in 1d > 1000" has one class in the training window: all 1460 examples of feature view "daily_weather" are 0. Widen from/to, or change the label\'s transform.',
    );
    await expect(build({ service: 'rain_forecast', task: 'binary-classification', label: { ...future, feature: 'precipitation' } })).rejects.toThrow(
      'The label "precipitation" of feature view "daily_weather" holds 10.9 (in its row at 2012-01-03T00:00:00.000Z), not 0 or 1. Give a transform such as { gt: 0 } to say which values are 1.',
    );
    await expect(build({ service: 'rain_forecast', task: 'binary-classification', from: '2020-01-01', label: { ...future, feature: 'precipitation', transform: { gt: 0 } } })).rejects.toThrow(
      'The training set has no examples: feature view "daily_weather" has no rows from 2020-01-01T00:00:00.000Z.',
    );
    await expect(build({ service: 'rain_forecast', task: 'binary-classification', label: { kind: 'column', view: 'rain_label', column: 'outcome', transform: { eq: 'rain' } } })).rejects.toThrow(
      'The label reads feature view "rain_label", which is not defined. Feature views: city_weather, daily_weather, monthly_notes, rain_labels.',
    );
    await expect(build({ service: 'rain_forecast', task: 'binary-classification', label: { kind: 'column', view: 'rain_labels', column: 'outcome' } })).rejects.toThrow(
      'The label "outcome" of feature view "rain_labels" is declared string: a classification label is 0/1 or true/false.',
    );
    await expect(build({ service: 'rain_forecast', task: 'regression', label: { kind: 'future', view: 'monthly_notes', feature: 'mean_temp', horizon: '1d' } })).rejects.toThrow(
      'The training set has no examples: no row of feature view "monthly_notes" has a later row of its entity 1d on (within the view\'s TTL) with a "mean_temp" value.',
    );
    await expect(build({ service: 'city_forecast', task: 'binary-classification', label: { ...future, feature: 'precipitation', transform: { gt: 0 } } })).rejects.toThrow(
      'Feature service "city_forecast" reads feature view "city_weather" by key "city", which the label\'s feature view "daily_weather" has neither as a key nor as a column',
    );
    const refused = await build({ service: 'rain_forecast', task: 'regression', label: { ...future, feature: 'weather' } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).details).toMatchObject({ view: 'daily_weather', column: 'weather' });
  });

  it('runs the three steps as the worker does: ingest (cached by content), check the declared expectations, build (cached until the data changes)', async () => {
    const passing = expectationSuite({
      name: 'daily weather',
      dataset: 'feature_view:daily_weather',
      table: 'fv_daily_weather',
      expectations: [rule.rowCount({ min: 1000 }), rule.nullFraction('precipitation', 0), rule.between('precipitation', 0, 100), rule.inSet('weather', ['sun', 'fog', 'drizzle', 'rain', 'snow'])],
    });
    const failing = expectationSuite({ name: 'monthly notes', dataset: 'feature_view:monthly_notes', table: 'fv_monthly_notes', expectations: [rule.between('mean_temp', 0, 10)] });
    const services: StepServices = { db: db.handle.db, artifacts, writeOptions: {}, features: definitions, expectations: [passing, failing], projectRoot: tmp };
    const steps: StepImplementations = Object.fromEntries([ingestFileStep, checkExpectations, buildTrainingSetStep].map((s) => [s.name, s.implementation]));
    const heartbeats: unknown[] = [];
    const run = (step: string, uses: string, input: unknown, cache = true) =>
      runStepWithCache(db.handle.db, steps, { runId: 'run-1', step, uses, version: '1', input, cache }, { attempt: 1, heartbeat: (d) => heartbeats.push(d), signal: new AbortController().signal, services });

    const ingested = await run('load', 'ingestFile', { view: 'daily_weather' }, false);
    expect(ingested.output).toEqual({ view: 'daily_weather', ingestionId: weatherIngestion, rows: 1461, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), source: vegaDataset('seattle-weather.csv'), skipped: true });
    expect((await run('load', 'ingestFile', { view: 'daily_weather' })).cached).toBe(false);
    expect((await run('load', 'ingestFile', { view: 'daily_weather' })).cached).toBe(true);
    const lineage = await ingestFileStep.implementation.lineage!({ view: 'daily_weather' }, { output: ingested.output }, services);
    expect(lineage.inputs).toEqual([{ namespace: 'file', name: vegaDataset('seattle-weather.csv') }]);
    expect(lineage.outputs![0]).toMatchObject({ name: 'feature_view:daily_weather', outputFacets: { outputStatistics: { rowCount: 1461 } } });
    expect(await ingestFileStep.implementation.access!({ view: 'daily_weather' }, services)).toEqual([{ permission: 'write', resource: 'feature_view:daily_weather', sensitivity: 'public' }]);

    const checked = await run('quality', 'checkExpectations', { dataset: 'daily_weather', ingestionId: weatherIngestion });
    expect(checked.output).toMatchObject({ dataset: 'feature_view:daily_weather', suite: 'daily weather', passed: true, rows: 1461, failed: [] });
    expect((await readQualityReport(db.handle.db, checked.output.resultKey as string))!.results).toHaveLength(4);
    // The same suite outside a pipeline, through the SDK: the feature view is exposed to it the same way.
    const direct = await checkDatasetExpectations(db.handle.db, [passing, failing], definitions, { dataset: 'daily_weather', key: 'sdk-check-1' });
    expect(direct.suite.name).toBe('daily weather');
    expect(direct.report).toMatchObject({ passed: true, rows: 1461 });
    // Restricted to an ingestion of another view: no rows, and rowCount fails.
    const other = await run('quality-none', 'checkExpectations', { dataset: 'feature_view:daily_weather', ingestionId: 999_999 }).catch((e: unknown) => e as Error);
    expect(other).toBeInstanceOf(ValidationError);
    expect((other as Error).message).toContain('row count at least 1000: observed 0');
    const failed = await run('quality-notes', 'checkExpectations', { dataset: 'feature_view:monthly_notes' }).catch((e: unknown) => e as Error);
    expect(failed).toBeInstanceOf(ValidationError);
    expect((failed as Error).message).toMatch(/^Data quality check "monthly notes" failed on feature_view:monthly_notes \(1 of 1 expectations\): mean_temp between 0 and 10: observed 2/);
    const unknown = await run('quality-x', 'checkExpectations', { dataset: 'rain_labels' }).catch((e: unknown) => e as Error);
    expect((unknown as Error).message).toBe(
      "No expectation suite is declared for dataset \"rain_labels\". Datasets with one: feature_view:daily_weather, feature_view:monthly_notes. Declare one in the project's expectations (expectationSuite({ name, dataset: 'rain_labels', table, expectations })).",
    );

    const input = { service: 'rain_forecast', task: 'binary-classification', label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } } };
    heartbeats.length = 0;
    const built = await run('trainingSet', 'buildTrainingSet', input);
    expect(built.cached).toBe(false);
    expect(built.output).toMatchObject({ rows: 1460, columns: { label: 'label', time: 'event_time' } });
    expect(heartbeats).toEqual([{ stage: 'examples', rows: 1460 }, { stage: 'features', rows: 1460 }, { stage: 'writing', rows: 1460 }]);
    expect((await run('trainingSet', 'buildTrainingSet', input)).cached).toBe(true);
    // New data in a view the set reads: built again.
    const extra = path.join(tmp, 'extra.csv');
    fs.writeFileSync(extra, 'date,precipitation,temp_max,temp_min,wind,weather\n2016-01-01,0.0,8,2,3,sun\n2016-01-02,3.0,7,1,3,rain\n');
    await run('more', 'ingestFile', { view: 'daily_weather', path: 'extra.csv' }, false);
    // A run's path may not reach out of the project's folder, by '..', an absolute path or a link.
    const outside = path.join(path.dirname(tmp), `outside-${path.basename(tmp)}.csv`);
    fs.copyFileSync(extra, outside);
    const link = path.join(tmp, 'link.csv');
    fs.symlinkSync(outside, link);
    try {
      for (const given of [`../${path.basename(outside)}`, outside, 'link.csv']) {
        const refused = await run('escape', 'ingestFile', { view: 'daily_weather', path: given }, false).catch((e: unknown) => e as Error);
        expect(refused, given).toBeInstanceOf(ValidationError);
        expect((refused as Error).message).toBe(
          `path "${given}" is outside the project's folder ${tmp}: a run may read only files inside it, or vega: datasets. Copy the file into the project, or declare it as the view's source in code.`,
        );
      }
    } finally {
      fs.rmSync(outside, { force: true });
      fs.rmSync(link, { force: true });
    }
    const rebuilt = await run('trainingSet', 'buildTrainingSet', input);
    expect(rebuilt.cached).toBe(false);
    expect(rebuilt.output.rows).toBe(1462);
    expect(await buildTrainingSetStep.implementation.access!(input, services)).toEqual([{ permission: 'train-on', resource: 'feature_view:daily_weather', sensitivity: 'public' }]);
  });
});
