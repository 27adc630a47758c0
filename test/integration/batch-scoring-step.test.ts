/**
 * Batch scoring as a pipeline step, on real Temporal, real onnxruntime and each database driver:
 * the score-flights pipeline scores an Arrow file and a Parquet artifact with a registered version
 * into an artifact holding one score per row (the scores onnxruntime gives for the same rows) and
 * the kept columns; a rerun stores the same bytes under the same URI; an unknown model and a
 * missing file fail the run at once, naming what is missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, expect, it } from 'vitest';
import type { RunPipelineResult } from '../../src/contracts.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import type { RunEvent } from '../../src/lineage/openlineage.js';
import { allLineageEvents } from '../../src/lineage/store.js';
import { getRunReport, startRun, type StartOptions } from '../../src/pipeline/runs.js';
import { setAlias } from '../../src/registry/aliases.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { pipelines } from '../support/projects.js';
import { describeEachDriver } from '../support/databases.js';
import { approveVersion } from '../support/registry-fixtures.js';
import { FIXTURE_SIGNATURE, fixtureRow, registerFixture, trainFixtureModel } from '../support/serving-models.js';
import { useTemporalWorker } from '../support/temporal.js';

const MODEL = 'score-test';
const ROWS = 1_000;
const rows = Array.from({ length: ROWS }, (_, i) => fixtureRow(i));
const id = Int32Array.from({ length: ROWS }, (_, i) => 50_000 + i);
const hour = Float64Array.from(rows, (r) => r.hour);
const distance = Float64Array.from(rows, (r) => r.distance);
const origin = rows.map((r) => r.origin);

interface ScoreOutput {
  uri: string;
  rows: number;
  bytes: number;
  model: string;
  version: number;
  seconds: number;
}

describeEachDriver('score-flights pipeline (batch scoring step)', (driver) => {
  const artifacts = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-score-artifacts-')));
  const harness = useTemporalWorker(driver, `score-${driver}`, { artifacts });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-score-input-'));
  const arrowInput = path.join(dir, 'flights.arrow');
  /** P(late) per row from a bare onnxruntime session: what the step must store. */
  let expected: number[];

  const start = (params: Record<string, unknown>, options: StartOptions = {}) => startRun(harness.env.client, harness.taskQueue, findPipeline(pipelines, 'score-flights'), params, options);
  const result = async (runId: string) => (await harness.env.client.workflow.getHandle(runId).result()) as RunPipelineResult;
  const scored = (run: RunPipelineResult) => run.outputs.score as unknown as ScoreOutput;
  /** The attempts Temporal started of the run's score step: one when the failure is non-retryable. */
  const attemptsOf = async (runId: string) => {
    const events = (await harness.env.client.workflow.getHandle(runId).fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === 'score');
    return events.filter((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId)).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  };

  beforeAll(async () => {
    const bytes = await trainFixtureModel(7);
    const version = await registerFixture(harness.database.db, artifacts, MODEL, bytes, FIXTURE_SIGNATURE);
    await approveVersion(harness.database.db, MODEL, version);
    await setAlias(harness.database.db, { modelName: MODEL, alias: 'champion', version, actor: 'test', reason: 'first champion' });
    const session = await InferenceSession.create(bytes);
    const out = await session.run({
      hour: new Tensor('float32', Float32Array.from(hour), [ROWS, 1]),
      distance: new Tensor('float32', Float32Array.from(distance), [ROWS, 1]),
      origin: new Tensor('string', origin, [ROWS, 1]),
    });
    const probabilities = out.probabilities!.data as Float32Array;
    expected = Array.from({ length: ROWS }, (_, i) => probabilities[2 * i + 1]!);
    await session.release();
    fs.writeFileSync(arrowInput, tableToIPC(tableFromArrays({ id, hour, distance, origin }), 'file'));
  });

  it('scores an Arrow file in bounded batches into an Arrow artifact with the kept columns, and a rerun stores the same URI', async () => {
    const { runId } = await start({ model: MODEL, input: arrowInput, keep: 'id,origin', batchSize: '128' });
    const run = await result(runId);
    const output = scored(run);
    expect(output).toMatchObject({ rows: ROWS, model: MODEL, version: 1 });
    expect(output.uri).toMatch(/^artifact:\/\/sha256\/[0-9a-f]{64}$/);
    expect(run.steps[0]).toMatchObject({ name: 'score', status: 'completed', attempts: 1, cached: false });
    const table = tableFromIPC(await artifacts.get(output.uri));
    expect(table.schema.fields.map((f) => f.name)).toEqual(['score', 'id', 'origin']);
    expect(table.numRows).toBe(ROWS);
    expect(Array.from(table.getChild('score')!.toArray() as Float64Array)).toEqual(expected);
    expect(Array.from(table.getChild('id')!.toArray() as Int32Array)).toEqual(Array.from(id));
    expect(Array.from(table.getChild('origin')! as Iterable<string>)).toEqual(origin);

    // Same version, same file: the cache answers; without it, scoring again names the same bytes.
    const cached = await result((await start({ model: MODEL, input: arrowInput, keep: 'id,origin', batchSize: '128' })).runId);
    expect(cached.steps[0]).toMatchObject({ cached: true });
    const again = await result((await start({ model: MODEL, input: arrowInput, keep: 'id,origin', batchSize: '128' }, { cache: false })).runId);
    expect(again.steps[0]).toMatchObject({ cached: false });
    expect(scored(again).uri).toBe(output.uri);
  });

  it('scores a Parquet artifact into a Parquet artifact, by version number, with its lineage', async () => {
    const input = await artifacts.put(
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'id', data: id, type: 'INT32' },
            { name: 'hour', data: hour, type: 'DOUBLE' },
            { name: 'distance', data: distance, type: 'DOUBLE' },
            { name: 'origin', data: origin, type: 'STRING' },
          ],
          rowGroupSize: 300,
        }),
      ),
    );
    const { runId } = await start({ model: MODEL, version: '1', input: input.uri, outputFormat: 'parquet', keep: ['id'], batchSize: '200' });
    const run = await result(runId);
    const output = scored(run);
    expect(output).toMatchObject({ rows: ROWS, model: MODEL, version: 1 });
    const stored = await artifacts.get(output.uri);
    const file = { byteLength: stored.byteLength, slice: (from: number, to?: number) => stored.slice(from, to).buffer };
    const read = (await parquetReadObjects({ file })) as Array<{ score: number; id: number }>;
    expect(read.map((r) => r.score)).toEqual(expected);
    expect(read.map((r) => r.id)).toEqual(Array.from(id));

    const complete = (await allLineageEvents(harness.database.db))
      .map((e) => e.event as unknown as RunEvent)
      .find((e) => e.eventType === 'COMPLETE' && (e.run.facets?.steward_step as { workflowId?: string } | undefined)?.workflowId === runId);
    expect(complete?.job.name).toBe('score-flights.score');
    expect(complete?.inputs.map((d) => d.name)).toEqual([input.uri, `model:${MODEL}@v1`]);
    expect(complete?.outputs).toMatchObject([{ name: output.uri, outputFacets: { outputStatistics: { rowCount: ROWS, size: output.bytes } } }]);
  });

  it('fails the run without retrying when the model is unknown, naming the model', async () => {
    const { runId } = await start({ model: 'no-such-model', input: arrowInput });
    await expect(result(runId)).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.status).toBe('FAILED');
    expect(report.failure).toContain('Step "score" failed:');
    expect(report.failure).toContain('no-such-model');
    expect(report.state?.steps[0]).toMatchObject({ name: 'score', status: 'failed', errorType: 'NOT_FOUND' });
    expect(await attemptsOf(runId)).toEqual([1]);
  });

  it('fails the run without retrying when the input file is missing, naming the path', async () => {
    const missing = path.join(dir, 'no-such-flights.parquet');
    const { runId } = await start({ model: MODEL, input: missing });
    await expect(result(runId)).rejects.toThrow();
    const report = await getRunReport(harness.env.client, runId);
    expect(report.failure).toContain(`Step "score" failed: Input file ${missing} does not exist.`);
    expect(report.state?.steps[0]).toMatchObject({ name: 'score', status: 'failed', errorType: 'NOT_FOUND' });
    expect(await attemptsOf(runId)).toEqual([1]);
  });
});
