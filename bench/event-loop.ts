/**
 * npx tsx bench/event-loop.ts [rows]     (STEWARD_CPU_THREADS=0 for the inline baseline)
 *
 * How long each step of train-flight-delay holds the worker's event loop: runs the pipeline's step
 * implementations in order (load, quality, trainingSet through the feature store, both trainers,
 * both evaluations, the reference profile) on a fresh PGlite database, as the worker would, and prints
 * each step's duration and the longest the event loop went without turning meanwhile (a 5 ms
 * interval's longest gap). Heartbeats, queries and workflow tasks wait that long. Set
 * BENCH_PGLITE_YIELD=<ms> to make PGlite yield between queries (src/platform/event-loop.ts) and
 * BENCH_DIR to keep (and on a rerun reuse) the database and artifacts. Figures are printed, never asserted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { flightDelayProject } from '../examples/flight-delay/steward.config.js';
import { builtinProject } from '../pipelines/index.js';
import { combineProjects } from '../src/project/define.js';
import { openDatabase } from '../src/db/client.js';
import type { StepContext } from '../src/pipeline/step-runtime.js';
import { defaultCpuPool } from '../src/platform/cpu-pool.js';
import { yieldBetweenQueries } from '../src/platform/event-loop.js';
import { LocalArtifactStore } from '../src/artifacts/index.js';

const rows = Number(process.argv[2] ?? 200_000);
const yieldMs = process.env.BENCH_PGLITE_YIELD;
if (yieldMs !== undefined) {
  // What openDatabase would do with the change: every instance PGlite.create makes yields.
  const create = PGlite.create.bind(PGlite);
  PGlite.create = (async (...args: Parameters<typeof PGlite.create>) => {
    const client = await create(...args);
    yieldBetweenQueries(client, Number(yieldMs));
    return client;
  }) as typeof PGlite.create;
}
const dir = process.env.BENCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-loop-'));
const handle = await openDatabase({ url: undefined, pgliteDir: path.join(dir, 'pglite') });
const artifacts = new LocalArtifactStore(path.join(dir, 'artifacts'));
const project = combineProjects(builtinProject, flightDelayProject);
const steps = Object.fromEntries([...project.steps.values()].map((step) => [step.name, step.implementation]));
const services = { db: handle.db, artifacts, writeOptions: {}, features: project.features };
const context = (step: string): StepContext => ({ runId: 'bench', step, idempotencyKey: `bench/${step}`, attempt: 1, heartbeat: () => {}, signal: new AbortController().signal, services });

let last = performance.now();
let longest = 0;
const watch = setInterval(() => {
  const now = performance.now();
  longest = Math.max(longest, now - last);
  last = now;
}, 5);

async function measure<T>(name: string, run: () => Promise<unknown>): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  last = performance.now();
  longest = 0;
  const start = performance.now();
  const output = (await run()) as T;
  const took = performance.now() - start;
  longest = Math.max(longest, performance.now() - last);
  console.log(`${name.padEnd(17)} ${(took / 1000).toFixed(2).padStart(7)} s   longest stall ${(longest / 1000).toFixed(2).padStart(6)} s   (${((100 * longest) / took).toFixed(0).padStart(3)}% of the step)`);
  return output;
}

console.log(`${rows.toLocaleString('en-US')} flights, CPU pool threads: ${defaultCpuPool().threads}, PGlite yield: ${yieldMs ?? 'off'}, load average ${os.loadavg()[0]!.toFixed(1)}`);
const load = await measure<{ ingestionId: string }>('load', () => steps.ingestFlights!.run({ source: 'vega:flights-3m.parquet', rows }, context('load')));
await measure('quality', () => steps.checkFlightQuality!.run({ ingestionId: load.ingestionId, minRows: 1000 }, context('quality')));
const set = await measure<{ uri: string }>('trainingSet', () => steps.buildTrainingSetFromStore!.run({ ingestionId: load.ingestionId, delayThresholdMinutes: 15 }, context('trainingSet')));
const trainingSetUri = set.uri;
const logistic = await measure<{ modelUri: string; modelSha256: string }>('trainLogistic', () =>
  steps.trainFlightModel!.run({ trainingSetUri, testFraction: 0.2, algorithm: 'logistic-regression', C: 1 }, context('trainLogistic')),
);
const boosted = await measure<{ modelUri: string; modelSha256: string }>('trainBoosted', () =>
  steps.trainFlightModel!.run({ trainingSetUri, testFraction: 0.2, algorithm: 'gradient-boosting', maxIter: 100, learningRate: 0.1 }, context('trainBoosted')),
);
await measure('evaluateLogistic', () => steps.evaluateFlightModel!.run({ modelUri: logistic.modelUri, trainingSetUri, testFraction: 0.2 }, context('evaluateLogistic')));
await measure('evaluateBoosted', () => steps.evaluateFlightModel!.run({ modelUri: boosted.modelUri, trainingSetUri, testFraction: 0.2 }, context('evaluateBoosted')));
await measure('reference', () => steps.profileFlightReference!.run({ model: { modelUri: boosted.modelUri }, trainingSetUri, testFraction: 0.2 }, context('reference')));
console.log(`models: logistic ${logistic.modelSha256.slice(0, 12)}, boosted ${boosted.modelSha256.slice(0, 12)}`);

clearInterval(watch);
await defaultCpuPool().close();
await handle.close();
if (!process.env.BENCH_DIR) fs.rmSync(dir, { recursive: true, force: true });
