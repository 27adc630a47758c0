/**
 * `steward/testing`: run a project's steps in a test the way the worker runs them, on real stores
 * and without Temporal. `runStep` validates the input against the step's schema, calls its `run`
 * with a context holding a migrated embedded PostgreSQL (PGlite) and a local artifact store, both
 * in a temporary folder, and returns the output after validating it against the output schema: the
 * same checks, with the same error messages, as in a pipeline run.
 *
 * @example
 * import { afterAll, expect, it } from 'vitest';
 * import { closeTestServices, runStep } from 'steward/testing';
 * import { summarizeWeather } from '../src/summarize-weather.js';
 *
 * afterAll(closeTestServices);
 * it('summarizes the sample', async () => {
 *   const out = await runStep(summarizeWeather, {});
 *   expect(out.days).toBe(1461);
 * });
 *
 * Steps given no `services` share one set per process (so one step's artifacts are there for the
 * next); `closeTestServices()` closes it and deletes its folder. `withTestServices(fn)` gives a
 * test a set of its own, closed when `fn` settles.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { openDatabase } from '../db/client.js';
import type { Definition } from '../features/definitions.js';
import type { ExpectationSuite } from '../governance/expectations.js';
import type { Step } from '../pipeline/step.js';
import type { StepContext, StepServices } from '../pipeline/step-runtime.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { LocalArtifactStore } from '../artifacts/index.js';

export type { StepServices } from '../pipeline/step-runtime.js';

/** Step services on a fresh temporary folder: `db` (PGlite, migrated) and `artifacts` (a local store). */
export interface TestServices extends StepServices {
  /** The folder holding the database (`pglite/`) and the artifacts (`artifacts/`). */
  readonly dir: string;
  /** Closes the database and deletes the folder (unless created with `keep: true`). Safe to call twice. */
  close(): Promise<void>;
}

export interface TestServicesOptions {
  /** Where to keep the database and artifacts (default: a new folder under the system's temp folder). */
  dir?: string;
  /** Keep the folder after `close()` (to look at it after a failure); default false. */
  keep?: boolean;
  /** Where the steps' log lines go (default: warnings and errors to stderr). */
  logger?: Logger;
  /** What a deployment wires for its own steps (`ctx.extras`). */
  extras?: Record<string, unknown>;
  /** The project's feature definitions, expectation suites and folder, as the worker hands them to steps. */
  features?: readonly Definition[];
  expectations?: readonly ExpectationSuite[];
  projectRoot?: string;
}

/** Folders of services not closed yet, to delete when the process exits (the database dies with it). */
const unclosed = new Set<string>();
let cleanupRegistered = false;

function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.once('exit', () => {
    for (const dir of unclosed) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** Opens a database and an artifact store in a temporary folder; close them with `close()`. */
export async function createTestServices(options: TestServicesOptions = {}): Promise<TestServices> {
  const dir = options.dir ? path.resolve(options.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'steward-test-'));
  fs.mkdirSync(dir, { recursive: true });
  const logger = options.logger ?? createLogger('warn');
  let handle;
  try {
    handle = await openDatabase({ url: undefined, pgliteDir: path.join(dir, 'pglite'), logger });
  } catch (error) {
    if (!options.dir && !options.keep) fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let closing: Promise<void> | undefined;
  const services: TestServices = {
    dir,
    db: handle.db,
    artifacts: new LocalArtifactStore(path.join(dir, 'artifacts')),
    logger,
    writeOptions: {},
    ...(options.extras ? { extras: options.extras } : {}),
    ...(options.features ? { features: options.features } : {}),
    ...(options.expectations ? { expectations: options.expectations } : {}),
    ...(options.projectRoot ? { projectRoot: path.resolve(options.projectRoot) } : {}),
    close: () =>
      (closing ??= (async () => {
        unclosed.delete(dir);
        try {
          await handle.close();
        } finally {
          if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
        }
      })()),
  };
  if (!options.keep) {
    unclosed.add(dir);
    registerCleanup();
  }
  return services;
}

/** Runs `fn` with services of its own, closed (and their folder deleted) when it settles. */
export async function withTestServices<T>(fn: (services: TestServices) => Promise<T>, options: TestServicesOptions = {}): Promise<T> {
  const services = await createTestServices(options);
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

let shared: Promise<TestServices> | undefined;

/** The services steps share when `runStep` is given none: opened on first use. */
export function testServices(): Promise<TestServices> {
  shared ??= createTestServices().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Closes the shared services `runStep` opened (if it did) and deletes their folder; e.g. `afterAll(closeTestServices)`. */
export async function closeTestServices(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current).close();
}

export interface RunStepOptions {
  /** The stores the step gets (default: the shared test services, see `testServices()`). */
  services?: StepServices;
  /** The run id the step sees (`ctx.runId`; default `test-<random>`). */
  runId?: string;
  /** The pipeline named in its context and errors (default `test`). */
  pipeline?: string;
  /** The step's name in that pipeline (default: the step's own name). */
  name?: string;
  /** The principal who started the run (`ctx.principal`). */
  startedBy?: string;
  attempt?: number;
  /** Cancels the step (`ctx.signal`). */
  signal?: AbortSignal;
  /** Receives what the step reports with `ctx.progress(...)`. */
  onProgress?: (details: unknown) => void;
}

/**
 * Runs a step as the worker would, without Temporal or the step cache: the input is validated
 * against the step's input schema, the output against its output schema (each refusal is a
 * ValidationError naming the step and the field), and the parsed output is returned.
 */
export async function runStep<I extends z.ZodType, O extends z.ZodObject>(step: Step<I, O>, input: z.input<I>, options: RunStepOptions = {}): Promise<z.output<O>> {
  const services = options.services ?? (await testServices());
  const runId = options.runId ?? `test-${randomUUID().slice(0, 8)}`;
  const name = options.name ?? step.name;
  const context: StepContext = {
    runId,
    pipeline: options.pipeline ?? 'test',
    step: name,
    idempotencyKey: `${runId}/${name}`,
    attempt: options.attempt ?? 1,
    ...(options.startedBy ? { startedBy: options.startedBy } : {}),
    heartbeat: (details) => options.onProgress?.(details),
    signal: options.signal ?? new AbortController().signal,
    services,
  };
  return (await step.implementation.run(input, context)) as z.output<O>;
}

export type { StartedTestRun, TestStack, TestStackOptions } from './test-stack.js';

/**
 * A whole stack for a project's tests (src/sdk/test-stack.ts): Temporal, a worker serving the
 * project, a database, artifacts and a scorer, all in a temporary folder. Loaded on first use, so a
 * test of one step does not pay for the worker.
 */
export async function startTestStack(options: import('./test-stack.js').TestStackOptions): Promise<import('./test-stack.js').TestStack> {
  const { startTestStack: start } = await import('./test-stack.js');
  return start(options);
}
