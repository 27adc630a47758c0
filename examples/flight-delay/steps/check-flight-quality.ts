/**
 * The data-quality gate on an ingestion's raw flights (examples/flight-delay/data/flight-quality.ts): a failed
 * expectation fails the step without retry, with the report; the report rides on its lineage events.
 */
import { z } from 'zod';
import type { Database } from '../../../src/db/client.js';
import { checkFlightQuality as check } from '../data/flight-quality.js';
import { qualityFacets, readQualityReport, type QualityReport } from '../../../src/governance/expectations.js';

import type { InputDataset } from '../../../src/lineage/openlineage.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { rawFlightsDataset } from '../data/schema.js';

/** The report of a quality step: from the stored results when it passed, from the error when it failed. */
async function qualityReportOf(db: Database, result: { output?: { resultKey: string }; error?: unknown }): Promise<QualityReport | undefined> {
  if (typeof result.output?.resultKey === 'string') return readQualityReport(db, result.output.resultKey);
  const details = (result.error as { details?: { report?: QualityReport } } | undefined)?.details;
  return details?.report;
}

export const checkFlightQuality = defineStep({
  name: 'checkFlightQuality',
  version: '1',
  description: "Run the raw-flights expectation suite over an ingestion; stop the pipeline when one fails.",
  input: z.object({
    ingestionId: z.string().min(1),
    minRows: z.number(),
  }),
  output: z.object({
    passed: z.boolean(),
    rows: z.number(),
    /** How many expectations were checked. */
    expectations: z.number(),
    /** Where the stored report is (readQualityReport). */
    resultKey: z.string(),
  }),
  run: async (input, ctx) => {
    const report = await check(ctx.db, input.ingestionId, { minRows: input.minRows, key: `quality:${ctx.idempotencyKey}`, runId: ctx.runId });
    return { passed: report.passed, rows: report.rows, expectations: report.results.length, resultKey: report.key };
  },
  lineage: async (input, result, services) => {
    const report = await qualityReportOf(services.db, result);
    const dataset: InputDataset = { ...rawFlightsDataset(input.ingestionId), ...(report ? { inputFacets: qualityFacets(report) } : {}) };
    return { inputs: [dataset] };
  },
});
