/**
 * CPU-bound steps off the worker's event loop, on a real Temporal dev server: while a model trains in
 * a CPU pool thread, the run's `runState` query answers and the worker's event loop keeps turning
 * (its longest stall is a small share of the step's duration, where the same training inline holds
 * the loop for most of it), and cancelling the run terminates the thread.
 *
 * Nothing here compares with an absolute time: the machines are shared and noisy, so each figure is
 * set against the step's own duration or against the inline run measured in the same file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { trainModel } from '../../examples/flight-delay/steps/index.js';
import type { RunPipelineResult, RunState } from '../../src/contracts.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { definePipeline, type ParamRefs } from '../../src/pipeline/definition.js';
import { getRunReport, startRun } from '../../src/pipeline/runs.js';
import { defineStep } from '../../src/pipeline/step.js';
import { CpuPool } from '../../src/platform/cpu-pool.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { syntheticTrainingSet } from '../support/synthetic-training-set.js';
import { useTemporalWorker } from '../support/temporal.js';

/** Gradient boosting stops early only above 10,000 training rows: at 8,000 it grows every tree asked for. */
const ROWS = 10_000;

interface StepMeasure {
  start: number;
  end?: number;
  /** The longest the event loop went without turning while the step ran (ms). */
  maxStall: number;
  progress: unknown[];
  cancelled?: boolean;
}

/** Watches the event loop with a 5 ms interval: a late tick is a stall. */
class StallMonitor {
  private last = performance.now();
  private readonly watching = new Set<StepMeasure>();
  private readonly timer = setInterval(() => this.tick(), 5);

  private tick(): void {
    const now = performance.now();
    const gap = now - this.last;
    this.last = now;
    for (const m of this.watching) m.maxStall = Math.max(m.maxStall, gap);
  }

