/**
 * Ingests a flights file (vega-datasets flights-3m.parquet, or any Parquet file with its columns)
 * into raw_flights, idempotently by content: a second ingestion of the same rows is reused.
 */
import { z } from 'zod';
import { ingestFlights as ingest, sourceFingerprint } from '../data/flights.js';
import { rowCountFacets, sourceDataset } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { rawFlightsDataset } from '../data/schema.js';

export const ingestFlights = defineStep({
  name: 'ingestFlights',
  version: '1',
  description: 'Ingest a flights file into raw_flights (idempotent by content).',
  input: z.object({
    /** A file path, or `vega:<file>` for a file vega-datasets ships. */
    source: z.string().min(1),
    /** The first `rows` rows of the file (all of them when omitted). */
    rows: z.number().optional(),
  }),
  output: z.object({
    ingestionId: z.string(),
    rows: z.number(),
    /** sha256 of the source file and the row range read from it. */
    contentHash: z.string(),
    /** True when an identical ingestion already existed and was reused. */
    reused: z.boolean(),
  }),
  // Parquet is decoded in a thread of the CPU pool; rows written become the step's heartbeat details.
  run: (input, ctx) =>
    ingest(ctx.db, input.source, {
      ...ctx.writeOptions,
      rows: input.rows,
      onProgress: (written, total) => ctx.progress({ written, total }),
      cpu: { pool: ctx.cpu.pool, signal: ctx.signal },
    }),
  // The file's content, not its name, decides whether a cached ingestion still holds.
  fingerprint: (input) => sourceFingerprint(input.source),
  lineage: (input, { output }) => ({
    inputs: [sourceDataset(input.source)],
    outputs: output ? [{ ...rawFlightsDataset(output.ingestionId), outputFacets: rowCountFacets(output.rows) }] : [],
  }),
  access: () => [{ permission: 'write', resource: 'dataset:raw_flights', sensitivity: 'internal' }],
  startToCloseTimeout: '30 minutes',
});
