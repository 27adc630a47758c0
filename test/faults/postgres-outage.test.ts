/**
 * PostgreSQL stops for 30 s in the middle of a run under `steward dev` (DATABASE_URL set): once
 * while the flights are being ingested, once while the models are being trained. The `steward dev`
 * process stays up (no uncaught postgres.js TypeError), the attempt cut off by the outage fails
 * as a retryable UNAVAILABLE failure, the run completes once the server is back, and every write
 * happened exactly once. The server is a private cluster on its own port (test/support/
 * private-postgres.ts), never the shared one; Temporal is a test dev server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { RunPipelineResult } from '../../src/contracts.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { firstFreePort } from '../../src/platform/ports.js';
import { pipelines } from '../support/projects.js';
import { postgresBinDir, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { runSteward, spawnSteward, waitForOutput, type Spawned } from '../support/processes.js';
import { bundleCacheDir, startTemporal } from '../support/temporal.js';

const OUTAGE_MS = 30_000;
/** A safety net for a loaded machine, not a gate: a run takes its time, then the outage, then the retry. */
const OUTAGE_TEST_TIMEOUT_MS = 300_000;
const binDir = postgresBinDir();
if (!binDir) {
  process.stderr.write(
    '\n[steward tests] PostgreSQL server binaries (initdb, pg_ctl, postgres) not found, nor STEWARD_PG_BIN: the PostgreSQL outage tests are SKIPPED.\n\n',
  );
}

type Events = temporal.api.history.v1.IHistoryEvent[];

const title = 'PostgreSQL stopped for 30 s in the middle of a run under `steward dev`';

