/**
 * The drift-retraining loop on real Temporal, real onnxruntime and each database driver, on a small
 * window: a champion trained on 20,000 real flights serves a week of its own validation flights,
 * logged as the scorer logs them, with inputs moved (longer routes, other hours, June) and outcomes
 * that no longer follow its scores. The scheduled pipeline's run stores a drift report that finds
 * dataset drift and decay, the policy decides to retrain (on the report and in the audit trail),
 * and the run's challenge step (a child run) retrains through train-flight-delay, compares
 * challenger and champion on the same labelled rows and reaches the release sign-off; a run a day
 * later holds for the cool-down, its challenge skipped with the condition; the same pipeline
 * started by a Temporal Schedule monitors and holds within the cool-down; and a challenger that is
 * not better by the margin stops the challenge with its numbers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { eq, like } from 'drizzle-orm';
import type { RunPipelineResult, RunState } from '../../src/contracts.js';
import { auditLog, predictionLog, type NewPredictionLogRow } from '../../src/db/schema.js';
import { loadTrainingSet } from '../../examples/flight-delay/features/raw-training-set.js';
import { getDriftReport, getDriftReportRow } from '../../src/monitoring/report-store.js';
import { renderReport } from '../../src/cli/render.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { getRunReport, startRun } from '../../src/pipeline/runs.js';
import { createSchedule, describeSchedule, triggerSchedule } from '../../src/pipeline/schedules.js';
import { setAlias } from '../../src/registry/aliases.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { attachGroundTruth } from '../../src/serving/ground-truth.js';
import { pipelines } from '../support/projects.js';
import { describeEachDriver } from '../support/databases.js';
import { approveVersion } from '../support/registry-fixtures.js';
import { useTemporalWorker } from '../support/temporal.js';

const MODEL = 'drift-test';
const WEEK_START = Date.UTC(2001, 5, 4);
const WINDOW_END = new Date(WEEK_START + 7 * 86_400_000).toISOString();
const NUMERIC = ['hour', 'dayOfWeek', 'month', 'distance', 'originDelay7d', 'originFlights7d'] as const;

describeEachDriver('drift-retrain-flight-delay pipeline', (driver) => {
  const artifacts = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-drift-artifacts-')));
  const harness = useTemporalWorker(driver, `drift-${driver}`, { artifacts });
  const taskQueue = harness.taskQueue;
  // Read once beforeAll has run.
  const env = { get client() { return harness.env.client; } };
  const database = { get db() { return harness.database.db; } };

  const start = (pipeline: string, params: Record<string, unknown>, runId?: string) =>
    startRun(env.client, taskQueue, findPipeline(pipelines, pipeline), params, runId ? { runId } : {});
  const result = async (runId: string) => (await env.client.workflow.getHandle(runId).result()) as RunPipelineResult;

  /** The champion's validation flights, moved, scored by the champion's ONNX model and logged a request each through the week. */
  async function serveMovedWeek(trained: RunPipelineResult): Promise<void> {
    const table = await loadTrainingSet(artifacts, (trained.outputs.trainingSet as { uri: string }).uri);
    const from = Math.floor(table.numRows * 0.8);
    const n = table.numRows - from;
    const column = (name: string) => Array.from((table.getChild(name)!.toArray() as ArrayLike<number | string>)).slice(from) as never[];
    const features: Record<string, number[] | string[]> = Object.fromEntries([...NUMERIC, 'origin'].map((f) => [f, column(f)]));
    features.distance = (features.distance as number[]).map((d) => d * 3);
    features.hour = (features.hour as number[]).map((h) => (h + 12) % 24);
    features.month = (features.month as number[]).map(() => 6);
    features.originFlights7d = (features.originFlights7d as number[]).map((c) => c * 4);
    const labels = column('label') as number[];
    const session = await InferenceSession.create(await artifacts.get((trained.outputs.register as { artifactUri: string }).artifactUri));
    const feeds: Record<string, Tensor> = {};
    for (const f of NUMERIC) feeds[f] = new Tensor('float32', Float32Array.from(features[f] as number[]), [n, 1]);
    feeds.origin = new Tensor('string', features.origin as string[], [n, 1]);
    const scores = (await session.run(feeds)).probabilities!.data as Float32Array;
    await session.release();
    const rows: NewPredictionLogRow[] = [];
    for (let i = 0; i < n; i++) {
      const inputs = Object.fromEntries(Object.entries(features).map(([f, values]) => [f, (values as unknown[])[i] ?? null]));
      rows.push({ requestId: `req-${i}`, modelName: MODEL, version: 1, arm: 'primary', shadow: false, rows: 1, inputs: [inputs], outputs: [scores[2 * i + 1]!], error: null, latencyMs: 1, at: new Date(WEEK_START + Math.floor((i * 7 * 86_400_000) / n)) });
    }
    for (let i = 0; i < rows.length; i += 500) await database.db.insert(predictionLog).values(rows.slice(i, i + 500));
    // The outcomes stop following the model: each flight's true label is the opposite of what it was.
    for (let i = 0; i < n; i++) await attachGroundTruth(database.db, `req-${i}`, [{ row: 0, value: 1 - labels[i]! }]);
  }

  it('detects drift and decay, decides to retrain with its numbers, and takes the challenger to the sign-off', async () => {
    const trained = await result((await start('train-flight-delay', { rows: 20_000, modelName: MODEL, trees: 10 })).runId);
    await approveVersion(database.db, MODEL, 1);
    await setAlias(database.db, { modelName: MODEL, alias: 'champion', version: 1, actor: 'test', reason: 'first champion' });
    await serveMovedWeek(trained);

    const params = { modelName: MODEL, windowEnd: WINDOW_END, windowDays: 7, maxTrainRows: 25_000, margin: -1 };
    const { runId } = await start('drift-retrain-flight-delay', params);
    // The challenge is the run's own child step `<run>--challenge`: retrained on the flights before the window
    // (capped at 25,000), compared on the same labelled rows, waiting for reviewers while the run waits for it.
    const challenge = env.client.workflow.getHandle(`${runId}--challenge`);
    let state: RunState | undefined;
    for (let i = 0; i < 600; i++) {
      state = await challenge.query<RunState>('runState').catch(() => undefined);
      if (state?.steps.find((s) => s.name === 'signoff')?.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(state?.steps.map((s) => [s.name, s.status])).toEqual([
      ['train', 'completed'],
      ['compare', 'completed'],
      ['validate', 'completed'],
      ['signoff', 'running'],
      ['promote', 'pending'],
      ['deploy', 'pending'],
    ]);
    const running = await env.client.workflow.getHandle(runId).query<RunState>('runState');
    expect(running.steps.map((s) => [s.name, s.status])).toEqual([
      ['monitor', 'completed'],
      ['policy', 'completed'],
      ['prepare', 'completed'],
      ['challenge', 'running'],
    ]);
    const output = (step: string) => running.steps.find((s) => s.name === step)!.output!;
    const monitor = output('monitor') as { reportId: string; enough: boolean; datasetDrift: boolean; decayed: boolean; driftedColumns: string[]; rocAuc: number; validationRocAuc: number };
    expect(monitor).toMatchObject({ reportId: runId, enough: true, datasetDrift: true, decayed: true });
    expect(monitor.driftedColumns).toEqual(expect.arrayContaining(['distance', 'hour', 'month', 'originFlights7d']));
    expect(monitor.rocAuc).toBeLessThan(monitor.validationRocAuc - 0.05);
    const report = await getDriftReport(database.db, runId);
    expect(report.columns.find((c) => c.column === 'distance')).toMatchObject({ test: 'wasserstein', threshold: 0.1, verdict: 'drift', svg: expect.stringMatching(/^<svg /) });
    // month follows the calendar: the pipeline's default shows its verdict but leaves it out of the share.
    expect(report.seasonalColumns).toEqual(['month']);
    expect(report.columns.find((c) => c.column === 'month')).toMatchObject({ verdict: 'drift', seasonal: true });
    expect(report.decidedColumns).toBe(6);
    expect(output('policy')).toMatchObject({ decision: 'retrain', triggers: ['dataset drift', 'performance decay'], retrainsInPeriod: 0 });
    expect((await getDriftReportRow(database.db, runId)).decision).toBe('retrain');
    const [audited] = await database.db.select().from(auditLog).where(eq(auditLog.action, 'monitoring.retrain'));
    expect(audited).toMatchObject({ subject: `model:${MODEL}@1`, details: { decision: 'retrain', reportId: runId, numbers: { rocAucDrop: expect.any(Number) } } });
    expect(output('prepare')).toEqual({ trainRows: 25_000, flightsBeforeWindow: expect.any(Number) });
    expect(output('prepare').flightsBeforeWindow as number).toBeGreaterThan(25_000);
    const [compared] = await database.db.select().from(auditLog).where(eq(auditLog.action, 'monitoring.challenger_better'));
    expect(compared?.details).toMatchObject({ champion: { version: 1 }, challenger: { version: 2 }, margin: -1, better: true, rows: expect.any(Number) });
    // Cancelling the run cancels its challenge.
    await env.client.workflow.getHandle(runId).cancel();
    expect(await result(runId).catch((e: unknown) => e)).toBeInstanceOf(WorkflowFailedError);
    expect((await challenge.describe()).status.name).toBe('CANCELLED');

    // A day later the same signals hold for the cool-down, with the numbers in the trail; the challenge is skipped, with the condition.
    const later = await result((await start('drift-retrain-flight-delay', { ...params, windowEnd: new Date(Date.parse(WINDOW_END) + 86_400_000).toISOString() })).runId);
    expect(later.outputs.policy).toMatchObject({ decision: 'hold', lastRetrainAt: WINDOW_END });
    expect((later.outputs.policy as { reasons: string[] }).reasons[1]).toMatch(/^Cool-down: the last retrain was decided 24\.0 hours before, less than 144\./);
    expect(later.outputs.prepare).toEqual({ trainRows: 0, flightsBeforeWindow: null });
    expect(later.steps.map((s) => [s.name, s.status, s.skipReason])).toEqual([
      ['monitor', 'completed', undefined],
      ['policy', 'completed', undefined],
      ['prepare', 'completed', undefined],
      ['challenge', 'skipped', 'when policy.decision == "retrain" did not hold'],
    ]);
    const held = await getRunReport(env.client, later.runId);
    expect(held.status).toBe('COMPLETED');
    expect(renderReport(held)).toMatch(/- challenge +skipped +when policy\.decision == "retrain" did not hold/);
    expect(await database.db.select().from(auditLog).where(eq(auditLog.action, 'monitoring.hold'))).toHaveLength(1);
  });

  it('runs from a Temporal Schedule: the scheduled run stores its report and holds within the cool-down', async () => {
    const windowEnd = new Date(Date.parse(WINDOW_END) + 2 * 86_400_000).toISOString();
    const id = await createSchedule(env.client, taskQueue, findPipeline(pipelines, 'drift-retrain-flight-delay'), {
      id: `drift-weekly-${driver}`,
      every: '7d',
      params: { modelName: MODEL, windowEnd, windowDays: 7 },
    });
    await triggerSchedule(env.client, id);
    let runs: string[] = [];
    for (let i = 0; i < 200 && runs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      runs = (await describeSchedule(env.client, id)).recentRuns.map((r) => r.runId);
    }
    expect(runs).toHaveLength(1);
    const scheduled = await result(runs[0]!);
    expect(scheduled.outputs.monitor).toMatchObject({ reportId: runs[0], datasetDrift: true, decayed: true });
    expect(scheduled.outputs.policy).toMatchObject({ decision: 'hold', lastRetrainAt: WINDOW_END });
    expect((await getDriftReportRow(database.db, runs[0]!)).decision).toBe('hold');
  });

  it('stops the challenge when the challenger is not better by the margin, and records the comparison', async () => {
    const { runId } = await start('challenge-flight-delay', { modelName: MODEL, rows: 25_000, windowFrom: new Date(WEEK_START).toISOString(), windowTo: WINDOW_END, margin: 0.5 });
    const error = await env.client.workflow.getHandle(runId).result().catch((e: Error) => e);
    expect(String((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message)).toMatch(/Step "compare" failed: Challenger v2 is not better by the margin: ROC AUC 0\.\d{4} vs champion v1's 0\.\d{4} on \d+ labelled rows \(improvement -?0\.\d{4} < margin 0\.5\)\. The champion stays\./);
    const stopped = await database.db.select().from(auditLog).where(like(auditLog.action, 'monitoring.challenger_not_better'));
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.details).toMatchObject({ margin: 0.5, better: false });
  });
});
