/**
 * The hot-swap load test: clients hammer /predict over real HTTP while the served version changes
 * seven times (alias moves followed by reload, a canary, direct routing changes) and once fails to
 * change (a corrupt artifact). No request may fail, and every answer must name a version whose
 * load had been asked for and carry exactly the score that version's ONNX graph gives the row, so
 * no answer came from a half-loaded model or a mixture of two.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setAlias } from '../../src/registry/aliases.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { ScorerMetrics } from '../../src/serving/metrics.js';
import { ModelHost } from '../../src/serving/model-host.js';
import { registrySource } from '../../src/serving/model-source.js';
import { PredictionLog, databaseSink } from '../../src/serving/prediction-log.js';
import { createScorerServer } from '../../src/serving/server.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { approveVersion } from '../support/registry-fixtures.js';
import { FIXTURE_SIGNATURE, fixtureRow, registerFixture, trainFixtureModel } from '../support/serving-models.js';

const ROWS = Array.from({ length: 48 }, (_, i) => fixtureRow(i * 7));
const CLIENTS = 8;

/** The version's score for each row, scored one row at a time as /predict scores them (a batch may differ in the last float bit). */
async function expectedScores(bytes: Uint8Array): Promise<number[]> {
  const session = await InferenceSession.create(bytes);
  const scores: number[] = [];
  for (const row of ROWS) {
    const out = await session.run({
      hour: new Tensor('float32', Float32Array.of(row.hour), [1, 1]),
      distance: new Tensor('float32', Float32Array.of(row.distance), [1, 1]),
      origin: new Tensor('string', [row.origin], [1, 1]),
    });
    scores.push((out.probabilities!.data as Float32Array)[1]!);
  }
  await session.release();
  return scores;
}

describeEachDriver('hot swap under load', (driver) => {
  const fx = useTestDatabase(driver);
  let home: string;
  let host: ModelHost;
  let log: PredictionLog;
  let app: FastifyInstance;
  let base: string;
  const expected = new Map<number, number[]>();
  let corrupt: number;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-hot-swap-'));
    const artifacts = new LocalArtifactStore(path.join(home, 'artifacts'));
    for (const [seed, lean] of [
      [11, 0],
      [12, 1.5],
      [13, -1.5],
    ]) {
      const bytes = await trainFixtureModel(seed, lean);
      const version = await registerFixture(fx.handle.db, artifacts, 'flight-delay', bytes, FIXTURE_SIGNATURE);
      await approveVersion(fx.handle.db, 'flight-delay', version);
      expected.set(version, await expectedScores(bytes));
    }
    const broken = await trainFixtureModel(14, 3);
    corrupt = await registerFixture(fx.handle.db, artifacts, 'flight-delay', broken, FIXTURE_SIGNATURE);
    await approveVersion(fx.handle.db, 'flight-delay', corrupt);
    const stored = await artifacts.put(broken);
    fs.writeFileSync(path.join(home, 'artifacts', 'sha256', stored.sha256.slice(0, 2), stored.sha256), broken.subarray(0, 100));
    await setAlias(fx.handle.db, { modelName: 'flight-delay', alias: 'champion', version: 1, actor: 'test', reason: 'start' });

    const metrics = new ScorerMetrics({ processMetrics: false });
    log = new PredictionLog(databaseSink(fx.handle.db), { capacity: 100_000 });
    host = new ModelHost({ source: registrySource(fx.handle.db, artifacts), metrics, log });
    await host.deploy('flight-delay@champion');
    app = createScorerServer({ host, metrics, db: fx.handle.db });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await host?.close();
    await log?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('answers every request during seven swaps and a failed one, each from a fully loaded version', async () => {
    interface Answer {
      status: number;
      version: number;
      score: number;
      row: number;
      receivedAt: number;
      error?: string;
    }
    const answers: Answer[] = [];
    let stop = false;
    const client = async (c: number) => {
      for (let i = c; !stop; i += CLIENTS) {
        const row = i % ROWS.length;
        try {
          const response = await fetch(`${base}/predict/flight-delay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROWS[row]) });
          const body = (await response.json()) as { version: number; score: number; error?: string };
          answers.push({ status: response.status, version: body.version, score: body.score, row, receivedAt: performance.now(), error: body.error });
        } catch (error) {
          answers.push({ status: 0, version: -1, score: Number.NaN, row, receivedAt: performance.now(), error: (error as Error).message });
        }
      }
    };
    const admin = async (method: 'PUT' | 'POST', url: string, body?: unknown) => {
      const response = await fetch(`${base}${url}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const moveChampion = async (version: number) => {
      await setAlias(fx.handle.db, { modelName: 'flight-delay', alias: 'champion', version, actor: 'test', reason: 'swap' });
      return admin('POST', '/admin/models/flight-delay/reload');
    };
    /** Lets the clients get `n` more answers before the next change, however fast this machine is. */
    const pause = async (n = 80) => {
      const target = answers.length + n;
      while (answers.length < target) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    /** When the load of each version was first asked for: no answer may name a version before that. */
    const requested = new Map<number, number>([[1, 0]]);
    const ask = (version: number) => requested.set(version, Math.min(requested.get(version) ?? Infinity, performance.now()));

    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    const swaps: Array<{ status: number; body: Record<string, unknown> }> = [];
    await pause();
    for (const version of [2, 3]) {
      ask(version);
      swaps.push(await moveChampion(version));
      await pause();
    }
    const failed = await moveChampion(corrupt);
    await pause();
    ask(1);
    swaps.push(await moveChampion(1));
    await pause();
    ask(2);
    swaps.push(await admin('PUT', '/admin/models/flight-delay/routing', { strategy: 'canary', primary: 1, candidate: 2, percent: 50 }));
    await pause();
    ask(3);
    swaps.push(await admin('PUT', '/admin/models/flight-delay/routing', { strategy: 'single', version: 3 }));
    await pause();
    ask(2);
    swaps.push(await admin('PUT', '/admin/models/flight-delay/routing', { strategy: 'ab', arms: [{ name: 'a', version: 2, weight: 1 }, { name: 'b', version: 3, weight: 1 }] }));
    await pause();
    ask(1);
    swaps.push(await admin('PUT', '/admin/models/flight-delay/routing', { strategy: 'single', version: 1 }));
    await pause();
    stop = true;
    await Promise.all(clients);

    expect(swaps.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(failed.status).toBe(422);
    expect(failed.body.error).toMatch(/is corrupt/);
    const failures = answers.filter((a) => a.status !== 200);
    expect(failures).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(8 * 80);
    const served = new Set(answers.map((a) => a.version));
    expect(served).toEqual(new Set([1, 2, 3]));
    for (const a of answers) {
      expect(a.score).toBe(expected.get(a.version)![a.row]);
      expect(a.receivedAt).toBeGreaterThanOrEqual(requested.get(a.version)!);
    }
    await log.flush();
    expect(log.dropped).toBe(0);
    expect(log.written).toBe(answers.length);
  });
});
