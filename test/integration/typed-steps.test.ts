/**
 * Typed steps and conditional steps on a real Temporal dev server: steps registered from the
 * pipelines that use them, input and output validated at run time with errors naming pipeline,
 * step and field, and steps skipped by a condition with the reason in the run's state.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunPipelineResult } from '../../src/contracts.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { definePipeline } from '../../src/pipeline/definition.js';
import { getRunReport, startRun } from '../../src/pipeline/runs.js';
import { defineStep, eq, gte, not } from '../../src/pipeline/step.js';
import { useTemporalWorker } from '../support/temporal.js';

const score = defineStep({
  name: 'typed.score',
  input: z.object({ value: z.number() }),
  output: z.object({ score: z.number(), decision: z.enum(['retrain', 'hold']) }),
  run: async ({ value }, ctx) => {
    ctx.progress({ scored: value });
    return { score: value, decision: value >= 10 ? ('retrain' as const) : ('hold' as const) };
  },
});

const act = defineStep({
  name: 'typed.act',
  input: z.object({ what: z.string(), score: z.number() }),
  output: z.object({ done: z.string() }),
  run: async ({ what, score }) => ({ done: `${what}:${score}` }),
});

/** Returns what its schema refuses when asked to: the run must fail on the first attempt, naming the field. */
const liar = defineStep({
  name: 'typed.liar',
  input: z.object({ lie: z.boolean() }),
  output: z.object({ count: z.number().int() }),
  run: async ({ lie }) => ({ count: lie ? ('many' as unknown as number) : 1 }),
  retry: { maximumAttempts: 3, initialInterval: '100ms' },
});

const decide = definePipeline({
  name: 'typed-decide',
  params: z.object({ value: z.coerce.number() }),
  steps: (p) => {
    const scored = score.step('score', { value: p.value });
    const retrain = act.step('retrain', { what: 'retrain', score: scored.output.score }, { when: eq(scored.output.decision, 'retrain') });
    const report = act.step('report', { what: 'report', score: scored.output.score }, { after: ['retrain'] });
    const hold = act.step('hold', { what: 'hold', score: scored.output.score }, { when: not(gte(scored.output.score, 10)) });
    return [scored, retrain, report, hold];
  },
});

const lying = definePipeline({
  name: 'typed-liar',
  params: z.object({ lie: z.coerce.boolean(), value: z.coerce.number().default(1) }),
  steps: (p) => [liar.step('liar', { lie: p.lie }), score.step('score', { value: p.value })],
});

const pipelines = [decide, lying];

describe('typed and conditional steps on real Temporal', () => {
  const harness = useTemporalWorker('pglite', 'typed-steps', { pipelines });
  const start = (name: string, params: Record<string, unknown>) => startRun(harness.env.client, harness.taskQueue, findPipeline(pipelines, name), params);
  const result = (runId: string) => harness.env.client.workflow.getHandle(runId).result() as Promise<RunPipelineResult>;

  it('runs the branch whose condition holds and skips the other with the reason', async () => {
    const run = await result((await start('typed-decide', { value: 12 })).runId);
    const steps = Object.fromEntries(run.steps.map((s) => [s.name, s]));
    expect(steps.score!.status).toBe('completed');
    expect(run.outputs.retrain).toEqual({ done: 'retrain:12' });
    expect(steps.report!.status).toBe('completed');
    expect(steps.hold).toMatchObject({ status: 'skipped', skipReason: 'when not (score.score >= 10) did not hold' });
  });

  it('skips a step whose condition fails and its dependents, and the run still completes', async () => {
    const { runId } = await start('typed-decide', { value: 3 });
    const run = await result(runId);
    const steps = Object.fromEntries(run.steps.map((s) => [s.name, s]));
    expect(steps.retrain).toMatchObject({ status: 'skipped', skipReason: 'when score.decision == "retrain" did not hold' });
    expect(steps.report).toMatchObject({ status: 'skipped', skipReason: '"retrain" was skipped' });
    expect(run.outputs.hold).toEqual({ done: 'hold:3' });
    // The memo (what `steward status` reads for closed runs) carries the reasons too.
    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('COMPLETED');
    expect(report.state!.steps.find((s) => s.name === 'retrain')?.skipReason).toContain('did not hold');
  });

  it('fails a step whose output its schema refuses on the first attempt, naming pipeline, step and field', async () => {
    const { runId } = await start('typed-liar', { lie: true });
    await expect(result(runId)).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('FAILED');
    expect(report.failure).toMatch(/Pipeline "typed-liar", step "liar" \(typed\.liar\) returned an output its schema refuses: field "count"/);
    expect(report.state!.steps.find((s) => s.name === 'liar')).toMatchObject({ status: 'failed', errorType: 'VALIDATION_FAILED' });
  });
});
