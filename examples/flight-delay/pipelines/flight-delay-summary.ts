import { z } from 'zod';
import { definePipeline } from '../../../src/pipeline/definition.js';
import { ingestFlights, summarizeDelays } from '../steps/index.js';

/** The foundation demo: ingest US flights of 2001 and summarize departure delays per airport. */
export const flightDelaySummary = definePipeline({
  name: 'flight-delay-summary',
  description: 'Ingest flights from vega-datasets flights-3m.parquet and summarize departure delays per origin airport.',
  params: z.object({
    source: z.string().min(1).default('vega:flights-3m.parquet'),
    rows: z.coerce.number().int().positive().max(3_000_000).default(200_000),
    delayThresholdMinutes: z.coerce.number().int().min(0).default(15),
  }),
  steps: (p) => {
    const ingest = ingestFlights.step('ingest', { source: p.source, rows: p.rows });
    return [ingest, summarizeDelays.step('summarize', { ingestionId: ingest.output.ingestionId, delayThresholdMinutes: p.delayThresholdMinutes })];
  },
});
