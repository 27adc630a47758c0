/**
 * npm run bench:serving
 *
 * The scorer against bare onnxruntime-node, on flight-delay models trained by Steward's own
 * trainers (logistic regression and gradient-boosted trees on the first 200,000 of the 3 million
 * vega flights, features as the training pipeline defines them), registered in a throwaway
 * registry and loaded through it:
 *
 *  (a) in-process: `ModelHost.score` (routing, validation, tensors, inference, score check, live
 *      stats, Prometheus metrics) vs `new Tensor(...)` per input + `session.run` on the same
 *      model bytes, session options and rows, interleaved rounds, median per call, at batch 1 and
 *      10,000 (targets: within 1.2x and 1.05x); a bare session with onnxruntime's own defaults
 *      (spinning intra-op threads) is timed beside them;
 *  (b) HTTP at batch 1 with autocannon: the scorer's /predict vs a bare node:http server wrapping
 *      the same model with the same session options, each in its own child process, alternated in the same run (targets:
 *      >= 0.8x the bare throughput, p99 <= 2 ms);
 *  (c) batch scoring of all 3 million flights (Parquet in, Arrow IPC out) in a fresh child
 *      process: rows/s and peak RSS.
 *
 * Figures are printed with their ratios, never asserted. BENCH_SERVING_SECONDS (default 5) sets
 * each autocannon run's length, BENCH_SERVING_ROUNDS (default 3) how many alternated runs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteFile } from 'hyparquet-writer';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { openDatabase } from '../src/db/client.js';
import { vegaDataset } from '../src/datasets/vega.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../examples/flight-delay/features/raw-training-set.js';
import { trainGradientBoosting } from '../src/ml/gradient-boosting.js';
import { trainLogisticRegression } from '../src/ml/linear.js';
import { rocAuc } from '../src/ml/metrics/index.js';
import { exportOnnx } from '../src/ml/onnx-export.js';
import { LocalArtifactStore } from '../src/artifacts/index.js';
import { registerModelVersion } from '../src/registry/models.js';
import { scoreFile } from '../src/serving/batch.js';
import { DEFAULT_SESSION_OPTIONS, loadModel } from '../src/serving/loaded-model.js';
import { ScorerMetrics } from '../src/serving/metrics.js';
import { ModelHost } from '../src/serving/model-host.js';
import { registrySource, type ModelSource } from '../src/serving/model-source.js';
import { createScorerServer } from '../src/serving/server.js';
import { decodeColumns } from '../src/serving/validation.js';

const DAY = 86_400_000;
const TRAIN_ROWS = 200_000;
const SECONDS = Number(process.env.BENCH_SERVING_SECONDS ?? 5);
const SIGNATURE = {
  inputs: [...NUMERIC_FEATURES.map((name) => ({ name, type: 'float' })), ...CATEGORICAL_FEATURES.map((name) => ({ name, type: 'string' }))],
  outputs: ['label', 'probabilities'],
};
const self = fileURLToPath(import.meta.url);
const work = path.join(os.tmpdir(), 'steward-bench-serving');

type Numeric = (typeof NUMERIC_FEATURES)[number];
interface Flights {
  rows: number;
  numeric: Record<Numeric, Float64Array>;
  origin: string[];
  labels: Uint8Array;
}

/** The training pipeline's features for every flight: calendar, distance and the origin's trailing 7 days strictly before departure. */
async function flightFeatures(): Promise<Flights> {
  const file = await asyncBufferFromFile(vegaDataset('flights-3m.parquet'));
  const metadata = await parquetMetadataAsync(file);
  const n = Number(metadata.num_rows);
  const numeric = Object.fromEntries(NUMERIC_FEATURES.map((f) => [f, new Float64Array(n)])) as Record<Numeric, Float64Array>;
  const time = new Float64Array(n);
  const delay = new Float64Array(n);
  const origin: string[] = new Array(n);
  const labels = new Uint8Array(n);
  for (let start = 0; start < n; start += 500_000) {
    const rows = await parquetReadObjects({ file, metadata, compressors, rowStart: start, rowEnd: Math.min(n, start + 500_000), columns: ['date', 'delay', 'distance', 'origin'] });
    rows.forEach((f, j) => {
      const i = start + j;
      const d = f.date as Date;
      time[i] = d.getTime();
      delay[i] = Number(f.delay);
      origin[i] = String(f.origin);
      labels[i] = delay[i]! > 15 ? 1 : 0;
      numeric.hour[i] = d.getUTCHours();
      numeric.dayOfWeek[i] = ((d.getUTCDay() + 6) % 7) + 1;
      numeric.month[i] = d.getUTCMonth() + 1;
      numeric.distance[i] = Number(f.distance);
    });
  }
  const byOrigin = new Map<string, number[]>();
  origin.forEach((o, i) => (byOrigin.get(o) ?? byOrigin.set(o, []).get(o)!).push(i));
  for (const rows of byOrigin.values()) {
    rows.sort((a, b) => time[a]! - time[b]! || a - b);
    let start = 0;
    let end = 0;
    let sum = 0;
    for (const i of rows) {
      while (end < rows.length && time[rows[end]!]! < time[i]!) sum += delay[rows[end++]!]!;
      while (time[rows[start]!]! < time[i]! - 7 * DAY) sum -= delay[rows[start++]!]!;
      const count = end - start;
      numeric.originDelay7d[i] = count === 0 ? Number.NaN : sum / count;
      numeric.originFlights7d[i] = count;
    }
  }
  return { rows: n, numeric, origin, labels };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Columns of rows [from, from + n) as the scorer and a bare caller would hold them: float32 per numeric feature, strings for origin. */
function columnsOf(flights: Flights, from: number, n: number): Record<string, Float32Array | string[]> {
  const columns: Record<string, Float32Array | string[]> = {};
  for (const f of NUMERIC_FEATURES) columns[f] = Float32Array.from(flights.numeric[f].subarray(from, from + n));
  columns.origin = flights.origin.slice(from, from + n);
  return columns;
}

async function inProcess(host: ModelHost, bytes: Uint8Array, label: string, flights: Flights): Promise<void> {
  // The scorer's session options, so the ratio is the scorer's own overhead; onnxruntime's defaults are shown beside it.
  const session = await InferenceSession.create(bytes, DEFAULT_SESSION_OPTIONS);
  const spinning = await InferenceSession.create(bytes);
  for (const batch of [1, 10_000]) {
    const columns = columnsOf(flights, 2_500_000, batch);
    const dims = [batch, 1];
    const bareOn = (s: InferenceSession) => async () => {
      const feeds: Record<string, Tensor> = {};
      for (const f of NUMERIC_FEATURES) feeds[f] = new Tensor('float32', columns[f] as Float32Array, dims);
      feeds.origin = new Tensor('string', columns.origin as string[], dims);
      const out = await s.run(feeds, ['probabilities']);
      return out.probabilities!.data;
    };
    const bare = bareOn(session);
    const bareDefaults = bareOn(spinning);
    const ids = Array.from({ length: 4096 }, (_, i) => `bench-${i}`);
    let k = 0;
    const steward = () => host.score(label, { requestId: ids[k++ & 4095]!, decode: decodeColumns(columns) });
    const [b, s] = [(await bare()) as Float32Array, (await steward()).scores];
    if (Math.abs(b[1]! - s[0]!) > 1e-7) throw new Error(`The scorer and bare onnxruntime disagree: ${s[0]} vs ${b[1]}.`);
    const calls = batch === 1 ? 2_000 : 8;
    const time = async (fn: () => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < calls; i++) await fn();
      return ((performance.now() - started) * 1000) / calls;
    };
    for (let i = 0; i < 2; i++) {
      await time(bare);
      await time(steward);
    }
    const bareUs: number[] = [];
    const stewardUs: number[] = [];
    const defaultsUs: number[] = [];
    for (let round = 0; round < 9; round++) {
      bareUs.push(await time(bare));
      stewardUs.push(await time(steward));
      defaultsUs.push(await time(bareDefaults));
    }
    const [bm, sm, dm] = [median(bareUs), median(stewardUs), median(defaultsUs)];
    const target = batch === 1 ? 1.2 : 1.05;
    console.log(
      `  ${label.padEnd(20)} batch ${String(batch).padStart(6)}  bare ${fmt(bm).padStart(9)} µs  steward ${fmt(sm).padStart(9)} µs  ratio ${(sm / bm).toFixed(3)}x (target <= ${target}x)` +
        `  | bare with onnxruntime's spinning defaults ${fmt(dm).padStart(9)} µs`,
    );
  }
  await session.release();
  await spinning.release();
}

