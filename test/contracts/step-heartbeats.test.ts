/**
 * The step runner's heartbeats, on both drivers: while a step runs, the runner beats every second so
 * a dead worker is noticed, and each beat repeats the step's latest progress details instead of an
 * empty one that would replace them (what `describe` shows and what a retry resumes from). The
 * activity context is Temporal's MockActivityEnvironment; the same activity runs under a real
 * server in the batch-scoring and pipeline integration tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { expect, it } from 'vitest';
import { createPipelineActivities } from '../../activities/pipeline.js';
import type { StepImplementations } from '../../src/pipeline/step-runtime.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

describeEachDriver('the step runner’s heartbeats', (driver) => {
  const database = useTestDatabase(driver);

  it('repeat the step’s latest progress between its own beats, never an empty one after it', async () => {
    const steps: StepImplementations = {
      slow: {
        run: async (_input: unknown, ctx) => {
          await sleep(1_300);
          ctx.heartbeat({ rows: 500, total: 1_000 });
          await sleep(2_300);
          return { rows: 1_000 };
        },
      },
    };
    const activities = createPipelineActivities(database.handle.db, [], steps);
    const env = new MockActivityEnvironment({ attempt: 1 });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const result = await env.run(activities.runStep, { runId: `beats-${driver}`, step: 'slow', uses: 'slow', version: '1', input: {}, cache: false });

    expect(result).toMatchObject({ output: { rows: 1_000 }, cached: false, attempt: 1 });
    const first = beats.findIndex((d) => d !== undefined);
    // One runner beat before the step reported anything, then the step's own, then at least two repeats of it.
    expect(first).toBeGreaterThan(0);
    expect(beats.slice(0, first)).toEqual(beats.slice(0, first).map(() => undefined));
    expect(beats.length - first).toBeGreaterThanOrEqual(3);
    expect(beats.slice(first)).toEqual(beats.slice(first).map(() => ({ rows: 500, total: 1_000 })));
  });
});
