/** Ingests a Parquet or Arrow file into a feature view's offline store, idempotently by content. */
import { z } from 'zod';
import { resolveSource } from '../data/flights.js';
import { ingest } from '../../../src/features/ingestion.js';
import { arrowSource, parquetSource, sha256File } from '../../../src/features/sources.js';
import { featureViewDataset, rowCountFacets, sourceDataset } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';

export const ingestFeatures = defineStep({
  name: 'ingestFeatures',
  version: '1',
  description: "Ingest a Parquet or Arrow file into a feature view's offline store.",
  input: z.object({
    view: z.string().min(1),
    /** A file path (`.parquet`, otherwise Arrow IPC), or `vega:<file>`. */
    source: z.string().min(1),
    /** What a non-finite number does: refuse the file (default), or be stored as null. */
    nonFinite: z.enum(['refuse', 'null']).optional(),
    /** Rows per write transaction. */
    batchRows: z.number().optional(),
  }),
  output: z.object({
    ingestionId: z.number(),
    view: z.string(),
    source: z.string(),
    contentHash: z.string(),
    rows: z.number(),
    batches: z.number(),
    /** True when this content was already ingested into the view: nothing was written. */
    reused: z.boolean(),
    /** Batches found already written by an interrupted attempt and skipped. */
    batchesSkipped: z.number(),
    /** Per column, how many non-finite numbers were stored as null. */
    nonFiniteAsNull: z.record(z.string(), z.number()),
  }),
  run: async (input, ctx) => {
    const file = resolveSource(input.source);
    const source = file.endsWith('.parquet') ? await parquetSource(file) : await arrowSource(file);
    return ingest(ctx.db, input.view, source, { nonFinite: input.nonFinite, batchRows: input.batchRows, onProgress: (p) => ctx.progress(p) });
  },
  fingerprint: async (input) => sha256File(resolveSource(input.source)),
  lineage: (input, { output }) => ({
    inputs: [sourceDataset(input.source)],
    outputs: [{ ...featureViewDataset(input.view), ...(output ? { outputFacets: rowCountFacets(output.rows) } : {}) }],
  }),
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
});
