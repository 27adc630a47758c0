/**
 * `steward features preview` and `steward features ingest` as a new user runs them: the real bin in
 * a child process, in the folder of a small project (its steward.config.ts imports the SDK from the
 * sources) over a temporary STEWARD_HOME (PGlite). Files from vega-datasets: weather.csv ingested
 * through the view's declared file source, another file given on the command line, JSON Lines, bad
 * input refused with nothing kept; cars.json previewed, and the declaration the preview prints
 * pasted into a second project, applied and ingested as it is.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../src/db/client.js';
import { vegaDataset } from '../../src/datasets/vega.js';
import { stewardBin } from '../support/processes.js';

const sdk = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const sdkFeatures = fileURLToPath(new URL('../../src/sdk/features.ts', import.meta.url));
const weatherCsv = vegaDataset('weather.csv');
const carsJson = vegaDataset('cars.json');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-ingest-cli-'));
const home = path.join(root, 'home');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell: none of this test run's Steward or database settings. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(STEWARD_|VITEST|TEMPORAL_|OTEL_)/i.test(key) || ['DATABASE_URL', 'NODE_OPTIONS'].includes(key)) continue;
    env[key] = value;
  }
  return { ...env, STEWARD_HOME: home, NO_COLOR: '1', FORCE_COLOR: '0' };
}

/** `steward <args>` in `cwd`, to completion. */
function steward(cwd: string, ...args: string[]): Promise<Ran> {
  const child = spawn(process.execPath, [stewardBin, ...args], { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A project folder with this steward.config.ts and data files. */
function project(name: string, config: string, data: Record<string, string | Buffer> = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, type: 'module' }));
  fs.writeFileSync(path.join(dir, 'steward.config.ts'), config);
  for (const [file, content] of Object.entries(data)) fs.writeFileSync(path.join(dir, file), content);
  return dir;
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Reads the view's offline rows from the PGlite database the CLI wrote (the CLI has exited). */
async function offlineRows(view: string, where: string): Promise<Array<Record<string, unknown>>> {
  const handle = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
  try {
    return await queryRows(handle.db, sql.raw(`select * from features.${view} where ${where}`));
  } finally {
    await handle.close();
  }
}

const weatherLines = fs.readFileSync(weatherCsv, 'utf8').trimEnd().split('\n');

describe('steward features preview and ingest, through the CLI', () => {
  let weather: string;
  beforeAll(() => {
    // Row 1,500 (line 1,501) says "n/a" where a number belongs.
    const bad = weatherLines.map((line, i) => (i === 1500 ? line.replace(/^([^,]*,[^,]*,)[^,]*/, '$1n/a') : line));
    weather = project(
      'weather',
      [
        `import { defineProject } from ${JSON.stringify(sdk)};`,
        `import { entity, featureView } from ${JSON.stringify(sdkFeatures)};`,
        `const location = entity({ name: 'location', joinKeys: { location: 'string' } });`,
        `export const dailyWeather = featureView({`,
        `  name: 'daily_weather', entities: [location], eventTimestamp: 'observed_at', ttl: '7d',`,
        `  schema: { precipitation: 'float64', temp_max: 'float64', temp_min: 'float64', wind: 'float64', weather: 'string' },`,
        `  owner: 'weather-team', description: 'Daily weather per city, known at the end of the day',`,
        `  source: { kind: 'file', path: 'data/weather.csv', timestamp: { column: 'date', offset: '1d' } },`,
        `});`,
        `export const forecasts = featureView({`,
        `  name: 'rain_forecasts', entities: [location], eventTimestamp: 'issued_at', schema: { rain_chance: 'float64' },`,
        `  owner: 'weather-team', description: 'Forecasts', source: { kind: 'pipeline', name: 'forecast-rain' },`,
        `});`,
        `export default defineProject({ name: 'weather-team', features: [location, dailyWeather, forecasts] });`,
      ].join('\n'),
      {
        'data/weather.csv': fs.readFileSync(weatherCsv),
        'data/weather-bad.csv': `${bad.join('\n')}\n`,
        'data/no-wind.csv': `${weatherLines.map((line) => line.split(',').filter((_, i) => i !== 5).join(',')).join('\n')}\n`,
        'data/portland.jsonl': [
          { location: 'Portland', date: '2015-06-01', precipitation: 1.5, temp_max: 21.1, temp_min: 11, wind: 3.2, weather: 'rain' },
          { location: 'Portland', date: '2015-06-02', precipitation: null, temp_max: '23.9', temp_min: 12.2, wind: 2.1, weather: 'sun' },
        ]
          .map((row) => JSON.stringify(row))
          .join('\n'),
      },
    );
  });

  it('teaches by example in --help', async () => {
    const [ingestHelp, previewHelp] = await Promise.all([steward(root, 'features', 'ingest', '--help'), steward(root, 'features', 'preview', '--help')]);
    expect(ingestHelp.stdout).toContain('Usage: steward features ingest [options] <view> [file]');
    expect(ingestHelp.stdout).toContain('steward features ingest daily_weather data/2024.csv');
    expect(ingestHelp.stdout).toContain('csv, json, jsonl, parquet, arrow');
    expect(previewHelp.stdout).toContain('Usage: steward features preview [options] <file>');
    expect(previewHelp.stdout).toContain('steward features preview data/weather.csv');
  });

  it("previews weather.csv: the columns' types, the first rows and a view declaration", async () => {
    const shown = await steward(weather, 'features', 'preview', 'data/weather.csv');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('data/weather.csv (csv): 7 columns, types guessed from the first 1,000 rows');
    expect(shown.stdout).toMatch(/^ {2}location\s+string$/m);
    expect(shown.stdout).toMatch(/^ {2}date\s+timestamp$/m);
    expect(shown.stdout).toMatch(/^ {2}precipitation\s+float64$/m);
    expect(shown.stdout).toMatch(/^ {2}Seattle\s+2012-01-02\s+10\.9\s+10\.6\s+2\.8\s+4\.5\s+rain$/m);
    expect(shown.stdout).toContain("const location = entity({ name: 'location', joinKeys: { location: 'string' } });");
    expect(shown.stdout).toContain("eventTimestamp: 'date',");
    expect(shown.stdout).toContain("source: { kind: 'file', path: 'data/weather.csv' },");

    const all = JSON.parse((await steward(weather, '--json', 'features', 'preview', 'data/weather.csv', '--rows', '5000')).stdout) as { rows: number; columns: Record<string, string> };
    expect(all.rows).toBe(2922);
    expect(all.columns).toEqual({ location: 'string', date: 'timestamp', precipitation: 'float64', temp_max: 'float64', temp_min: 'float64', wind: 'float64', weather: 'string' });
  });

  it("ingests the view's declared file with progress and a summary, and the same content again writes nothing", async () => {
    const notApplied = await steward(weather, 'features', 'ingest', 'daily_weather');
    expect(notApplied.code).toBe(1);
    expect(notApplied.stderr).toContain('error: The feature view "daily_weather" is not registered. Run `steward apply` first.');

    const applied = await steward(weather, 'apply');
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('  + feature view daily_weather (v1)');

    const first = await steward(weather, 'features', 'ingest', 'daily_weather', '--batch-rows', '1000');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^daily_weather <- data\/weather\.csv: 1,000 rows so far \(1 batch\)$/m);
    const hash = new RegExp(`^ {2}content hash: {2}sha256:${sha256(weatherCsv)}:mapping=[0-9a-f]{16}$`, 'm');
    expect(first.stdout).toContain('Ingested 2,922 rows into daily_weather in 3 batches from data/weather.csv (csv).');
    expect(first.stdout).toMatch(/^ {2}rows written: {2}2,922$/m);
    expect(first.stdout).toMatch(/^ {2}skipped: {7}none$/m);
    expect(first.stdout).toMatch(hash);
    const id = /^ {2}ingestion: {5}(\d+)$/m.exec(first.stdout)?.[1];
    expect(id).toBeDefined();

    const again = await steward(weather, 'features', 'ingest', 'daily_weather');
    expect(again.stdout).toContain('data/weather.csv was already ingested into daily_weather: nothing written.');
    expect(again.stdout).toMatch(/^ {2}rows written: {2}0$/m);
    expect(again.stdout).toMatch(/^ {2}skipped: {7}2,922 rows, ingested before with this content$/m);
    expect(again.stdout).toMatch(hash);

    // Another file, given on the command line (JSON Lines), read with the view's mapping.
    const more = await steward(weather, '--json', 'features', 'ingest', 'daily_weather', 'data/portland.jsonl');
    expect(more.code, more.stderr).toBe(0);
    const result = JSON.parse(more.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ view: 'daily_weather', rows: 2, reused: false, format: 'jsonl', path: path.join(weather, 'data/portland.jsonl'), sha256: sha256(path.join(weather, 'data/portland.jsonl')) });
    expect(Number(result.ingestionId)).toBeGreaterThan(Number(id));

    // The values landed as declared: the event time is the day's end (date + 1d), text became numbers, null stayed null.
    const rows = await offlineRows('daily_weather', `(location = 'Seattle' and observed_at = '2012-01-02T00:00:00Z') or (location = 'Portland' and observed_at = '2015-06-03T00:00:00Z') order by location`);
    expect(rows.map((r) => [r.location, new Date(r.observed_at as string).toISOString(), r.precipitation, r.temp_max, r.weather])).toEqual([
      ['Portland', '2015-06-03T00:00:00.000Z', null, 23.9, 'sun'],
      ['Seattle', '2012-01-02T00:00:00.000Z', 0, 12.8, 'drizzle'],
    ]);
    expect(await offlineRows('daily_weather', 'true')).toHaveLength(2924);
  });

  it('refuses bad input with an error line and exit 1, keeping nothing', async () => {
    const bad = await steward(weather, 'features', 'ingest', 'daily_weather', 'data/weather-bad.csv', '--batch-rows', '500');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain(
      `error: ${path.join(weather, 'data/weather-bad.csv')}, row 1500 (line 1501): column "precipitation" (feature of feature view "daily_weather") is "n/a", not a number (declared float64).`,
    );
    expect(bad.stderr).not.toContain('    at ');
    const shown = JSON.parse((await steward(weather, '--json', 'features', 'show', 'daily_weather')).stdout) as { offlineRows: number; ingestions: { complete: number; failed: number } };
    expect(shown).toMatchObject({ offlineRows: 2924, ingestions: { complete: 2, failed: 1 } });

    const missing = await steward(weather, 'features', 'ingest', 'daily_weather', 'data/no-wind.csv');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`has no column "wind" (the view's feature, float64) for feature view "daily_weather". Its columns are location, date, precipitation, temp_max, temp_min, weather.`);

    const [noFile, unknown, format] = await Promise.all([
      steward(weather, 'features', 'ingest', 'rain_forecasts'),
      steward(weather, 'features', 'ingest', 'rain_tomorrow'),
      steward(weather, 'features', 'ingest', 'daily_weather', 'data/weather.csv', '--format', 'xlsx'),
    ]);
    expect(noFile.stderr).toContain('error: Feature view "rain_forecasts" declares no file to ingest (its rows come from pipeline "forecast-rain"). Give one: steward features ingest rain_forecasts <file>;');
    expect(noFile.stderr).toContain("source: { kind: 'file', path: 'data/….csv' }");
    expect(unknown.stderr).toMatch(/error: The project has no feature view "rain_tomorrow"\. Its feature views: .*daily_weather.*rain_forecasts/);
    expect(format.stderr).toContain('error: --format must be one of csv, json, jsonl, parquet, arrow, got "xlsx".');
    expect([noFile.code, unknown.code, format.code]).toEqual([1, 1, 1]);
  });

  it("declares a view for cars.json from the preview's declaration, as pasted, and ingests it", async () => {
    const cars = project('cars', '', { 'data/cars.json': fs.readFileSync(carsJson) });
    const preview = await steward(cars, '--json', 'features', 'preview', 'data/cars.json');
    expect(preview.code, preview.stderr).toBe(0);
    const { columns, sample, view, entity, declaration } = JSON.parse(preview.stdout) as {
      columns: Record<string, string>;
      sample: Array<Record<string, unknown>>;
      view: string;
      entity: string;
      declaration: string;
    };
    expect(columns).toMatchObject({ Name: 'string', Miles_per_Gallon: 'float64', Cylinders: 'int64', Year: 'timestamp', Origin: 'string' });
    expect(sample[0]).toMatchObject({ Name: 'chevrolet chevelle malibu', Miles_per_Gallon: 18, Year: '1970-01-01' });
    expect([view, entity]).toEqual(['cars', 'name']);
    expect(declaration).toContain("miles_per_gallon: 'Miles_per_Gallon',");

    fs.writeFileSync(
      path.join(cars, 'steward.config.ts'),
      `import { defineProject } from ${JSON.stringify(sdk)};\n${declaration.replace("'steward/features'", JSON.stringify(sdkFeatures))}\nexport default defineProject({ name: 'cars-team', features: [name, cars] });\n`,
    );
    expect((await steward(cars, 'apply')).stdout).toContain('  + feature view cars (v1)');
    const ingested = await steward(cars, 'features', 'ingest', 'cars');
    expect(ingested.code, ingested.stderr).toBe(0);
    const rows = (JSON.parse(fs.readFileSync(carsJson, 'utf8')) as unknown[]).length;
    expect(ingested.stdout).toContain(`Ingested ${rows} rows into cars in 1 batch from data/cars.json (json).`);
    const malibu = await offlineRows('cars', `name = 'chevrolet chevelle malibu' order by year`);
    expect(malibu.map((r) => [new Date(r.year as string).toISOString(), r.miles_per_gallon, Number(r.cylinders), Number(r.horsepower), r.origin])).toEqual([
      ['1970-01-01T00:00:00.000Z', 18, 8, 130, 'USA'],
      ['1971-01-01T00:00:00.000Z', 17, 6, 100, 'USA'],
    ]);
  });
});