// --- child processes ------------------------------------------------------------------------

/** A source over one model file, for children that must not open the parent's embedded database. */
function fileSource(modelFile: string): ModelSource {
  return {
    resolve: async (model, selector) => ({ model, version: Number(selector), artifactUri: modelFile, signature: SIGNATURE }),
    read: async () => new Uint8Array(fs.readFileSync(modelFile)),
  };
}

async function serveChild(kind: string, modelFile: string): Promise<void> {
  let server: { close(): unknown; address: string };
  if (kind === 'steward') {
    const metrics = new ScorerMetrics();
    const host = new ModelHost({ source: fileSource(modelFile), metrics });
    await host.deploy('flight-delay@1');
    const app = createScorerServer({ host, metrics });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    server = { close: () => app.close(), address };
  } else {
    const session = await InferenceSession.create(new Uint8Array(fs.readFileSync(modelFile)), DEFAULT_SESSION_OPTIONS);
    const names = NUMERIC_FEATURES;
    const bare = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const row = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, number | string>;
        const feeds: Record<string, Tensor> = {};
        for (const f of names) feeds[f] = new Tensor('float32', Float32Array.of(row[f] as number), [1, 1]);
        feeds.origin = new Tensor('string', [row.origin as string], [1, 1]);
        session.run(feeds, ['probabilities']).then(
          (out) => {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(JSON.stringify({ score: (out.probabilities!.data as Float32Array)[1] }));
          },
          (error: Error) => {
            response.writeHead(500, { 'content-type': 'application/json' });
            response.end(JSON.stringify({ error: error.message }));
          },
        );
      });
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const port = (bare.address() as { port: number }).port;
    server = { close: () => bare.close(), address: `http://127.0.0.1:${port}` };
  }
  process.stdout.write(`READY ${server.address}\n`);
  // "cpu" on stdin: report this process's CPU time so far (user + system, µs).
  process.stdin.on('data', () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`CPU ${user + system}\n`);
  });
  process.stdin.on('end', () => {
    void server.close();
    process.exit(0);
  });
}

