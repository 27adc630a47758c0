/**
 * The executor's semantics on a real Temporal dev server: parallel branches, fail-fast with a
 * report, retries, caching, fan-out through child workflows, child pipelines, approval gates and
 * cancellation.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { RunPipelineResult } from '../../src/contracts.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { getRunReport, startRun } from '../../src/pipeline/runs.js';
import {
  backfillSchedule,
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../../src/pipeline/schedules.js';
import { useTemporalWorker } from '../support/temporal.js';
import { stepLog, testPipelines } from '../support/test-pipelines.js';

describe('pipeline executor on real Temporal', () => {
  const harness = useTemporalWorker('pglite', 'executor', { pipelines: testPipelines });
  const taskQueue = harness.taskQueue;
  const start = (name: string, params: Record<string, unknown> = {}, options = {}) =>
    startRun(harness.env.client, taskQueue, findPipeline(testPipelines, name), params, options);
  const result = (runId: string) => harness.env.client.workflow.getHandle(runId).result() as Promise<RunPipelineResult>;

  it('runs independent branches in parallel and joins their outputs', async () => {
    const { runId } = await start('diamond', { value: 'a' });
    const run = await result(runId);
    expect(run.outputs.join).toEqual({ value: ['a', 'left', 'right'] });
    const left = stepLog.spans.get('left')!;
    const right = stepLog.spans.get('right')!;
    expect(Math.max(left.start, right.start)).toBeLessThan(Math.min(left.end!, right.end!));
    expect(run.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
  });

  it('fails fast on a non-retryable step: dependents skipped, siblings cancelled, the report names the step', async () => {
    const { runId } = await start('fails-fast');
    await expect(result(runId)).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('FAILED');
    expect(report.failure).toContain('Step "check" failed: rows 3 and 7 have no timestamp');
    const status = Object.fromEntries(report.state!.steps.map((s) => [s.name, s.status]));
    expect(status).toEqual({ start: 'completed', check: 'failed', slow: 'cancelled', after: 'skipped' });
    expect(report.state!.steps.find((s) => s.name === 'check')).toMatchObject({ errorType: 'VALIDATION_FAILED' });
    expect(stepLog.spans.get('slow-sibling')?.cancelled).toBe(true);
  });

  it('retries a transient fault with the step policy and reports the attempt that succeeded', async () => {
    const { runId } = await start('flaky');
    const run = await result(runId);
    expect(run.outputs.wobbly).toEqual({ calls: 3 });
    expect(run.steps[0]).toMatchObject({ status: 'completed', attempts: 3 });
  });

  it('reuses cached results on a rerun with unchanged inputs, and not with --no-cache', async () => {
    const first = await result((await start('diamond', { value: 'cache-me' })).runId);
    const second = await result((await start('diamond', { value: 'cache-me' })).runId);
    const third = await result((await start('diamond', { value: 'cache-me' }, { cache: false })).runId);
    const cached = (run: RunPipelineResult) => Object.fromEntries(run.steps.map((s) => [s.name, s.cached]));
    expect(cached(first)).toEqual({ start: false, left: false, right: false, join: false });
    // left and right opt out of caching; start and join hit.
    expect(cached(second)).toEqual({ start: true, left: false, right: false, join: true });
    expect(cached(third)).toEqual({ start: false, left: false, right: false, join: false });
    expect(second.outputs.join).toEqual(first.outputs.join);
  });

  it('fans out over items in bounded child-workflow batches and collects results in order', async () => {
    const { runId } = await start('fan-out', { n: 25 });
    const run = await result(runId);
    expect(run.outputs.total).toEqual({ total: Array.from({ length: 25 }, (_, i) => i * i).reduce((a, b) => a + b, 0) });
    expect(run.outputs.squares?.results).toEqual(Array.from({ length: 25 }, (_, i) => ({ y: i * i })));
    expect(run.steps.find((s) => s.name === 'squares')?.items).toEqual({ total: 25, done: 25, cached: 0 });
    const children = [];
    for await (const w of harness.env.client.workflow.list({ query: `WorkflowType = "fanOutBatch" AND WorkflowId STARTS_WITH "${runId}--squares"` })) children.push(w.workflowId);
    // 25 items in batches of 4: seven child workflows, each with its own short history.
    expect(children.length).toBeLessThanOrEqual(7);
    for (let i = 0; i < 25; i++) expect(stepLog.calls.get(`square:${i}`)).toBe(1);
  });

  it('runs a child pipeline as a child workflow and passes its outputs on', async () => {
    const { runId } = await start('parent');
    const run = await result(runId);
    expect(run.outputs.after).toEqual({ value: { value: ['from-parent', 'left', 'right'] } });
    const child = await harness.env.client.workflow.getHandle(`${runId}--child`).describe();
    expect(child.status.name).toBe('COMPLETED');
  });

  it('waits at an approval gate, refuses invalid decisions with a reason, and moves on when approved', async () => {
    const { runId } = await start('gated');
    const wf = harness.env.client.workflow.getHandle(runId);
    // The gate opens once the candidate step is done.
    for (let i = 0; i < 50; i++) {
      const gates = await wf.query<Array<{ gate: string }>>('approvals');
      if (gates.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const refused: unknown = await wf.executeUpdate('decide', { args: [{ gate: 'signoff', decision: 'reject', reviewer: 'bob' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toContain('rejected: a rejection needs a reason in the comment');

    await wf.signal('decide', { gate: 'signoff', decision: 'maybe', reviewer: 'mallory' });
    const gates = await wf.query<Array<{ status: string; refusals: Array<{ reason: string }> }>>('approvals');
    expect(gates[0]?.status).toBe('waiting');
    expect(gates[0]?.refusals.map((r) => r.reason)).toEqual(['decision must be "approve" or "reject", got "maybe"']);

    const accepted = await wf.executeUpdate('decide', { args: [{ gate: 'signoff', decision: 'approve', reviewer: 'alice', comment: 'metrics ok' }] });
    expect(accepted).toMatchObject({ status: 'approved', reviewer: 'alice' });
    const run = await result(runId);
    expect(run.outputs.release).toEqual({ value: 'alice' });
  });

  it('fails the run when a reviewer rejects, with the reason', async () => {
    const { runId } = await start('gated');
    const wf = harness.env.client.workflow.getHandle(runId);
    for (let i = 0; i < 50 && (await wf.query<unknown[]>('approvals')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await wf.executeUpdate('decide', { args: [{ gate: 'signoff', decision: 'reject', reviewer: 'carol', comment: 'AUC below the champion' }] });
    await expect(result(runId)).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.failure).toContain('Step "signoff" failed: Approval "signoff" was rejected by carol: AUC below the champion');
    expect(report.state!.steps.find((s) => s.name === 'release')?.status).toBe('skipped');
  });

  it('cancels running steps when the run is cancelled', async () => {
    const { runId } = await start('long');
    const wf = harness.env.client.workflow.getHandle(runId);
    for (let i = 0; i < 100 && !stepLog.spans.has('forever'); i++) await new Promise((r) => setTimeout(r, 100));
    await wf.cancel();
    await expect(wf.result()).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('CANCELLED');
    expect(report.state?.steps[0]?.status).toBe('cancelled');
    expect(stepLog.spans.get('forever')?.cancelled).toBe(true);
  });

  it('refuses bad parameters before a run starts', async () => {
    await expect(start('fan-out', { n: 'many' })).rejects.toThrow('Invalid parameters for pipeline "fan-out": n: Invalid input: expected number, received NaN.');
  });

  describe('schedules', () => {
    const pipeline = () => findPipeline(testPipelines, 'fan-out');

    it('creates a schedule that starts runs with its parameters, skipping overlaps by default', async () => {
      const id = await createSchedule(harness.env.client, taskQueue, pipeline(), { id: 'squares-daily', every: '1d', params: { n: '3' }, note: 'nightly squares' });
      const summary = await describeSchedule(harness.env.client, id);
      expect(summary).toMatchObject({ id: 'squares-daily', pipeline: 'fan-out', paused: false, note: 'nightly squares', overlap: 'SKIP' });
      expect(summary.spec).toContain('every');
      expect(summary.nextRuns.length).toBeGreaterThan(0);

      await triggerSchedule(harness.env.client, id);
      let runs: string[] = [];
      for (let i = 0; i < 100 && runs.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        runs = (await describeSchedule(harness.env.client, id)).recentRuns.map((r) => r.runId);
      }
      expect(runs).toHaveLength(1);
      const run = await result(runs[0]!);
      expect(run.outputs.total).toEqual({ total: 0 + 1 + 4 });
      expect((await listSchedules(harness.env.client)).map((s) => s.id)).toContain('squares-daily');
    });

    it('pauses, unpauses, backfills and deletes', async () => {
      const id = await createSchedule(harness.env.client, taskQueue, pipeline(), { id: 'squares-hourly', every: '1h', params: {}, paused: true });
      expect((await describeSchedule(harness.env.client, id)).paused).toBe(true);
      await unpauseSchedule(harness.env.client, id);
      expect((await describeSchedule(harness.env.client, id)).paused).toBe(false);
      await pauseSchedule(harness.env.client, id, 'maintenance');
      expect(await describeSchedule(harness.env.client, id)).toMatchObject({ paused: true, note: 'maintenance' });
      const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
      await backfillSchedule(harness.env.client, id, new Date(to.getTime() - 2 * 3_600_000 - 1), to);
      let backfilled = 0;
      for (let i = 0; i < 100 && backfilled < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        backfilled = (await describeSchedule(harness.env.client, id)).recentRuns.length;
      }
      expect(backfilled).toBeGreaterThanOrEqual(2);
      await deleteSchedule(harness.env.client, id);
      await expect(describeSchedule(harness.env.client, id)).rejects.toThrow('No schedule with id "squares-hourly".');
    });

    it('refuses timetables and parameters it cannot use, with the reason', async () => {
      await expect(createSchedule(harness.env.client, taskQueue, pipeline(), { every: 'daily', params: {} })).rejects.toThrow(
        '--every daily is not an interval: use a number and one of s, m, h, d, w (e.g. 1d, 6h, 30m).',
      );
      await expect(createSchedule(harness.env.client, taskQueue, pipeline(), { params: {} })).rejects.toThrow('Give a schedule exactly one of --every');
      await expect(createSchedule(harness.env.client, taskQueue, pipeline(), { cron: '0 3 *', params: {} })).rejects.toThrow(
        '--cron "0 3 *" needs 5 fields (minute hour day-of-month month day-of-week), got 3.',
      );
      await expect(createSchedule(harness.env.client, taskQueue, pipeline(), { every: '1d', params: { n: 'x' } })).rejects.toThrow('Invalid parameters for pipeline "fan-out"');
      await createSchedule(harness.env.client, taskQueue, pipeline(), { id: 'dup', every: '1d', params: {} });
      await expect(createSchedule(harness.env.client, taskQueue, pipeline(), { id: 'dup', every: '1d', params: {} })).rejects.toThrow(
        'A schedule with id "dup" already exists.',
      );
    });
  });
});
