/**
 * Loads the daily weather observations from a CSV file in the project and keeps them as an Arrow
 * table in the artifact store. The file's content is part of the step's cache key (fingerprint),
 * so editing the CSV makes the next run load it again; an unchanged file is loaded once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineStep, artifactDataset, rowCountFacets, sourceDataset, ValidationError, z } from 'steward';
import { putTable, readCsv, readTimes, sha256File } from 'steward/data';

/** The project's root folder: relative paths in the pipeline's parameters are resolved against it. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

const COLUMNS = ['date', 'precipitation', 'temp_max', 'temp_min', 'wind', 'weather'] as const;

export const loadWeather = defineStep({
  name: 'weather.load',
  version: '1',
  description: 'Read the daily weather CSV into an Arrow table artifact',
  input: z.object({
    /** A CSV file with the columns of vega-datasets' seattle-weather.csv, relative to the project's root. */
    file: z.string().min(1),
  }),
  output: z.object({
    datasetUri: z.string(),
    rows: z.number().int().nonnegative(),
    from: z.string(),
    to: z.string(),
  }),
  async run(input, ctx) {
    const file = path.resolve(projectRoot, input.file);
    const table = await readCsv(file, {
      columns: COLUMNS,
      types: { date: 'timestamp', precipitation: 'float64', temp_max: 'float64', temp_min: 'float64', wind: 'float64', weather: 'string' },
    });
    if (table.numRows < 30) throw new ValidationError(`${input.file} has ${table.numRows} days of weather; the model needs at least 30.`, { file: input.file });
    const days = readTimes(table.getChild('date')!);
    const artifact = await putTable(ctx.artifacts, table);
    ctx.logger?.info(`Loaded ${table.numRows} days of weather from ${input.file}`);
    return {
      datasetUri: artifact.uri,
      rows: table.numRows,
      from: new Date(Math.min(...days)).toISOString().slice(0, 10),
      to: new Date(Math.max(...days)).toISOString().slice(0, 10),
    };
  },
  // The file is read beyond the input (a path): its content hash keys the cache.
  fingerprint: (input) => sha256File(path.resolve(projectRoot, input.file)),
  lineage: (input, { output }) => ({
    inputs: [sourceDataset(input.file)],
    outputs: output ? [artifactDataset(output.datasetUri, rowCountFacets(output.rows))] : [],
  }),
});
