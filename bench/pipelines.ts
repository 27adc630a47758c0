/**
 * npm run bench:pipelines
 *
 * 1. Orchestration overhead: a pipeline of 20 no-op steps, as a chain and in parallel, run by
 *    Steward's executor, against a hand-written workflow that calls the same 20 activities directly,
 *    in the same run on the same dev server. Prints p50/p99 run time, per-step overhead and the ratio.
 * 2. Fan-out: 5,000 small per-item trainings (one logistic regression per route of real 2001 flights),
 *    in bounded child-workflow batches: wall time and items per second.
 * Figures are printed, never asserted: these machines are shared.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { z } from 'zod';
import { createActivities } from '../activities/index.js';
import type { RunPipelineResult } from '../src/contracts.js';
import { vegaDataset } from '../src/datasets/vega.js';
import { openDatabase } from '../src/db/client.js';
import { trainLogisticRegression } from '../src/ml/linear.js';
import { findPipeline } from '../src/pipeline/catalog.js';
import { definePipeline, fanOut, item } from '../src/pipeline/definition.js';
import { startRun } from '../src/pipeline/runs.js';
import { defineStep, type StepNode } from '../src/pipeline/step.js';
import { createLogger } from '../src/platform/logger.js';
import { LocalArtifactStore } from '../src/artifacts/index.js';
import { startLocalTemporal } from './support/local-temporal.js';

const STEPS = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const FAN_OUT_ITEMS = Number(process.env.BENCH_FAN_OUT ?? 5_000);

const activities = { noop: async (input: { value: number }) => ({ value: input.value + 1 }) };
export type BenchActivities = typeof activities;

/** Per route: hour of departure and whether the flight left > 15 minutes late (loaded before the worker starts). */
const routes = new Map<string, { hour: number[]; late: number[] }>();
/** The routes with both late and on-time flights (a regression needs both classes). */
const routeKeys: string[] = [];

const noopStep = defineStep({
  name: 'noop',
  input: z.object({ value: z.number() }),
  output: z.object({ value: z.number() }),
  startToCloseTimeout: '1 minute',
  run: (input) => activities.noop(input),
});
const routesStep = defineStep({
  name: 'routes',
  input: z.object({ n: z.number().int() }),
  output: z.object({ items: z.array(z.object({ route: z.string() })) }),
  run: async (input) => ({ items: Array.from({ length: input.n }, (_, i) => ({ route: routeKeys[i % routeKeys.length]! })) }),
});
const fitRoute = defineStep({
  name: 'fitRoute',
  input: z.object({ route: z.string() }),
  output: z.object({ route: z.string(), rows: z.number(), coefficient: z.number() }),
  run: async (input) => {
    const r = routes.get(input.route)!;
    const model = trainLogisticRegression({ numeric: { hour: Float64Array.from(r.hour) } }, r.late, { C: 1 });
    return { route: input.route, rows: r.late.length, coefficient: model.coefficients[0]! };
  },
});
const none = z.object({});
const benchPipelines = [
  definePipeline({
    name: 'chain20',
    params: none,
    steps: () => {
      const chain: StepNode<{ value: number }>[] = [];
      for (let i = 0; i < STEPS; i++) chain.push(noopStep.step(`s${i}`, { value: i === 0 ? 0 : chain[i - 1]!.output.value }, { cache: false }));
      return chain;
    },
  }),
  definePipeline({ name: 'parallel20', params: none, steps: Array.from({ length: STEPS }, (_, i) => noopStep.step(`s${i}`, { value: i }, { cache: false })) }),
  definePipeline({
    name: 'fan-out-routes',
    params: z.object({ n: z.coerce.number().int() }),
    steps: (p) => {
      const items = routesStep.step('routes', { n: p.n }, { cache: false });
      return [items, fanOut('fit', { items: items.output.items, each: fitRoute.each({ route: item('route') }, { cache: false }), concurrency: 50, batchSize: 250 })];
    },
  }),
];