async function batchChild(modelFile: string, input: string, output: string): Promise<void> {
  const model = await loadModel(fileSource(modelFile), 'flight-delay', 1);
  const result = await scoreFile(model, { input, output, batchSize: 65_536 });
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ...result, peakRssMb })}\n`);
}

interface Child {
  ready: Promise<string>;
  done: Promise<string>;
  /** The child's CPU time so far in µs (servers only). */
  cpu(): Promise<number>;
  stop(): void;
}

function child(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', self, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  let resolveReady: (address: string) => void;
  const ready = new Promise<string>((resolve) => (resolveReady = resolve));
  const cpuWaiters: Array<(us: number) => void> = [];
  proc.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const match = /READY (\S+)/.exec(stdout);
    if (match) resolveReady(match[1]!);
    for (const line of c.toString().split('\n')) {
      const cpu = /^CPU (\d+)/.exec(line);
      if (cpu) cpuWaiters.shift()?.(Number(cpu[1]));
    }
  });
  const done = new Promise<string>((resolve, reject) => proc.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`child ${args.join(' ')} exited with ${code}`)))));
  return {
    ready,
    done,
    cpu: () =>
      new Promise<number>((resolve) => {
        cpuWaiters.push(resolve);
        proc.stdin.write('cpu\n');
      }),
    stop: () => proc.stdin.end(),
  };
}

interface CannonResult {
  requests: { average: number; total: number };
  /** Server CPU time per request during the run, µs (added here, not by autocannon). */
  cpuPerRequest?: number;
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<CannonResult>;

const ROUNDS = Number(process.env.BENCH_SERVING_ROUNDS ?? 3);

async function http1(modelFile: string, body: string): Promise<void> {
  for (const connections of [1, 10]) {
    const runs: Record<string, CannonResult[]> = { bare: [], steward: [] };
    // Alternated rounds, medians: other work on a shared machine hits both servers alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['bare', 'steward'] as const) {
        const server = child(['--serve', kind, modelFile]);
        const address = await server.ready;
        const url = kind === 'steward' ? `${address}/predict/flight-delay` : address;
        const options = { url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections };
        await autocannon({ ...options, duration: 1 });
        const cpuBefore = await server.cpu();
        const result = await autocannon({ ...options, duration: SECONDS });
        result.cpuPerRequest = ((await server.cpu()) - cpuBefore) / result.requests.total;
        if (result.non2xx || result.errors) throw new Error(`${kind}: ${result.non2xx} non-2xx answers and ${result.errors} errors.`);
        runs[kind]!.push(result);
        server.stop();
        await server.done;
      }
    }
    const med = (kind: string, pick: (r: CannonResult) => number) => median(runs[kind]!.map(pick));
    const [bare, steward] = [med('bare', (r) => r.requests.average), med('steward', (r) => r.requests.average)];
    const [bareCpu, stewardCpu] = [med('bare', (r) => r.cpuPerRequest!), med('steward', (r) => r.cpuPerRequest!)];
    const line = (kind: string, rps: number, cpu: number) =>
      `  ${kind.padEnd(8)} ${String(connections).padStart(2)} conn  ${fmt(rps, 0).padStart(7)} req/s  p50 ${fmt(med(kind, (r) => r.latency.p50), 2)} ms  ` +
      `p99 ${fmt(med(kind, (r) => r.latency.p99), 2)} ms  server CPU ${fmt(cpu, 0)} µs/request`;
    console.log(line('bare', bare, bareCpu));
    console.log(
      `${line('steward', steward, stewardCpu)}\n           throughput ${(steward / bare).toFixed(3)}x bare, CPU per request ${(stewardCpu / bareCpu).toFixed(3)}x bare  (targets: throughput >= 0.8x, p99 <= 2 ms)`,
    );
  }
}

// --- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  fs.mkdirSync(work, { recursive: true });
  console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews single runs; ratios come from interleaved runs)`);
  console.log('Computing features for the 3 million flights...');
  const flights = await flightFeatures();
  const frame = (from: number, to: number) => ({
    numeric: Object.fromEntries(NUMERIC_FEATURES.map((f) => [f, flights.numeric[f].subarray(from, to)])),
    categorical: { origin: flights.origin.slice(from, to) },
  });
  const trainFrame = frame(0, TRAIN_ROWS);
  const trainLabels = flights.labels.subarray(0, TRAIN_ROWS);
  const validation = frame(TRAIN_ROWS, TRAIN_ROWS + 50_000);
  const validationLabels = flights.labels.subarray(TRAIN_ROWS, TRAIN_ROWS + 50_000);

  console.log(`Training on ${TRAIN_ROWS.toLocaleString('en-US')} flights and registering both models...`);
  const home = fs.mkdtempSync(path.join(work, 'registry-'));
  const database = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
  const artifacts = new LocalArtifactStore(path.join(home, 'artifacts'));
  const models: Record<string, { bytes: Uint8Array; auc: number }> = {};
  const trained = {
    'logistic-regression': trainLogisticRegression(trainFrame, trainLabels, { C: 1, classWeight: 'balanced' }),
    'gradient-boosting': trainGradientBoosting(trainFrame, trainLabels, { loss: 'log-loss', maxIter: 100, learningRate: 0.1, seed: 0 }),
  };
  for (const [name, model] of Object.entries(trained)) {
    const { onnx } = await exportOnnx(model, validation);
    const artifact = await artifacts.put(onnx);
    await registerModelVersion(database.db, {
      modelName: name,
      artifactUri: artifact.uri,
      artifactSha256: artifact.sha256,
      trainingSetUri: `artifact://sha256/${'0'.repeat(64)}`,
      metrics: {},
      signature: SIGNATURE,
      runId: 'bench-serving',
      algorithm: name,
    });
    const session = await InferenceSession.create(onnx);
    const n = validationLabels.length;
    const feeds: Record<string, Tensor> = {};
    for (const f of NUMERIC_FEATURES) feeds[f] = new Tensor('float32', Float32Array.from(validation.numeric[f]!), [n, 1]);
    feeds.origin = new Tensor('string', validation.categorical.origin, [n, 1]);
    const p = (await session.run(feeds)).probabilities!.data as Float32Array;
    models[name] = { bytes: onnx, auc: rocAuc(validationLabels, Float64Array.from({ length: n }, (_, i) => p[2 * i + 1]!)) };
    await session.release();
  }
  const champion = Object.entries(models).sort((a, b) => b[1].auc - a[1].auc)[0]!;
  console.log(Object.entries(models).map(([name, m]) => `  ${name}: held-out ROC AUC ${m.auc.toFixed(4)}`).join('\n'));
  console.log(`  champion (best AUC, as the training pipeline chooses): ${champion[0]}`);

  console.log('\n(a) In-process scoring path vs bare InferenceSession.run (median per call of 9 interleaved rounds)');
  const host = new ModelHost({ source: registrySource(database.db, artifacts), metrics: new ScorerMetrics({ processMetrics: false }) });
  for (const [name, model] of Object.entries(models)) {
    await host.deploy(`${name}@1`);
    await inProcess(host, model.bytes, name, flights);
  }
  await host.close();
  await database.close();

  const modelFile = path.join(work, `${champion[0]}.onnx`);
  fs.writeFileSync(modelFile, champion[1].bytes);
  const row = Object.fromEntries([...NUMERIC_FEATURES.map((f) => [f, flights.numeric[f][2_500_000]]), ['origin', flights.origin[2_500_000]]]);
  console.log(`\n(b) HTTP, batch 1, ${champion[0]}: autocannon ${SECONDS} s per run, median of ${ROUNDS} alternated runs, each server in a child process`);
  await http1(modelFile, JSON.stringify(row));

  console.log('\n(c) Batch scoring all 3 million flights, Parquet in, Arrow IPC out, 65,536 rows per inference, fresh process');
  const input = path.join(work, 'flights-3m-features.parquet');
  parquetWriteFile({
    filename: input,
    columnData: [
      ...NUMERIC_FEATURES.map((f) => ({ name: f, data: Array.from(flights.numeric[f], (v) => (Number.isNaN(v) ? null : v)), type: 'DOUBLE' as const })),
      { name: 'origin', data: flights.origin, type: 'STRING' as const },
    ],
    rowGroupSize: 250_000,
  });
  const output = path.join(work, 'flights-3m-scores.arrow');
  const job = child(['--batch', modelFile, input, output]);
  const result = JSON.parse((await job.done).trim().split('\n').at(-1)!) as { rows: number; seconds: number; rowsPerSecond: number; inferenceSeconds: number; peakRssMb: number };
  console.log(
    `  ${champion[0]}: ${result.rows.toLocaleString('en-US')} rows in ${fmt(result.seconds, 2)} s = ${fmt(result.rowsPerSecond, 0)} rows/s ` +
      `(onnxruntime ${fmt(result.inferenceSeconds, 2)} s of it); peak RSS ${fmt(result.peakRssMb, 0)} MB (input ${fmt(fs.statSync(input).size / 1e6, 0)} MB, output ${fmt(fs.statSync(output).size / 1e6, 0)} MB)`,
  );
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(output, { force: true });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--serve') await serveChild(args[0]!, args[1]!);
else if (mode === '--batch') await batchChild(args[0]!, args[1]!, args[2]!);
else await main();