describe.skipIf(!binDir)(binDir ? title : `${title} (SKIPPED: no PostgreSQL server binaries)`, () => {
  let env: TestWorkflowEnvironment;
  let pg: PrivatePostgres;
  let databaseUrl: string;
  let home: string;
  let dev: Spawned;
  let cliEnv: NodeJS.ProcessEnv;
  const taskQueue = 'postgres-outage';

  beforeAll(async () => {
    [env, pg] = await Promise.all([startTemporal(), startPrivatePostgres()]);
    databaseUrl = await pg.createDatabase('steward_outage');
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-outage-home-'));
    // The workflow bundle `steward dev` caches under STEWARD_HOME/cache is the one the test workers cache: bundle once.
    fs.mkdirSync(bundleCacheDir, { recursive: true });
    fs.symlinkSync(bundleCacheDir, path.join(home, 'cache'));
    const apiPort = await firstFreePort(18_000 + Math.floor(Math.random() * 2_000), 200);
    const scorerPort = await firstFreePort(21_000 + Math.floor(Math.random() * 2_000), 200);
    cliEnv = {
      TEMPORAL_ADDRESS: env.address,
      STEWARD_TASK_QUEUE: taskQueue,
      STEWARD_HOME: home,
      DATABASE_URL: databaseUrl,
      STEWARD_API_PORT: String(apiPort),
      STEWARD_SCORER_PORT: String(scorerPort),
      STEWARD_LOG_LEVEL: 'info',
    };
    dev = spawnSteward(['dev'], cliEnv);
    await waitForOutput(dev, /Steward is up\./, 120_000);
  });

  afterAll(async () => {
    if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
      dev.child.kill('SIGTERM');
      await dev.exited;
    }
    await env?.teardown();
    await pg?.destroy();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  const alive = () => dev.child.exitCode === null && dev.child.signalCode === null;

  /** Polls `check` until it returns a value; fails early, with the process output, if `steward dev` died. */
  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!alive()) throw new Error(`steward dev exited while waiting for ${what}:\n${dev.output()}`);
      const value = await check().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}.\n${dev.output()}`);
      await sleep(50);
    }
  }

  /** The outage: a fast shutdown (as `systemctl stop postgresql`), 30 s down, a start. */
  async function outage(): Promise<void> {
    await pg.stop();
    const back = Date.now() + OUTAGE_MS;
    while (Date.now() < back) {
      expect(alive(), `steward dev died while PostgreSQL was down:\n${dev.output()}`).toBe(true);
      await sleep(500);
    }
    await pg.start();
  }

  /** A query on the Steward database with a connection of its own (none is open during the outage). */
  async function query<T extends Record<string, unknown>>(text: string, params: (string | number)[] = []): Promise<T[]> {
    const sql = postgres(databaseUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
    try {
      return (await sql.unsafe(text, params)) as unknown as T[];
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
  const countOf = async (text: string, params: (string | number)[] = []) => Number((await query<{ n: number }>(text, params))[0]!.n);

  /** How a step's activity went in the run's history: schedulings, the attempt that finished it, the failure before it. */
  function stepAttempts(events: Events, step: string) {
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityId === step);
    const ids = new Set(scheduled.map((e) => String(e.eventId)));
    const started = events.filter((e) => e.activityTaskStartedEventAttributes && ids.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)));
    const last = started.at(-1)?.activityTaskStartedEventAttributes;
    return {
      scheduled: scheduled.length,
      attempt: Number(last?.attempt ?? 0),
      lastFailure: last?.lastFailure ? { type: last.lastFailure.applicationFailureInfo?.type, nonRetryable: !!last.lastFailure.applicationFailureInfo?.nonRetryable, message: last.lastFailure.message ?? '' } : undefined,
    };
  }

  async function finish(runId: string): Promise<{ result: RunPipelineResult; events: Events; status: string }> {
    const handle = env.client.workflow.getHandle(runId);
    const result = (await handle.result()) as RunPipelineResult;
    const events = (await handle.fetchHistory()).events ?? [];
    const { code, output } = await runSteward(['status', runId], cliEnv);
    expect(code, output).toBe(0);
    return { result, events, status: output };
  }

  /** What the outage must have done to the step it hit, as Temporal recorded it and `steward status` shows it. */
  function expectRetriedThroughOutage(events: Events, status: string, step: string): void {
    const attempts = stepAttempts(events, step);
    // Scheduled once; the attempt the outage cut off failed as a retryable UNAVAILABLE failure and a later attempt finished it.
    expect(attempts.scheduled).toBe(1);
    expect(attempts.attempt).toBeGreaterThanOrEqual(2);
    expect(attempts.lastFailure).toMatchObject({ type: 'UNAVAILABLE', nonRetryable: false, message: expect.stringContaining('The database did not answer') });
    expect(status).toMatch(new RegExp(`✓ ${step}\\s+completed \\(attempt ${attempts.attempt}\\)`));
    // Nothing failed for good (retried attempts leave no failure event, only the started event's lastFailure).
    for (const event of events) {
      const failure = event.activityTaskFailedEventAttributes?.failure;
      expect(failure, JSON.stringify(failure)).toBeUndefined();
    }
  }

  function expectDevSawTheOutage(): void {
    expect(alive(), dev.output()).toBe(true);
    const output = dev.output();
    expect(output).toMatch(/PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/steward_outage did not answer/);
    expect(output).toMatch(/PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/steward_outage answers again/);
    expect(output).not.toMatch(/Uncaught|TypeError: Cannot read properties of null/);
  }

  it('survives a stop during ingestion: the run completes and every flight is ingested once', async () => {
    const rows = 20_000;
    const { runId } = await startRun(env.client, taskQueue, findPipeline(pipelines, 'flight-delay-summary'), { rows: String(rows) });

    // Stop while the ingestion's transaction is open: its INSERTs into raw_flights have begun.
    await until('the ingestion to be writing', async () => {
      const n = await countOf(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and state in ('active', 'idle in transaction') and query ilike 'insert into "raw_flights"%'`,
      );
      return n > 0 ? true : undefined;
    });
    await outage();

    const { result, events, status } = await finish(runId);
    expect(status).toContain(`Run ${runId} (pipeline flight-delay-summary): COMPLETED`);
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['ingest', 'completed'],
      ['summarize', 'completed'],
    ]);
    expectRetriedThroughOutage(events, status, 'ingest');
    expectDevSawTheOutage();

    // The cut-off transaction left nothing; the retry wrote everything, once.
    const { ingestionId } = result.outputs.ingest as { ingestionId: string; reused: boolean };
    const { summaryId, flights } = result.outputs.summarize as { summaryId: string; flights: number };
    expect(flights).toBe(rows);
    expect({
      ingestions: await countOf('select count(*)::int as n from ingestions where id = $1', [ingestionId]),
      ingestedRows: await countOf('select rows as n from ingestions where id = $1', [ingestionId]),
      rawRows: await countOf('select count(*)::int as n from raw_flights where ingestion_id = $1', [ingestionId]),
      distinctRows: await countOf('select count(distinct row_number)::int as n from raw_flights where ingestion_id = $1', [ingestionId]),
      ingestKeys: await countOf('select count(*)::int as n from idempotency_keys where key = $1', [`ingest:${ingestionId}`]),
      summaries: await countOf('select count(*)::int as n from delay_summaries where id = $1', [summaryId]),
      runKeys: await countOf('select count(*)::int as n from idempotency_keys where key like $1', [`%${runId}%`]),
      cachedSteps: await countOf('select count(*)::int as n from step_cache where run_id = $1', [runId]),
    }).toEqual({ ingestions: 1, ingestedRows: rows, rawRows: rows, distinctRows: rows, ingestKeys: 1, summaries: 1, runKeys: 1, cachedSteps: 2 });
  }, OUTAGE_TEST_TIMEOUT_MS);

  it('survives a stop during training: the run completes and registers one version, audited once', async () => {
    const rows = 12_000;
    const modelName = 'outage-delay';
    const { runId } = await startRun(env.client, taskQueue, findPipeline(pipelines, 'train-flight-delay'), { rows: String(rows), trees: '40', modelName });
    const handle = env.client.workflow.getHandle(runId);

    // Stop while the boosted trees are being trained (their activity has started and not finished).
    await until('the boosted model to be training', async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const training = pending.some((a) => a.activityId === 'trainBoosted' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
      return training ? true : undefined;
    });
    await outage();

    const { result, events, status } = await finish(runId);
    expect(status).toContain(`Run ${runId} (pipeline train-flight-delay): COMPLETED`);
    expect(result.steps.every((s) => s.status === 'completed'), JSON.stringify(result.steps)).toBe(true);
    expectRetriedThroughOutage(events, status, 'trainBoosted');
    expectDevSawTheOutage();
    expect(result.outputs.register).toMatchObject({ modelName, version: 1, created: true });

    // One version, one registration in the model's history and in the audit trail.
    const { ingestionId } = result.outputs.load as { ingestionId: string };
    expect({
      versions: await countOf('select count(*)::int as n from model_versions where model_name = $1', [modelName]),
      registered: await countOf(`select count(*)::int as n from model_history where model_name = $1 and kind = 'registered'`, [modelName]),
      history: await countOf('select count(*)::int as n from model_history where model_name = $1', [modelName]),
      audited: await countOf(`select count(*)::int as n from audit_log where subject = $1 and action = 'model.registered'`, [`model:${modelName}@1`]),
      ingestions: await countOf('select count(*)::int as n from ingestions where id = $1', [ingestionId]),
      rawRows: await countOf('select count(*)::int as n from raw_flights where ingestion_id = $1', [ingestionId]),
      ingestKeys: await countOf('select count(*)::int as n from idempotency_keys where key = $1', [`ingest:${ingestionId}`]),
      cachedSteps: await countOf('select count(*)::int as n from step_cache where run_id = $1', [runId]),
    }).toEqual({ versions: 1, registered: 1, history: 1, audited: 1, ingestions: 1, rawRows: rows, ingestKeys: 1, cachedSteps: result.steps.length });

    // What a user sees in the registry: the one version.
    const versions = await runSteward(['models', 'versions', modelName], cliEnv);
    expect(versions.code, versions.output).toBe(0);
    expect(versions.output.trim().split('\n').filter((line) => /^v\d+\s/.test(line))).toHaveLength(1);
  }, OUTAGE_TEST_TIMEOUT_MS);

  it('stops cleanly afterwards', async () => {
    dev.child.kill('SIGTERM');
    const exit = await dev.exited;
    expect(exit.code, dev.output()).toBe(0);
  });
});
