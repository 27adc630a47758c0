/**
 * SIGKILL the worker at every step of the training pipeline, then start a new one: the run
 * completes, and every write happened exactly once.
 *
 * One run of `train-flight-delay`, real `steward worker` processes, a real Temporal dev server.
 * The trigger is the step's own OpenLineage COMPLETE event: the worker POSTs it to the configured
 * endpoint (this test) after the step's writes have committed and before Temporal hears the step
 * finished, and waits for the answer. The endpoint never answers: it SIGKILLs the worker instead.
 * That is the hardest moment for exactly-once: everything is written, nothing is acknowledged, and
 * the retry (the run has caching off, as `steward run --no-cache`) executes the whole step again.
 * Steps that were running on the worker when it died (Temporal's pending activities in state
 * STARTED: the parallel sibling of a trained or evaluated model) count as killed mid-step, so the
 * eight kills cover all ten steps. Each kill is followed by a new worker; the dead attempt is
 * noticed by its heartbeat timeout (20 s), except `trainingSet`, whose timeout is 10 minutes by
 * design (examples/flight-delay/steps/build-training-set-from-store.ts): there the test does what an operator would
 * (`temporal activity fail`), failing the dead attempt so that the retry starts now.
 *
 * PGlite by default: the kills wait out seven heartbeat timeouts, so each driver costs about four
 * minutes (test/integration/worker-crash.test.ts kills workers on both drivers in the demo
 * pipeline). STEWARD_FAULTS_POSTGRES=1 adds the PostgreSQL run of this file.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunPipelineResult } from '../../src/contracts.js';
import { openDatabase, queryRows } from '../../src/db/client.js';
import { auditLog, dataQualityResults, experimentRuns, experiments, featureDefinitions, featureIngestions, idempotencyKeys, ingestions, lineageEvents, modelHistory, modelVersions, stepCache } from '../../src/db/schema.js';
import { verifyAuditChain } from '../../src/audit/index.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { workflowBundleFor } from '../../src/app/worker.js';
import { pipelines } from '../support/projects.js';
import { availableDrivers, createTestDatabase, type DriverName, type TestDatabase } from '../support/databases.js';
import { flightSampleFile } from '../support/flight-sample.js';
import { runSteward, spawnSteward, type Spawned } from '../support/processes.js';
import { bundleCacheDir, quietLogger, startTemporal } from '../support/temporal.js';
import { rawFlights } from '../../examples/flight-delay/data/schema.js';

const PIPELINE = findPipeline(pipelines, 'train-flight-delay');
const STEPS = PIPELINE.spec.steps.filter((s) => s.kind === 'activity');
const ROWS = 5_000;
const MODEL = 'sigkill-delay';
const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** A heartbeat timeout too long to wait for in a test (trainingSet's 10 minutes). */
function heartbeatTooLong(step: (typeof STEPS)[number]): boolean {
  const timeout = 'heartbeatTimeout' in step ? step.heartbeatTimeout : undefined;
  return !!timeout && /minute|hour/.test(timeout);
}

interface PostedEvent {
  eventType: string;
  run: { runId: string; facets: { steward_step: { workflowId: string; step: string; attempt: number } } };
  outputs: Array<{ namespace: string; name: string }>;
}

interface Kill {
  /** The step whose COMPLETE event triggered the kill. */
  step: string;
  attempt: number;
  /** Every step Temporal had started on the worker when it died (the trigger included), with its attempt. */
  running: Record<string, number>;
  /** Seconds since the run started, for the failure message. */
  second: number;
}

interface Generation {
  spawned: Spawned;
  killed: boolean;
  kill: Promise<Pick<Kill, 'step' | 'attempt'>>;
  onKill: (kill: Pick<Kill, 'step' | 'attempt'>) => void;
}

const drivers = availableDrivers().filter((d) => d === 'pglite' || process.env.STEWARD_FAULTS_POSTGRES === '1');

for (const driver of drivers) describe(`worker SIGKILLed at each step of train-flight-delay [${driver}]`, () => suite(driver));

