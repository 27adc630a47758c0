/**
 * Lineage of a real training run on real Temporal and each database driver: every step of
 * train-flight-delay emits START and COMPLETE under its own run id with the Temporal run as parent;
 * every stored event validates against the OpenLineage 2-0-2 RunEvent schema and was POSTed to the
 * configured endpoint; the quality gate's results ride on its event; the model version's upstream
 * reaches the raw source through the feature views and training set, and raw flights' downstream
 * reaches the model version. A run whose quality gate fails records FAIL with the report. A run
 * started through the API with a token carries its principal into every step.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { datasetLineage, renderDatasetLineageDot, renderDatasetLineageText } from '../../src/lineage/graph.js';
import { allLineageEvents } from '../../src/lineage/store.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { createApi } from '../../src/api/server.js';
import { createPrincipal, issueToken } from '../../src/governance/identity.js';
import { pipelines } from '../support/projects.js';
import { describeEachDriver } from '../support/databases.js';
import { eventOf, runEventErrors, type EventView } from '../support/openlineage.js';
import { quietLogger, useTemporalWorker } from '../support/temporal.js';

/** Every activity step of the pipeline, as its definition lists them. */
const STEPS = findPipeline(pipelines, 'train-flight-delay')
  .spec.steps.filter((s) => s.kind === 'activity')
  .map((s) => s.name);

