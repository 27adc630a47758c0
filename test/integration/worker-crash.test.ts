/**
 * Kill the worker with SIGKILL in the middle of the demo, right after a step committed its write
 * and before Temporal heard it finished, then start a new worker: the run completes, and every
 * database write happened exactly once. Real worker processes (`steward worker`), real Temporal,
 * on each database driver.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { count, eq, like } from 'drizzle-orm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunPipelineResult } from '../../src/contracts.js';
import { openDatabase } from '../../src/db/client.js';
import { idempotencyKeys, ingestions } from '../../src/db/schema.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { pipelines } from '../support/projects.js';
import { createTestDatabase, describeEachDriver, type TestDatabase } from '../support/databases.js';
import { spawnSteward } from '../support/processes.js';
import { demoOutputs, startTemporal } from '../support/temporal.js';
import { delaySummaries, rawFlights } from '../../examples/flight-delay/data/schema.js';

describeEachDriver('worker killed mid-run', (driver) => {
  let env: TestWorkflowEnvironment;
  let testDb: TestDatabase;
  let home: string;

  beforeAll(async () => {
    [env, testDb] = await Promise.all([startTemporal(), createTestDatabase(driver)]);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-home-'));
  });
  afterAll(async () => {
    await testDb?.destroy();
    await env?.teardown();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const workerEnv = (taskQueue: string, fault?: string): NodeJS.ProcessEnv => ({
    TEMPORAL_ADDRESS: env.address,
    STEWARD_TASK_QUEUE: taskQueue,
    STEWARD_HOME: home,
    DATABASE_URL: testDb.url ?? '',
    STEWARD_FAULT_CRASH_AFTER_COMMIT: fault ?? '',
  });
  const database = () => openDatabase({ url: testDb.url, pgliteDir: path.join(home, 'pglite') });

  for (const step of ['ingest', 'summarize'] as const) {
    it(`completes the run with each write done once when the worker dies right after "${step}" commits`, async () => {
      const taskQueue = `crash-${driver}-${step}`;
      const rows = step === 'ingest' ? 4_000 : 4_100;
      const { runId } = await startRun(env.client, taskQueue, findPipeline(pipelines, 'flight-delay-summary'), { rows: String(rows) });

      const doomed = spawnSteward(['worker'], workerEnv(taskQueue, step));
      const death = await doomed.exited;
      expect(death.signal, doomed.output()).toBe('SIGKILL');

      const rescuer = spawnSteward(['worker'], workerEnv(taskQueue));
      const result = demoOutputs((await env.client.workflow.getHandle(runId).result()) as RunPipelineResult);
      rescuer.child.kill('SIGTERM');
      const stopped = await rescuer.exited;
      expect(stopped.code, `graceful shutdown on SIGTERM:\n${rescuer.output()}`).toBe(0);

      // Steps that had finished before the crash were not run again: one scheduling each.
      const events = (await env.client.workflow.getHandle(runId).fetchHistory()).events ?? [];
      const scheduled = (id: string) => events.filter((e) => e.activityTaskScheduledEventAttributes?.activityId === id).length;
      expect({ ingest: scheduled('ingest'), summarize: scheduled('summarize') }).toEqual({ ingest: 1, summarize: 1 });
      const attempts = events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [Number(e.activityTaskStartedEventAttributes.attempt)] : []));
      // The interrupted step ran twice, as attempt 2 of its single scheduling.
      expect(Math.max(...attempts)).toBe(2);

      // The retried step found its own committed write and did not repeat it.
      expect(step === 'ingest' ? result.ingestion.reused : result.summary.reused).toBe(true);
      expect(result.summary.flights).toBe(rows);

      const handle = await database();
      try {
        const { db } = handle;
        const [ingested] = await db.select({ n: count() }).from(ingestions).where(eq(ingestions.id, result.ingestion.ingestionId));
        const [flights] = await db.select({ n: count() }).from(rawFlights).where(eq(rawFlights.ingestionId, result.ingestion.ingestionId));
        const [summaries] = await db.select({ n: count() }).from(delaySummaries).where(eq(delaySummaries.id, result.summary.summaryId));
        const [keys] = await db.select({ n: count() }).from(idempotencyKeys).where(like(idempotencyKeys.key, `%${runId}%`));
        expect({ ingested: ingested?.n, flights: flights?.n, summaries: summaries?.n, summaryKeys: keys?.n }).toEqual({
          ingested: 1,
          flights: rows,
          summaries: 1,
          summaryKeys: 1,
        });
      } finally {
        await handle.close();
      }
    });
  }
});