  watch(m: StepMeasure): () => void {
    this.tick();
    this.watching.add(m);
    return () => {
      this.tick();
      this.watching.delete(m);
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const artifactsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cpu-offload-'));
const artifacts = new LocalArtifactStore(artifactsDir);
const pools = { thread: new CpuPool({ threads: 1 }), inline: new CpuPool({ threads: 0 }) };
const monitor = new StallMonitor();
const measures = new Map<string, StepMeasure>();

/**
 * The real trainModel step (examples/flight-delay/steps/train-model.ts), its schemas and its run, as a step of its
 * own whose CPU work goes to `pool`, measured while it runs.
 */
const measuredTraining = (name: string, pool: CpuPool, heartbeatTimeout: string) =>
  defineStep({
    name,
    input: trainModel.declaration.input,
    output: trainModel.declaration.output,
    heartbeatTimeout,
    run: async (stepInput, ctx) => {
      const m: StepMeasure = { start: performance.now(), maxStall: 0, progress: [] };
      measures.set(ctx.runId, m);
      const unwatch = monitor.watch(m);
      const progress = (details: unknown) => {
        m.progress.push(details);
        ctx.progress(details);
      };
      try {
        return await trainModel.declaration.run(stepInput, { ...ctx, cpuPool: pool, cpu: { pool, signal: ctx.signal, onProgress: progress }, progress, heartbeat: progress });
      } catch (error) {
        m.cancelled = ctx.signal.aborted;
        throw error;
      } finally {
        unwatch();
        m.end = performance.now();
      }
    },
  });
// A short heartbeat timeout: cancellation reaches an activity with a heartbeat's answer, which the SDK
// sends at most every 80% of it.
const trainInThread = measuredTraining('trainInThread', pools.thread, '4 seconds');
const trainInline = measuredTraining('trainInline', pools.inline, '10 minutes');
const params = z.object({ trainingSetUri: z.string(), trees: z.coerce.number().int().positive() });
const input = (p: ParamRefs<typeof params>) => ({ trainingSetUri: p.trainingSetUri, testFraction: 0.2, algorithm: 'gradient-boosting' as const, maxIter: p.trees, learningRate: 0.1 });
const pipelines = [
  definePipeline({ name: 'offload-thread', description: 'Trains in a CPU pool thread.', params, steps: (p) => [trainInThread.step('train', input(p))] }),
  definePipeline({ name: 'offload-inline', description: 'Trains on the event loop.', params, steps: (p) => [trainInline.step('train', input(p))] }),
];

describe('CPU-bound steps off the event loop', () => {
  const harness = useTemporalWorker('pglite', 'cpu-offload', { pipelines, artifacts });
  const start = async (pipeline: string, trees: number) => {
    const { uri } = await artifacts.put(syntheticTrainingSet(ROWS));
    return startRun(harness.env.client, harness.taskQueue, findPipeline(pipelines, pipeline), { trainingSetUri: uri, trees }, { cache: false });
  };

  afterAll(async () => {
    monitor.stop();
    await pools.thread.close();
    fs.rmSync(artifactsDir, { recursive: true, force: true });
  });

  let threaded: { measure: StepMeasure; modelSha256: string } | undefined;

  it('answers runState queries and keeps the event loop turning while a model trains in a thread', async () => {
    const { runId } = await start('offload-thread', 400);
    const handle = harness.env.client.workflow.getHandle(runId);
    const result = handle.result() as Promise<RunPipelineResult>;
    let done = false;
    void result.finally(() => (done = true)).catch(() => undefined);
    // Queries go to the worker in this process: each answer needs its event loop.
    const answeredWhileTraining: number[] = [];
    while (!done) {
      const state = await handle.query<RunState>('runState');
      const m = measures.get(runId);
      if (state.steps[0]?.status === 'running' && m && m.progress.length > 0 && m.end === undefined) answeredWhileTraining.push(performance.now());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const run = await result;
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([['train', 'completed']]);
    expect(run.outputs.train).toMatchObject({ algorithm: 'gradient-boosting', trainRows: 8_000, validationRows: 2_000 });

    const m = measures.get(runId)!;
    threaded = { measure: m, modelSha256: (run.outputs.train as { modelSha256: string }).modelSha256 };
    const duration = m.end! - m.start;
    // Progress came back from the thread as heartbeat details, tree by tree.
    expect(m.progress).toContainEqual({ phase: 'training', algorithm: 'gradient-boosting', trees: 400, of: 400 });
    expect(answeredWhileTraining.length).toBeGreaterThanOrEqual(3);
    expect(m.maxStall).toBeLessThan(duration / 4);
    console.info(`trained in a thread: step ${Math.round(duration)} ms, longest event-loop stall ${Math.round(m.maxStall)} ms, ${answeredWhileTraining.length} queries answered while training`);
  });

  it('gives the same model inline, where training holds the event loop (what the thread spares it)', async () => {
    const { runId } = await start('offload-inline', 400);
    const run = (await harness.env.client.workflow.getHandle(runId).result()) as RunPipelineResult;
    const m = measures.get(runId)!;
    const duration = m.end! - m.start;
    console.info(`trained inline: step ${Math.round(duration)} ms, longest event-loop stall ${Math.round(m.maxStall)} ms`);
    expect((run.outputs.train as { modelSha256: string }).modelSha256).toBe(threaded!.modelSha256);
    // The measurement sees blocking when there is some: inline, one stall is most of the step.
    expect(m.maxStall).toBeGreaterThan(duration / 2);
    expect(m.maxStall).toBeGreaterThan(2 * threaded!.measure.maxStall);
  });

  it('terminates the thread when the run is cancelled mid-training', async () => {
    const { runId } = await start('offload-thread', 100_000);
    const handle = harness.env.client.workflow.getHandle(runId);
    for (let i = 0; i < 600 && !(measures.get(runId)?.progress.some((p) => (p as { trees?: number }).trees !== undefined)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(pools.thread.started).toBe(1);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('CANCELLED');
    expect(report.state?.steps[0]?.status).toBe('cancelled');
    const m = measures.get(runId)!;
    expect(m.cancelled).toBe(true);
    // Far fewer trees than asked for: the thread was stopped, not left to finish.
    const trees = m.progress.map((p) => (p as { trees?: number }).trees ?? 0);
    expect(Math.max(...trees)).toBeLessThan(100_000);
    expect(pools.thread.started).toBe(0);
  });
});