describeEachDriver('lineage of the training pipeline', (driver) => {
  let endpoint: http.Server;
  const posted: EventView[] = [];

  // The OpenLineage endpoint listens before the worker starts (hooks run in order), and closes after it stops.
  beforeAll(async () => {
    endpoint = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (req.url === '/api/v1/lineage') posted.push(JSON.parse(body) as EventView);
        res.writeHead(req.url === '/api/v1/lineage' ? 201 : 404).end();
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => endpoint?.close(resolve));
  });
  const harness = useTemporalWorker(driver, `lineage-${driver}`, {
    lineage: () => ({ endpoint: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`, logger: quietLogger }),
  });
  const taskQueue = harness.taskQueue;
  // Read once beforeAll has run.
  const env = { get client() { return harness.env.client; } };
  const database = { get db() { return harness.database.db; } };

  const train = async (params: Record<string, unknown>) => {
    const { runId } = await startRun(env.client, taskQueue, findPipeline(pipelines, 'train-flight-delay'), params, { startedBy: 'ana' });
    const handle = env.client.workflow.getHandle(runId);
    const outcome = await handle.result().then(
      () => 'completed',
      () => 'failed',
    );
    return { runId, temporalRunId: (await handle.describe()).runId, outcome };
  };

  it('records START and COMPLETE for every step, valid OpenLineage events, also POSTed, with the quality results', async () => {
    const run = await train({ rows: '5000', modelName: 'lineage-e2e', trees: '5' });
    expect(run.outcome).toBe('completed');
    const events = (await allLineageEvents(database.db)).filter((e) => eventOf(e).run.facets.steward_step.workflowId === run.runId);
    const byStep = new Map<string, string[]>();
    for (const e of events) byStep.set(e.jobName, [...(byStep.get(e.jobName) ?? []), e.eventType]);
    expect(Object.fromEntries(byStep)).toEqual(Object.fromEntries(STEPS.map((s) => [`train-flight-delay.${s}`, ['START', 'COMPLETE']])));
    for (const e of events) {
      expect(runEventErrors(e.event), `${e.jobName} ${e.eventType}`).toEqual([]);
      expect(eventOf(e).run.facets.parent).toMatchObject({ run: { runId: run.temporalRunId }, job: { namespace: 'steward', name: 'train-flight-delay' } });
      expect(eventOf(e).run.facets.steward_step.startedBy).toBe('ana');
    }
    // One run id per step, stable between its START and COMPLETE.
    expect(new Set(events.map((e) => e.runId)).size).toBe(STEPS.length);
    expect(posted.map((p) => p.run.runId + p.eventType).sort()).toEqual(events.map((e) => e.runId + e.eventType).sort());

    const quality = eventOf(events.find((e) => e.jobName === 'train-flight-delay.quality' && e.eventType === 'COMPLETE')!);
    expect(quality.inputs[0]).toMatchObject({ namespace: 'steward', name: 'raw_flights' });
    const assertions = quality.inputs[0]!.inputFacets!.dataQualityAssertions!.assertions;
    expect(assertions.length).toBeGreaterThanOrEqual(10);
    expect(assertions.every((a) => a.success)).toBe(true);
    expect(assertions.map((a) => a.assertion)).toContain('row count at least 1000');
    expect(quality.inputs[0]!.inputFacets!.dataQualityMetrics!.rowCount).toBe(5000);
    const load = eventOf(events.find((e) => e.jobName === 'train-flight-delay.load' && e.eventType === 'COMPLETE')!);
    expect(load.inputs).toEqual([{ namespace: 'file', name: 'vega:flights-3m.parquet' }]);
    expect(load.outputs[0]!.outputFacets!.outputStatistics!.rowCount).toBe(5000);
    expect(load.outputs[0]!.facets!.schema!.fields.map((f) => f.name)).toContain('delay_minutes');
  });

  it('shows the model version upstream to the raw source and raw flights downstream to the model version', async () => {
    const upstream = renderDatasetLineageText(await datasetLineage(database.db, 'lineage-e2e@1', 'upstream'));
    for (const expected of [
      'model version lineage-e2e@v1',
      'job train-flight-delay.register',
      'job train-flight-delay.trainingSet',
      'feature view origin_delays',
      'feature view route_delays',
      'dataset steward/raw_flights',
      'job train-flight-delay.load',
      'dataset file/vega:flights-3m.parquet',
    ]) {
      expect(upstream).toContain(expected);
    }
    // The training set step computes the views from raw flights, then joins them: two stages.
    expect(upstream).toMatch(/job train-flight-delay\.trainingSet \(1 run\)\n.*feature view origin_delays\n.*job train-flight-delay\.trainingSet \(1 run\)\n.*dataset steward\/raw_flights/);
    const downstream = await datasetLineage(database.db, 'raw_flights', 'downstream');
    expect(renderDatasetLineageText(downstream)).toContain('model version lineage-e2e@v1');
    expect(renderDatasetLineageText(downstream)).toContain('job train-flight-delay.quality');
    expect(renderDatasetLineageDot(downstream)).toContain('"job:train-flight-delay.register" -> "dataset:steward/model:lineage-e2e@v1";');
  });

  it('records FAIL with the data-quality report when the quality gate stops a run', async () => {
    const run = await train({ rows: '5000', modelName: 'lineage-e2e', trees: '5', minRows: '999999' });
    expect(run.outcome).toBe('failed');
    const events = (await allLineageEvents(database.db)).filter((e) => eventOf(e).run.facets.steward_step.workflowId === run.runId);
    const gate = events.filter((e) => ['train-flight-delay.load', 'train-flight-delay.quality'].includes(e.jobName));
    expect(gate.map((e) => `${e.jobName.replace('train-flight-delay.', '')}:${e.eventType}`)).toEqual(['load:START', 'load:COMPLETE', 'quality:START', 'quality:FAIL']);
    // Nothing downstream of the gate ran.
    expect(events.filter((e) => e.jobName === 'train-flight-delay.trainingSet')).toEqual([]);
    const load = eventOf(events.find((e) => e.eventType === 'COMPLETE')!);
    expect(load.run.facets.steward_step.cached).toBe(true);
    const fail = eventOf(events.find((e) => e.eventType === 'FAIL')!);
    expect(runEventErrors(fail)).toEqual([]);
    expect(fail.run.facets.errorMessage!.message).toMatch(/Data quality check "raw-flights" failed on raw_flights \(1 of \d+ expectations\): row count at least 999999: observed 5000/);
    expect(fail.inputs[0]!.inputFacets!.dataQualityAssertions!.assertions).toContainEqual({ assertion: 'row count at least 999999', success: false });
  });

  it('carries the principal a run was started by through the API into every step (and refuses a bad token)', async () => {
    await createPrincipal(database.db, { name: 'paula', roles: ['engineer'], actor: 'test-operator' });
    const { token } = await issueToken(database.db, { principal: 'paula', actor: 'test-operator' });
    const api = createApi({ client: env.client, taskQueue, pipelines, database: { driver }, db: database.db });
    try {
      const refused = await api.inject({ method: 'POST', url: '/api/runs', headers: { authorization: 'Bearer stw_nope' }, payload: { pipeline: 'flight-delay-summary', params: { rows: 2000 } } });
      expect(refused.statusCode).toBe(401);
      const started = await api.inject({ method: 'POST', url: '/api/runs', headers: { authorization: `Bearer ${token}` }, payload: { pipeline: 'flight-delay-summary', params: { rows: 2000 } } });
      expect(started.statusCode).toBe(202);
      const { runId } = started.json() as { runId: string };
      await env.client.workflow.getHandle(runId).result();
      const events = (await allLineageEvents(database.db)).filter((e) => eventOf(e).run.facets.steward_step.workflowId === runId);
      expect(events.map((e) => [e.jobName, e.eventType, eventOf(e).run.facets.steward_step.startedBy])).toEqual([
        ['flight-delay-summary.ingest', 'START', 'paula'],
        ['flight-delay-summary.ingest', 'COMPLETE', 'paula'],
        ['flight-delay-summary.summarize', 'START', 'paula'],
        ['flight-delay-summary.summarize', 'COMPLETE', 'paula'],
      ]);
    } finally {
      await api.close();
    }
  });
});
