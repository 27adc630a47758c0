/**
 * OpenTelemetry tracing through @temporalio/interceptors-opentelemetry on a real worker and dev
 * server: starting a pipeline run opens a trace, the executor workflow and every step's activity
 * continue it, workflow spans reach the exporter through the worker's sink translated to the 2.x
 * SDK's shape (scope and parent intact), and a worker without tracing stays untraced.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunPipelineResult } from '../../src/contracts.js';
import type { Database } from '../../src/db/client.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { Tracing } from '../../src/platform/tracing.js';
import { createWorker } from '../../src/app/worker.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { bundleCacheDir, quietLogger, startTemporal } from '../support/temporal.js';
import { testPipelines } from '../support/test-pipelines.js';

const exporter = new InMemorySpanExporter();
const tracing = Tracing.to(exporter, (e) => new SimpleSpanProcessor(e), { serviceName: 'steward-test' });
const taskQueue = 'traced';
let env: TestWorkflowEnvironment;
let testDb: TestDatabase;
let database: { db: Database; close(): Promise<void> };
let worker: Worker;
let done: Promise<void>;
let client: Client;

beforeAll(async () => {
  [env, testDb] = await Promise.all([startTemporal(), createTestDatabase('pglite')]);
  database = await testDb.open();
  worker = await createWorker({
    address: env.address,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: {
      db: database.db,
      artifacts: new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-artifacts-'))),
      pipelines: testPipelines,
    },
    cacheDir: bundleCacheDir,
    logger: quietLogger,
    logLevel: 'warn',
    tracing,
  });
  done = worker.run();
  client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', interceptors: { workflow: tracing.clientInterceptors() } });
});

afterAll(async () => {
  worker?.shutdown();
  await done;
  await tracing.shutdown();
  await database?.close();
  await testDb?.destroy();
  await env?.teardown();
});

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

it('traces a pipeline run from the client through the executor workflow to every step activity', async () => {
  const { runId } = await startRun(client, taskQueue, findPipeline(testPipelines, 'diamond'), { value: 'traced' }, { cache: false });
  const result = (await client.workflow.getHandle(runId).result()) as RunPipelineResult;
  expect(result.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
  await tracing.flush();

  const spans = exporter.getFinishedSpans();
  const [start] = named(spans, 'StartWorkflow:runPipeline');
  expect(start, spans.map((s) => s.name).join(', ')).toBeDefined();
  const traceId = start!.spanContext().traceId;
  const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);

  // The workflow's own span came through the sink, as a 2.x span whose parent is the client's start.
  const runs = named(inTrace, 'RunWorkflow:runPipeline');
  expect(runs.length).toBeGreaterThanOrEqual(1);
  expect(runs[0]!.parentSpanContext?.spanId).toBe(start!.spanContext().spanId);
  expect(runs[0]!.instrumentationScope.name).toBeTruthy();
  expect(runs[0]!.attributes.workflowId ?? runs[0]!.attributes.runId).toBeTruthy();

  // Each of the four steps was scheduled by the workflow and run by the worker, parent to child.
  const scheduled = named(inTrace, 'StartActivity:runStep');
  const ran = named(inTrace, 'RunActivity:runStep');
  expect(scheduled).toHaveLength(4);
  expect(ran).toHaveLength(4);
  const scheduledIds = new Set(scheduled.map((s) => s.spanContext().spanId));
  for (const span of ran) expect(scheduledIds.has(span.parentSpanContext!.spanId)).toBe(true);
  expect(ran.every((s) => s.resource.attributes['service.name'] === 'steward-test')).toBe(true);
});

it('leaves runs started without the tracing client interceptor in traces of their own', async () => {
  exporter.reset();
  const plain = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const { runId } = await startRun(plain, taskQueue, findPipeline(testPipelines, 'diamond'), { value: 'plain' }, { cache: false });
  await plain.workflow.getHandle(runId).result();
  await tracing.flush();
  const spans = exporter.getFinishedSpans();
  // The worker still traces (it is configured to); there is just no client span above the workflow.
  expect(named(spans, 'StartWorkflow:runPipeline')).toHaveLength(0);
  expect(named(spans, 'RunActivity:runStep')).toHaveLength(4);
});

it('exports over OTLP/HTTP, workflow spans from the sink included with their parent and scope', async () => {
  const received: Array<{ url: string; body: string }> = [];
  const collector = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ url: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const otlp = Tracing.otlp({ endpoint, serviceName: 'steward-otlp-test' }, { register: false })!;
  try {
    // A span as the workflow sandbox serializes it (OpenTelemetry 1.x shape), handed to the sink.
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const sink = otlp.workerOptions().sinks.exporter as unknown as { export: { fn: (info: Record<string, unknown>, spans: unknown[]) => void } };
    sink.export.fn({ workflowId: 'wf-1', runId: 'run-1' }, [
      {
        name: 'RunWorkflow:runPipeline',
        kind: 0,
        spanContext: { traceId, spanId: 'b7ad6b7169203331', traceFlags: 1 },
        parentSpanId: '00f067aa0ba902b7',
        startTime: [1_700_000_000, 0],
        endTime: [1_700_000_001, 0],
        status: { code: 0 },
        attributes: {},
        links: [],
        events: [],
        duration: [1, 0],
        ended: true,
        droppedAttributesCount: 0,
        droppedEventsCount: 0,
        droppedLinksCount: 0,
        instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
      },
    ]);
    otlp.tracer.startSpan('steward.test').end();
    await otlp.flush();
  } finally {
    await otlp.shutdown();
    collector.close();
  }
  expect(received.map((r) => r.url)).toContain('/v1/traces');
  const body = received.map((r) => r.body).join('\n');
  expect(body).toContain('RunWorkflow:runPipeline');
  expect(body).toContain('steward.test');
  expect(body).toContain('steward-otlp-test');
  expect(body).toContain('@temporalio/interceptor-workflow');
  // JSON OTLP carries ids as hex strings: the parent survived the 1.x -> 2.x translation.
  expect(body).toContain('00f067aa0ba902b7');
});
