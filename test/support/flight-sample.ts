/**
 * A small Parquet file of real flights for feature-store tests: every 300th flight of vega-datasets
 * flights-3m (about 10,000 flights spread over January to June 2001, so that 1-hour to 30-day windows
 * all fill and empty), written once per machine into the OS temp folder and reused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteFile } from 'hyparquet-writer';
import { vegaDataset } from '../../src/datasets/vega.js';

export const SAMPLE_EVERY = 300;

let pending: Promise<string> | undefined;

export function flightSampleFile(): Promise<string> {
  pending ??= writeSample();
  return pending;
}

async function writeSample(): Promise<string> {
  const target = path.join(os.tmpdir(), `steward-flights-every-${SAMPLE_EVERY}.parquet`);
  if (fs.existsSync(target)) return target;
  const file = await asyncBufferFromFile(vegaDataset('flights-3m.parquet'));
  const metadata = await parquetMetadataAsync(file);
  const rows = Number(metadata.num_rows);
  const kept = Math.ceil(rows / SAMPLE_EVERY);
  const columns = { date: new Array<number>(kept), delay: new Array<bigint>(kept), distance: new Array<bigint>(kept), origin: new Array<string>(kept), destination: new Array<string>(kept) };
  await parquetRead({
    file,
    metadata,
    compressors,
    columns: Object.keys(columns),
    parsers: { timestampFromMicroseconds: (micros: bigint) => Number(micros / 1000n) },
    onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
      const target = columns[columnName as keyof typeof columns] as unknown[];
      for (let r = rowStart; r < rowEnd; r++) if (r % SAMPLE_EVERY === 0) target[r / SAMPLE_EVERY] = columnData[r - rowStart];
    },
  });
  const partial = `${target}.${process.pid}.tmp`;
  parquetWriteFile({
    filename: partial,
    columnData: [
      { name: 'date', data: columns.date.map((ms) => new Date(ms)), type: 'TIMESTAMP' },
      { name: 'delay', data: columns.delay, type: 'INT64' },
      { name: 'distance', data: columns.distance, type: 'INT64' },
      { name: 'origin', data: columns.origin, type: 'STRING' },
      { name: 'destination', data: columns.destination, type: 'STRING' },
    ],
  });
  fs.renameSync(partial, target);
  return target;
}