function suite(driver: DriverName): void {
  let env: TestWorkflowEnvironment;
  let testDb: TestDatabase;
  let home: string;
  let endpoint: http.Server;
  const held: http.ServerResponse[] = [];
  const posted: PostedEvent[] = [];
  let runId = '';
  let current: Generation | undefined;
  const covered = new Map<string, string>();
  const generations: Generation[] = [];

  beforeAll(async () => {
    endpoint = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PostedEvent;
        posted.push(event);
        const { workflowId, step, attempt } = event.run.facets.steward_step;
        const generation = current;
        if (generation && !generation.killed && event.eventType === 'COMPLETE' && workflowId === runId && !covered.has(step)) {
          // The step's writes have committed; Temporal has not heard it finished. Never answer.
          generation.killed = true;
          generation.spawned.child.kill('SIGKILL');
          held.push(res);
          generation.onKill({ step, attempt });
          return;
        }
        if (generation?.killed) held.push(res);
        // One connection per event: no POST may land on an idle socket that is being closed (a
        // lost COMPLETE event would let its step finish without a kill).
        else res.writeHead(201, { connection: 'close' }).end();
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    [env, testDb] = await Promise.all([startTemporal(), createTestDatabase(driver), flightSampleFile()]);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-sigkill-'));
    // The workers read their workflow bundle from the tests' shared cache (keyed by the workflow
    // sources), so the first one does not spend its first minute bundling on a busy machine.
    await workflowBundleFor(bundleCacheDir, quietLogger);
    fs.symlinkSync(bundleCacheDir, path.join(home, 'cache'));
  });
  afterAll(async () => {
    if (current && current.spawned.child.exitCode === null && current.spawned.child.signalCode === null) {
      current.spawned.child.kill('SIGKILL');
      await current.spawned.exited;
    }
    for (const res of held) res.destroy();
    await new Promise((resolve) => endpoint?.close(resolve));
    await testDb?.destroy();
    await env?.teardown();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  const taskQueue = `sigkill-${driver}`;
  const workerEnv = (): NodeJS.ProcessEnv => ({
    TEMPORAL_ADDRESS: env.address,
    STEWARD_TASK_QUEUE: taskQueue,
    STEWARD_HOME: home,
    DATABASE_URL: testDb.url ?? '',
    OPENLINEAGE_URL: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`,
    STEWARD_FAULT_CRASH_AFTER_COMMIT: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
  });
  const startWorker = (): Generation => {
    let onKill!: Generation['onKill'];
    const kill = new Promise<Pick<Kill, 'step' | 'attempt'>>((resolve) => (onKill = resolve));
    const generation: Generation = { spawned: spawnSteward(['worker'], workerEnv()), killed: false, kill, onKill };
    current = generation;
    generations.push(generation);
    return generation;
  };

  it(
    'completes the run after a SIGKILL during every step, with each write done once',
    async () => {
      const source = await flightSampleFile();
      ({ runId } = await startRun(env.client, taskQueue, PIPELINE, { source, rows: String(ROWS), modelName: MODEL, trees: '5' }, { cache: false }));
      const handle = env.client.workflow.getHandle(runId);
      const finished = handle.result() as Promise<RunPipelineResult>;
      finished.catch(() => undefined);

      const began = Date.now();
      const kills: Kill[] = [];
      // What happened, for a failure message: the kills, the events POSTed, the workers' warnings.
      const story = () =>
        JSON.stringify(
          {
            kills,
            posted: posted.map((p) => `${p.run.facets.steward_step.step}:${p.eventType}:${p.run.facets.steward_step.attempt}`),
            warnings: generations.flatMap((g, i) => g.spawned.output().split('\n').filter((l) => /warn|error/i.test(l)).map((l) => `worker ${i + 1}: ${l}`)),
          },
          null,
          1,
        );
      let result: RunPipelineResult | undefined;
      let last: Generation | undefined;
      while (!result) {
        if (kills.length > STEPS.length) throw new Error(`More kills than steps: ${JSON.stringify(kills)}`);
        const generation = (last = startWorker());
        const outcome = await Promise.race([
          finished.then((r) => ({ result: r })),
          generation.kill.then((k) => ({ kill: k })),
          generation.spawned.exited.then((e) => ({ exited: e })),
        ]);
        if ('result' in outcome) {
          result = outcome.result;
          break;
        }
        if ('exited' in outcome && !generation.killed) throw new Error(`The worker exited by itself (${JSON.stringify(outcome.exited)}):\n${generation.spawned.output()}`);
        const trigger = await generation.kill;
        const death = await generation.spawned.exited;
        expect(death.signal, generation.spawned.output()).toBe('SIGKILL');

        // What the dead worker was running: Temporal still holds those attempts as STARTED.
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const running = Object.fromEntries(pending.filter((p) => p.state === STARTED).map((p) => [p.activityId!, Number(p.attempt)]));
        expect(running, `${trigger.step} was running when its COMPLETE event arrived: ${story()}`).toHaveProperty(trigger.step, trigger.attempt);
        kills.push({ ...trigger, running, second: Math.round((Date.now() - began) / 1000) });
        for (const [step, attempt] of Object.entries(running)) {
          covered.set(step, step === trigger.step ? `killed after its writes committed (attempt ${attempt})` : `killed mid-step (attempt ${attempt})`);
          if (heartbeatTooLong(STEPS.find((s) => s.name === step)!)) {
            // An operator's `temporal activity fail`: the attempt's worker is gone, retry now rather than in 10 minutes.
            await env.client.activity.fail({ workflowId: runId, activityId: step }, new Error(`worker SIGKILLed while ${step} ran`));
          }
        }
      }

      // The last worker shuts down gracefully; nothing else may hold the database after it.
      last!.spawned.child.kill('SIGTERM');
      const stopped = await last!.spawned.exited;
      expect(stopped.code, `graceful shutdown on SIGTERM:\n${last!.spawned.output()}`).toBe(0);

      // Every step was interrupted at least once, by a kill at its COMPLETE event or mid-step.
      expect([...covered.keys()].sort(), story()).toEqual(STEPS.map((s) => s.name).sort());
      expect(kills.length).toBeLessThanOrEqual(STEPS.length);

      // What the user sees: the run completed, every step retried on a new worker, nothing cached.
      expect(result.steps.map((s) => [s.name, s.status, s.cached])).toEqual(STEPS.map((s) => [s.name, 'completed', false]));
      expect(result.outputs.load).toMatchObject({ rows: ROWS, reused: true });
      expect(result.outputs.quality).toMatchObject({ passed: true, rows: ROWS });
      expect(result.outputs.trainingSet).toMatchObject({ rows: ROWS, featureService: 'flight_delay' });
      const chosen = result.outputs.choose as { algorithm: string; model: { modelUri: string } };
      // The retried register found the version its killed attempt had created.
      expect(result.outputs.register).toEqual({ modelName: MODEL, version: 1, algorithm: chosen.algorithm, artifactUri: chosen.model.modelUri, created: false });

      const status = await runSteward(['status', runId], { TEMPORAL_ADDRESS: env.address });
      expect(status.code, status.output).toBe(0);
      expect(status.output).toContain(`Run ${runId} (pipeline train-flight-delay): COMPLETED`);
      for (const step of STEPS) expect(status.output, status.output).toMatch(new RegExp(`✓ ${step.name} +completed \\(attempt [2-5]\\)`));

      // Temporal: each step scheduled once; its recorded attempt is the one after the last kill it saw.
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = new Map<string, number>();
      const scheduledIds = new Map<string, string>();
      for (const e of events) {
        const id = e.activityTaskScheduledEventAttributes?.activityId;
        if (id && e.eventId) {
          scheduled.set(id, (scheduled.get(id) ?? 0) + 1);
          scheduledIds.set(String(e.eventId), id);
        }
      }
      expect(Object.fromEntries(scheduled)).toEqual(Object.fromEntries(STEPS.map((s) => [s.name, 1])));
      const attempts = new Map<string, number>();
      for (const e of events) {
        const started = e.activityTaskStartedEventAttributes;
        if (started) attempts.set(scheduledIds.get(String(started.scheduledEventId))!, Number(started.attempt));
      }
      for (const step of STEPS) {
        const killedAt = kills.filter((k) => step.name in k.running).map((k) => k.running[step.name]!);
        expect(attempts.get(step.name), `${step.name}: ${covered.get(step.name)}`).toBe(Math.max(...killedAt) + 1);
      }

      const database = await openDatabase({ url: testDb.url, pgliteDir: path.join(home, 'pglite') });
      try {
        const { db } = database;
        const n = async (table: PgTable) => Number((await db.select({ n: count() }).from(table))[0]!.n);

        // load: one ingestion of the sample's first rows, its rows once, one idempotency key (nothing else uses once()).
        const ingestionId = (result.outputs.load as { ingestionId: string }).ingestionId;
        expect({ ingestions: await n(ingestions), rawFlights: await n(rawFlights) }).toEqual({ ingestions: 1, rawFlights: ROWS });
        expect((await db.select({ key: idempotencyKeys.key }).from(idempotencyKeys)).map((k) => k.key)).toEqual([`ingest:${ingestionId}`]);
        // Caching was off: no step result recorded.
        expect(await n(stepCache)).toBe(0);

        // quality: one stored suite result, keyed by run and step.
        const quality = await db.select().from(dataQualityResults);
        expect(quality.map((q) => [q.key, q.runId, q.passed, q.rows])).toEqual([[(result.outputs.quality as { resultKey: string }).resultKey, runId, true, ROWS]]);

        // trainingSet: the definitions applied once (version 1 each); one complete ingestion per flight
        // feature view, its offline table holding the rows it reports and no more.
        const definitions = await db.select({ name: featureDefinitions.name, version: featureDefinitions.version }).from(featureDefinitions);
        expect(definitions.length).toBeGreaterThan(0);
        expect(definitions.every((d) => d.version === 1)).toBe(true);
        expect(new Set(definitions.map((d) => d.name)).size).toBe(definitions.length);
        const views = await db.select().from(featureIngestions);
        expect(views.map((v) => [v.view, v.status]).sort()).toEqual([
          ['origin_delays', 'complete'],
          ['route_delays', 'complete'],
        ]);
        for (const view of views) {
          const [stored] = await queryRows<{ n: number }>(db, sql.raw(`select count(*)::int as n from features."${view.view}"`));
          const [batches] = await queryRows<{ n: number }>(db, sql`select coalesce(sum(rows), 0)::int as n from feature_ingestion_batches where ingestion_id = ${view.id}`);
          expect({ view: view.view, stored: stored!.n, batches: batches!.n }).toEqual({ view: view.view, stored: view.rows, batches: view.rows });
          expect(view.rows).toBeGreaterThan(0);
        }

        // register: one experiment, one experiment run, one version, one history event, one audit entry; the chain holds.
        expect({ experiments: await n(experiments), runs: await n(experimentRuns), versions: await n(modelVersions), history: await n(modelHistory) }).toEqual({
          experiments: 1,
          runs: 1,
          versions: 1,
          history: 1,
        });
        const [version] = await db.select().from(modelVersions);
        expect(version).toMatchObject({ modelName: MODEL, version: 1, artifactUri: chosen.model.modelUri, runId, status: 'registered' });
        const [run] = await db.select().from(experimentRuns);
        expect(run).toMatchObject({ key: `${runId}/register`, experiment: MODEL, workflowId: runId, ingestionId });
        const audit = await db.select({ action: auditLog.action, subject: auditLog.subject }).from(auditLog);
        expect(audit).toEqual([{ action: 'model.registered', subject: `model:${MODEL}@1` }]);
        expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 1 });

        // Artifacts are content-addressed: the store holds exactly what the outputs reference, so no
        // retried attempt left a second model, training set or reference behind.
        const referenced = new Set([...JSON.stringify(result.outputs).matchAll(/artifact:\/\/sha256\/([0-9a-f]{64})/g)].map((m) => m[1]!));
        const stored = fs.readdirSync(path.join(home, 'artifacts', 'sha256'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => f.name);
        expect(stored.sort()).toEqual([...referenced].sort());

        // Lineage: one START and one COMPLETE per step run, however many attempts; no FAIL (a killed
        // attempt cannot report one). Each was stored once and reached the endpoint: at least once,
        // since a retry sends again what a killed attempt stored (it may have died before its POST),
        // and every copy is the stored event itself.
        const lineage = await db.select({ job: lineageEvents.jobName, type: lineageEvents.eventType, runId: lineageEvents.runId, outputs: lineageEvents.outputs }).from(lineageEvents);
        const byStep = new Map<string, string[]>();
        for (const e of lineage) byStep.set(e.job, [...(byStep.get(e.job) ?? []), e.type].sort());
        expect(Object.fromEntries(byStep)).toEqual(Object.fromEntries(STEPS.map((s) => [`train-flight-delay.${s.name}`, ['COMPLETE', 'START']])));
        const ours = posted.filter((p) => p.run.facets.steward_step.workflowId === runId);
        expect([...new Set(ours.map((p) => `${p.run.runId}:${p.eventType}`))].sort()).toEqual(lineage.map((e) => `${e.runId}:${e.type}`).sort());
        const storedEvents = new Map((await db.select({ runId: lineageEvents.runId, type: lineageEvents.eventType, event: lineageEvents.event }).from(lineageEvents)).map((e) => [`${e.runId}:${e.type}`, e.event]));
        for (const p of ours) expect(p, `a copy of ${p.run.runId}:${p.eventType} differs from the stored event`).toEqual(storedEvents.get(`${p.run.runId}:${p.eventType}`));
        // The COMPLETE event was written by the killed attempt; the datasets it names are the ones the run kept.
        const registered = lineage.find((e) => e.job === 'train-flight-delay.register' && e.type === 'COMPLETE')!;
        expect(registered.outputs).toContain(`steward/model:${MODEL}@v1`);
        const trainingSetEvent = lineage.find((e) => e.job === 'train-flight-delay.trainingSet' && e.type === 'COMPLETE')!;
        expect(trainingSetEvent.outputs.join(' ')).toContain((result.outputs.trainingSet as { uri: string }).uri.replace('artifact://sha256/', ''));
      } finally {
        await database.close();
      }
    },
    15 * 60_000,
  );
}
