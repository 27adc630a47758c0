/**
 * A real Temporal dev server for a test file (the CLI binary the global setup found), with
 * Steward's search attributes registered, and a worker wired to a test database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { allSearchAttributes, type RunPipelineResult } from '../../src/contracts.js';
import type { Database, DatabaseHandle } from '../../src/db/client.js';
import { createTestDatabase, type DriverName, type TestDatabase } from './databases.js';
import type { Pipeline } from '../../src/pipeline/definition.js';
import type { Step } from '../../src/pipeline/step.js';
import { pipelines, rootProject } from './projects.js';
import { createLogger } from '../../src/platform/logger.js';
import { createWorker, installRuntime } from '../../src/app/worker.js';
import { LocalArtifactStore, type ArtifactStore } from '../../src/artifacts/index.js';
import type { LineageOptions } from '../../src/lineage/store.js';
import type { ScorerAdmin } from '../../src/serving/scorer-client.js';
import type { IngestFlightsResult, SummarizeDelaysResult } from '../../examples/flight-delay/data/contracts.js';

export const bundleCacheDir = path.join(os.tmpdir(), 'steward-test-bundles');
export const quietLogger = createLogger('warn');

export async function startTemporal(options: { dbFilename?: string; port?: number } = {}): Promise<TestWorkflowEnvironment> {
  installRuntime('warn');
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: inject('temporalCli') },
      searchAttributes: allSearchAttributes,
      dbFilename: options.dbFilename,
      port: options.port,
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/** What a test worker runs beyond the defaults (every pipeline, a fresh artifact folder, lineage stored only). */
export interface TestWorkerOptions {
  /** The pipelines the worker runs; the typed steps they use are registered with them. */
  pipelines?: readonly Pipeline[];
  /** Typed steps to register besides those the pipelines use. */
  steps?: readonly Step[];
  scorer?: () => ScorerAdmin;
  /** The artifact store, when the test reads artifacts itself. */
  artifacts?: ArtifactStore;
  lineage?: LineageOptions;
}

export async function startTestWorker(
  env: TestWorkflowEnvironment,
  db: Database,
  taskQueue: string,
  extra: TestWorkerOptions = {},
): Promise<{ worker: Worker; done: Promise<void> }> {
  const worker = await createWorker({
    address: env.address,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: {
      db,
      artifacts: extra.artifacts ?? new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-artifacts-'))),
      pipelines: extra.pipelines ?? pipelines,
      steps: extra.steps,
      features: rootProject.features,
      scorer: extra.scorer,
      lineage: extra.lineage,
    },
    cacheDir: bundleCacheDir,
    logger: quietLogger,
    logLevel: 'warn',
  });
  const done = worker.run();
  return { worker, done };
}

/** The demo pipeline's two step outputs, typed. */
export function demoOutputs(result: RunPipelineResult): { ingestion: IngestFlightsResult; summary: SummarizeDelaysResult } {
  return {
    ingestion: result.outputs.ingest as unknown as IngestFlightsResult,
    summary: result.outputs.summarize as unknown as SummarizeDelaysResult,
  };
}

export interface TemporalHarness {
  env: TestWorkflowEnvironment;
  database: DatabaseHandle;
  taskQueue: string;
}

/**
 * A real Temporal dev server, a fresh database on `driver` and a worker on `taskQueue`, started
 * before the suite's tests and torn down after them. Read its fields inside tests (they are set
 * once `beforeAll` has run).
 */
export function useTemporalWorker(
  driver: DriverName,
  taskQueue: string,
  extra: Omit<TestWorkerOptions, 'lineage'> & {
    /** Lineage options; a function is called when the worker starts (e.g. once a local endpoint listens, in an earlier `beforeAll`). */
    lineage?: LineageOptions | (() => LineageOptions);
  } = {},
): TemporalHarness {
  const harness = { taskQueue } as TemporalHarness;
  let testDb: TestDatabase | undefined;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    [harness.env, testDb] = await Promise.all([startTemporal(), createTestDatabase(driver)]);
    harness.database = await testDb.open();
    const lineage = typeof extra.lineage === 'function' ? extra.lineage() : extra.lineage;
    const { worker, done } = await startTestWorker(harness.env, harness.database.db, taskQueue, { ...extra, lineage });
    stop = async () => {
      worker.shutdown();
      await done;
    };
  });
  afterAll(async () => {
    await stop?.();
    await harness.database?.close();
    await testDb?.destroy();
    await harness.env?.teardown();
  });
  return harness;
}
