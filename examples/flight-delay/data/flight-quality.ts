/**
 * The data-quality gate for ingested raw flights: the raw-flights expectation suite
 * (examples/flight-delay/data/flight-expectations.ts) over one ingestion. A failed expectation stops the pipeline
 * (a non-retryable failure) with a report of every check, its observed value, and sample offending
 * rows; the report is stored and attached to the step's lineage events.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../../../src/db/client.js';
import { rawFlightExpectations } from './flight-expectations.js';
import { runExpectations, type QualityReport } from '../../../src/governance/expectations.js';

export type { ExpectationResult, QualityReport } from '../../../src/governance/expectations.js';

export async function checkFlightQuality(
  db: Database,
  ingestionId: string,
  options: { minRows: number; key?: string; runId?: string },
): Promise<QualityReport & { key: string }> {
  const key = options.key ?? `quality:raw-flights:${ingestionId}:${options.minRows}`;
  const report = await runExpectations(db, rawFlightExpectations(options), { where: sql`ingestion_id = ${ingestionId}`, key, runId: options.runId });
  return { ...report, key };
}