/** Per route: hour of departure and whether the flight left > 15 minutes late. */
async function loadRoutes(rows: number): Promise<Map<string, { hour: number[]; late: number[] }>> {
  const file = await asyncBufferFromFile(vegaDataset('flights-3m.parquet'));
  const metadata = await parquetMetadataAsync(file);
  const flights = await parquetReadObjects({ file, metadata, compressors, rowStart: 0, rowEnd: rows, columns: ['date', 'delay', 'origin', 'destination'] });
  const routes = new Map<string, { hour: number[]; late: number[] }>();
  for (const f of flights) {
    const key = `${String(f.origin)}-${String(f.destination)}`;
    const r = routes.get(key) ?? { hour: [], late: [] };
    r.hour.push((f.date as Date).getUTCHours());
    r.late.push(Number(f.delay) > 15 ? 1 : 0);
    routes.set(key, r);
  }
  return routes;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeRuns(label: string, start: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t = performance.now();
    await start();
    if (i >= 3) times.push(performance.now() - t); // the first runs warm caches and connections
  }
  times.sort((a, b) => a - b);
  const result = { p50: percentile(times, 50), p99: percentile(times, 99) };
  console.log(`  ${label.padEnd(34)} p50 ${result.p50.toFixed(1).padStart(7)} ms   p99 ${result.p99.toFixed(1).padStart(7)} ms`);
  return result;
}

const logger = createLogger('warn');
const env = await startLocalTemporal(logger);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-'));
const database = await openDatabase({ url: undefined, pgliteDir: path.join(scratch, 'pglite') });
console.log(`Loading routes of 500,000 flights from flights-3m.parquet...`);
for (const [key, route] of await loadRoutes(500_000)) routes.set(key, route);
routeKeys.push(...[...routes.entries()].filter(([, r]) => r.late.some((l) => l === 1) && r.late.some((l) => l === 0)).map(([k]) => k));
const workflowBundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never });
const worker = await Worker.create({
  connection: await NativeConnection.connect({ address: env.address }),
  taskQueue: 'bench',
  workflowBundle,
  activities: {
    ...createActivities({ db: database.db, artifacts: new LocalArtifactStore(path.join(scratch, 'artifacts')), pipelines: benchPipelines }),
    ...activities,
  },
  maxConcurrentActivityTaskExecutions: 100,
});
const running = worker.run();

try {
  const client = env.client;
  const runPipeline = (name: string) => async () => {
    const { runId } = await startRun(client, 'bench', findPipeline(benchPipelines, name), {});
    return client.workflow.getHandle(runId).result();
  };
  const runHandWritten = (type: string) => () => client.workflow.execute(type, { taskQueue: 'bench', workflowId: `${type}-${Math.random()}`, args: [STEPS] });

  console.log(`\nOrchestration overhead: ${STEPS} no-op steps, ${RUNS} runs each (after 3 warm-up runs), ${os.cpus().length} cores`);
  for (const shape of ['chain', 'parallel'] as const) {
    const baseline = await timeRuns(`hand-written ${shape} (baseline)`, runHandWritten(shape === 'chain' ? 'handWrittenChain' : 'handWrittenParallel'));
    const steward = await timeRuns(`Steward executor ${shape}`, runPipeline(`${shape}20`));
    console.log(
      `  -> ${shape}: per-step overhead p50 ${((steward.p50 - baseline.p50) / STEPS).toFixed(2)} ms; ratio p50 ${(steward.p50 / baseline.p50).toFixed(2)}x, p99 ${(steward.p99 / baseline.p99).toFixed(2)}x (target <= 1.5x)`,
    );
  }

  console.log(`\nFan-out: ${FAN_OUT_ITEMS.toLocaleString('en-US')} per-route logistic regressions on real flights (batches of 250, concurrency 50)`);
  const t = performance.now();
  const { runId } = await startRun(client, 'bench', findPipeline(benchPipelines, 'fan-out-routes'), { n: FAN_OUT_ITEMS });
  const result = (await client.workflow.getHandle(runId).result()) as RunPipelineResult;
  const seconds = (performance.now() - t) / 1000;
  const history = await client.workflow.getHandle(runId).fetchHistory();
  console.log(
    `  ${(result.outputs.fit as { count: number }).count.toLocaleString('en-US')} items in ${seconds.toFixed(1)} s = ${(FAN_OUT_ITEMS / seconds).toFixed(0)} items/s; parent history ${history.events?.length} events`,
  );
} finally {
  worker.shutdown();
  await running;
  await database.close();
  await env.teardown();
  fs.rmSync(scratch, { recursive: true, force: true });
}
