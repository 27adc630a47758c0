/**
 * OpenLineage step events and lineage queries on both drivers: the step runtime emits START,
 * COMPLETE and FAIL with a stable UUID per step run; retries do not duplicate events; every event
 * validates against the OpenLineage 2-0-2 RunEvent schema; events are POSTed to a configured
 * endpoint, and an endpoint that fails never fails the step; upstream/downstream trees and DOT;
 * an unknown dataset is a clear error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { UnavailableError, NotFoundError } from '../../src/errors.js';
import { artifactDataset, deploymentDataset, featureViewDataset, modelVersionDataset, sourceDataset } from '../../src/lineage/datasets.js';
import { datasetLineage, renderDatasetLineageDot, renderDatasetLineageText } from '../../src/lineage/graph.js';
import { uuidV5 } from '../../src/lineage/openlineage.js';
import type { StepLineage } from '../../src/lineage/step-events.js';
import { allLineageEvents, createLineageSink, lineageEventsOfRun } from '../../src/lineage/store.js';
import { createLogger } from '../../src/platform/logger.js';
import { runStepWithCache, type RunStepRequest, type StepImplementations } from '../../src/pipeline/step-runtime.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { eventOf, runEventErrors } from '../support/openlineage.js';
import { rawFlightsDataset } from '../../examples/flight-delay/data/schema.js';

const context = (attempt: number, workflowRunId = '0b6f4a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b') => ({
  attempt,
  workflowRunId,
  heartbeat: () => {},
  signal: new AbortController().signal,
});

/** Steps that pass datasets along a chain: source -> raw flights -> view -> training set -> model version -> deployment. */
function chainSteps(failures: { remaining: number }): StepImplementations {
  const declare = (lineage: StepLineage) => () => lineage;
  return {
    load: { run: async () => ({ ingestionId: 'ing-1', rows: 3 }), lineage: (_i: unknown, r: { output?: { ingestionId: string } }) => ({ inputs: [sourceDataset('vega:flights-3m.parquet')], outputs: r.output ? [rawFlightsDataset(r.output.ingestionId)] : [] }) },
    features: { run: async () => ({ views: 1 }), lineage: declare({ inputs: [rawFlightsDataset('ing-1')], outputs: [featureViewDataset('origin_delays')] }) },
    trainingSet: {
      run: async () => {
        if (failures.remaining-- > 0) throw new UnavailableError('the artifact store did not answer');
        return { uri: 'artifact://sha256/abc' };
      },
      lineage: declare({ inputs: [rawFlightsDataset('ing-1'), featureViewDataset('origin_delays')], outputs: [artifactDataset('artifact://sha256/abc')] }),
    },
    register: { run: async () => ({ version: 1 }), lineage: declare({ inputs: [artifactDataset('artifact://sha256/abc')], outputs: [modelVersionDataset('lin', 1)] }) },
    promote: { run: async () => ({ alias: 'champion' }), lineage: declare({ inputs: [modelVersionDataset('lin', 1)], outputs: [deploymentDataset('lin', 'champion')] }) },
  };
}

const request = (step: string, runId = 'wf-lineage'): RunStepRequest => ({ runId, pipeline: 'lineage-test', step, uses: step, version: '1', input: {}, cache: false, startedBy: 'ana' });

