/**
 * The demo pipeline on a real Temporal dev server, against each database driver: both activities
 * run through Temporal, the run is findable by its search attributes, its state is queryable, and a
 * second run reuses the ingested data instead of writing it again.
 */
import { expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import type { RunPipelineResult, RunState } from '../../src/contracts.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { getRunReport, startRun } from '../../src/pipeline/runs.js';
import { pipelines } from '../support/projects.js';
import { describeEachDriver } from '../support/databases.js';
import { demoOutputs, useTemporalWorker } from '../support/temporal.js';
import { delaySummaries, rawFlights } from '../../examples/flight-delay/data/schema.js';

describeEachDriver('flight-delay-summary on real Temporal', (driver) => {
  const harness = useTemporalWorker(driver, `demo-${driver}`);
  const taskQueue = harness.taskQueue;
  const entry = findPipeline(pipelines, 'flight-delay-summary');

  it('runs both steps through Temporal and reports them', async () => {
    const { runId } = await startRun(harness.env.client, taskQueue, entry, { rows: '3000' });
    const result = demoOutputs((await harness.env.client.workflow.getHandle(runId).result()) as RunPipelineResult);
    expect(result.ingestion).toMatchObject({ rows: 3_000, reused: false });
    expect(result.summary).toMatchObject({ flights: 3_000, reused: false });

    const [stored] = await harness.database.db.select({ n: count() }).from(rawFlights).where(eq(rawFlights.ingestionId, result.ingestion.ingestionId));
    expect(stored?.n).toBe(3_000);

    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('COMPLETED');
    expect(report.pipeline).toBe('flight-delay-summary');
    expect(report.state?.steps.map((s) => [s.name, s.status])).toEqual([
      ['ingest', 'completed'],
      ['summarize', 'completed'],
    ]);
    expect(report.state?.steps.map((s) => s.cached)).toEqual([false, false]);
    const queried = await harness.env.client.workflow.getHandle(runId).query<RunState>('runState');
    expect(queried.status).toBe('completed');
  });

  it('makes runs findable by pipeline and status search attributes', async () => {
    const { runId } = await startRun(harness.env.client, taskQueue, entry, { rows: '500' });
    await harness.env.client.workflow.getHandle(runId).result();
    let found: string[] = [];
    // Visibility is eventually consistent: poll briefly.
    for (let i = 0; i < 50 && !found.includes(runId); i++) {
      found = [];
      for await (const w of harness.env.client.workflow.list({ query: `StewardPipeline = "flight-delay-summary" AND StewardStatus = "completed"` })) {
        found.push(w.workflowId);
      }
      if (!found.includes(runId)) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toContain(runId);
  });

  it('reuses identical ingested data when caching is off, writing nothing twice', async () => {
    const first = await startRun(harness.env.client, taskQueue, entry, { rows: '3000' }, { cache: false });
    const firstResult = demoOutputs((await harness.env.client.workflow.getHandle(first.runId).result()) as RunPipelineResult);
    expect(firstResult.ingestion.reused).toBe(true);
    expect(firstResult.summary.reused).toBe(false);
    const [rows] = await harness.database.db.select({ n: count() }).from(rawFlights).where(eq(rawFlights.ingestionId, firstResult.ingestion.ingestionId));
    expect(rows?.n).toBe(3_000);
    const [summaries] = await harness.database.db.select({ n: count() }).from(delaySummaries).where(eq(delaySummaries.id, firstResult.summary.summaryId));
    expect(summaries?.n).toBe(1);
  });

  it('fails fast, without retries, on input that can never succeed, and reports the step', async () => {
    const { runId } = await startRun(harness.env.client, taskQueue, entry, { source: '/no/such/flights.parquet', rows: '10' });
    await expect(harness.env.client.workflow.getHandle(runId).result()).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('FAILED');
    expect(report.failure).toContain('Step "ingest" failed: Flights file not found: /no/such/flights.parquet');
    expect(report.state?.steps[0]).toMatchObject({ name: 'ingest', status: 'failed', errorType: 'NOT_FOUND' });
    expect(report.state?.steps[1]).toMatchObject({ name: 'summarize', status: 'skipped' });
    expect(report.state?.failedStep).toBe('ingest');
    const history = await harness.env.client.workflow.getHandle(runId).fetchHistory();
    const events = history.events ?? [];
    const ingest = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === 'ingest');
    const started = events.filter((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(ingest?.eventId));
    expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);
  });
});
