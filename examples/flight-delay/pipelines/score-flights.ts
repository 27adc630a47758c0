import { z } from 'zod';
import { definePipeline } from '../../../src/pipeline/definition.js';
import { scoreBatch } from '../../../pipelines/steps/index.js';

/** Column names from `--param keep=a,b` (a string) or an array (the HTTP API). */
const columnList = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((c) => c.trim()).filter(Boolean) : value),
  z.array(z.string().min(1)),
);

/** Batch scoring: a registered flight-delay version scores a Parquet or Arrow file into an artifact. */
export const scoreFlights = definePipeline({
  name: 'score-flights',
  description: 'Score a Parquet or Arrow file of flights with a registered model version, in bounded batches, into an Arrow or Parquet artifact.',
  params: z.object({
    model: z.string().min(1).default('flight-delay'),
    version: z.string().min(1).default('champion'),
    input: z.string().min(1),
    outputFormat: z.enum(['arrow', 'parquet']).default('arrow'),
    keep: columnList.default([]),
    batchSize: z.coerce.number().int().positive().default(65_536),
  }),
  steps: (p) => [
    scoreBatch.step('score', {
      model: p.model,
      version: p.version,
      input: p.input,
      outputFormat: p.outputFormat,
      keep: p.keep,
      batchSize: p.batchSize,
    }),
  ],
});