async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describeEachDriver('OpenLineage step events', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;

  it('emits START, FAIL per failed attempt and one COMPLETE under one run id, and a retry duplicates nothing', async () => {
    const failures = { remaining: 1 };
    const steps = chainSteps(failures);
    const sink = createLineageSink(db());
    await expect(runStepWithCache(db(), steps, request('trainingSet'), context(1), sink)).rejects.toThrow(UnavailableError);
    const done = await runStepWithCache(db(), steps, request('trainingSet'), context(2), sink);
    expect(done.output).toEqual({ uri: 'artifact://sha256/abc' });
    // The same attempt delivered twice (e.g. a worker lost the completion) stores nothing new.
    failures.remaining = 0;
    await runStepWithCache(db(), steps, request('trainingSet'), context(2), sink);

    const all = await allLineageEvents(db());
    const runIds = [...new Set(all.map((e) => e.runId))];
    expect(runIds).toHaveLength(1);
    expect(runIds[0]).toBe(uuidV5('step/wf-lineage/0b6f4a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b/trainingSet'));
    expect(runIds[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const events = await lineageEventsOfRun(db(), runIds[0]!);
    expect(events.map((e) => e.eventType)).toEqual(['START', 'FAIL', 'COMPLETE']);
    const [start, fail, complete] = events.map(eventOf);
    expect(start!.job).toMatchObject({ namespace: 'steward', name: 'lineage-test.trainingSet' });
    expect(start!.run.facets.parent).toMatchObject({ run: { runId: '0b6f4a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b' }, job: { namespace: 'steward', name: 'lineage-test' } });
    expect(start!.run.facets.steward_step).toMatchObject({ attempt: 1, startedBy: 'ana', workflowId: 'wf-lineage' });
    expect(fail!.run.facets.errorMessage).toMatchObject({ message: 'the artifact store did not answer', programmingLanguage: 'TypeScript' });
    expect(complete!.run.facets.steward_step).toMatchObject({ attempt: 2, cached: false });
    expect(complete!.outputs).toEqual([{ namespace: 'steward', name: 'artifact://sha256/abc' }]);
    expect(complete!.inputs.map((d) => d.name)).toEqual(['raw_flights', 'feature_view:origin_delays']);
    expect(complete!.job.facets.sourceCodeLocation).toMatchObject({ type: expect.stringMatching(/^(git|package)$/), version: expect.any(String) });
    for (const event of all) expect(runEventErrors(event.event), `${event.eventType} ${event.jobName}`).toEqual([]);
  });

  it('keeps events append-only: the database refuses to rewrite or delete one', async () => {
    const sink = createLineageSink(db());
    await runStepWithCache(db(), chainSteps({ remaining: 0 }), request('register', 'wf-append-only'), context(1), sink);
    const before = await allLineageEvents(db());
    // drizzle wraps the server's error; the trigger's message is its cause.
    const refusal = (query: Promise<unknown>) => query.then(() => 'allowed', (error: Error) => (error.cause as Error).message);
    expect(await refusal(db().execute(sql`update lineage_events set job_name = 'rewritten'`))).toBe('lineage_events is append-only: UPDATE is not allowed');
    expect(await refusal(db().execute(sql`delete from lineage_events`))).toBe('lineage_events is append-only: DELETE is not allowed');
    expect(await allLineageEvents(db())).toEqual(before);
  });

  it('POSTs each new event to the OpenLineage endpoint, and a failing endpoint is logged without failing the step', async () => {
    const received: Array<{ path: string; body: Record<string, unknown> }> = [];
    const endpoint = await listen((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(body) });
        res.writeHead(201).end();
      });
    });
    const broken = await listen((_req, res) => res.writeHead(500).end('marquez is down'));
    const warnings: string[] = [];
    const logger = createLogger('warn', (line) => warnings.push(line));
    try {
      const steps = chainSteps({ remaining: 0 });
      await runStepWithCache(db(), steps, request('load', 'wf-post'), context(1), createLineageSink(db(), { endpoint: endpoint.url, logger }));
      expect(received.map((r) => [r.path, r.body.eventType])).toEqual([
        ['/api/v1/lineage', 'START'],
        ['/api/v1/lineage', 'COMPLETE'],
      ]);
      expect(received.every((r) => runEventErrors(r.body).length === 0)).toBe(true);
      // A retry of the same step run stores nothing new and therefore posts nothing.
      await runStepWithCache(db(), steps, request('load', 'wf-post'), context(1), createLineageSink(db(), { endpoint: endpoint.url, logger }));
      expect(received).toHaveLength(2);

      const result = await runStepWithCache(db(), steps, request('load', 'wf-post-broken'), context(1), createLineageSink(db(), { endpoint: broken.url, logger }));
      expect(result.output).toEqual({ ingestionId: 'ing-1', rows: 3 });
      expect(warnings.join('')).toMatch(/Could not POST the lineage event for lineage-test\.load \(START\) to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/lineage: HTTP 500/);
      expect((await allLineageEvents(db())).filter((e) => e.jobName === 'lineage-test.load' && eventOf(e).run.facets.steward_step.workflowId === 'wf-post-broken')).toHaveLength(2);
    } finally {
      await endpoint.close();
      await broken.close();
    }
  });

  it('answers upstream of a model version and downstream of raw flights as trees and DOT', async () => {
    const steps = chainSteps({ remaining: 0 });
    const sink = createLineageSink(db());
    for (const step of ['load', 'features', 'trainingSet', 'register', 'promote']) await runStepWithCache(db(), steps, request(step, 'wf-chain'), context(1), sink);

    const upstream = await datasetLineage(db(), 'lin@1', 'upstream');
    expect(upstream.dataset).toBe('steward/model:lin@v1');
    const text = renderDatasetLineageText(upstream);
    expect(text.split('\n')[0]).toBe('model version lin@v1  [upstream]');
    for (const expected of ['job lineage-test.register', 'artifact artifact://sha256/abc', 'job lineage-test.trainingSet', 'dataset steward/raw_flights', 'feature view origin_delays', 'job lineage-test.load', 'dataset file/vega:flights-3m.parquet']) {
      expect(text).toContain(expected);
    }

    const downstream = await datasetLineage(db(), 'raw_flights', 'downstream');
    const downText = renderDatasetLineageText(downstream);
    expect(downText).toContain('deployment lin@champion');
    expect(downText).toContain('model version lin@v1');
    // raw_flights reaches the training set directly and through the view: shown once, then marked.
    expect(downText).toContain('(see above)');

    const dot = renderDatasetLineageDot(downstream);
    expect(dot).toMatch(/^digraph lineage \{/);
    expect(dot).toContain('"dataset:steward/raw_flights" -> "job:lineage-test.features";');
    expect(dot).toContain('"job:lineage-test.promote" -> "dataset:steward/deployment:lin@champion";');
    // Upstream DOT keeps the direction data flowed.
    expect(renderDatasetLineageDot(upstream)).toContain('"dataset:steward/artifact://sha256/abc" -> "job:lineage-test.register";');
  });

  it('shows a step that writes and then reads its own intermediates as two stages', async () => {
    const views = [featureViewDataset('stage_view_a'), featureViewDataset('stage_view_b')];
    const steps: StepImplementations = {
      build: { run: async () => ({}), lineage: () => ({ inputs: [sourceDataset('stage.parquet'), ...views], outputs: [artifactDataset('artifact://sha256/stage'), ...views] }) },
    };
    await runStepWithCache(db(), steps, { ...request('build', 'wf-stage'), pipeline: 'stage-test' }, context(1), createLineageSink(db()));
    expect(renderDatasetLineageText(await datasetLineage(db(), 'artifact://sha256/stage', 'upstream'))).toBe(
      [
        'artifact artifact://sha256/stage  [upstream]',
        '└─ job stage-test.build (1 run)',
        '   ├─ feature view stage_view_a',
        '   │  └─ job stage-test.build (1 run)',
        '   │     └─ dataset file/stage.parquet',
        '   └─ feature view stage_view_b',
        '      └─ job stage-test.build (1 run)',
        '         └─ dataset file/stage.parquet (see above)',
      ].join('\n'),
    );
    const downstream = renderDatasetLineageText(await datasetLineage(db(), 'stage.parquet', 'downstream'));
    expect(downstream.split('\n').slice(0, 5)).toEqual([
      'dataset file/stage.parquet  [downstream]',
      '└─ job stage-test.build (1 run)',
      '   ├─ feature view stage_view_a',
      '   │  └─ job stage-test.build (1 run)',
      '   │     └─ artifact artifact://sha256/stage',
    ]);
  });

  it('refuses an unknown dataset or a model version without lineage with a clear error', async () => {
    await expect(datasetLineage(db(), 'flights_rwa', 'downstream')).rejects.toThrow(NotFoundError);
    await expect(datasetLineage(db(), 'flights_rwa', 'downstream')).rejects.toThrow(/Unknown dataset "flights_rwa": no pipeline step has read or written it/);
    await expect(datasetLineage(db(), 'raw_flight', 'upstream')).rejects.toThrow(/Did you mean steward\/raw_flights\?/);
    await expect(datasetLineage(db(), 'lin@7', 'upstream')).rejects.toThrow(/No lineage was recorded for model lin v7/);
  });
});
