/**
 * The scorer on a real registry, artifact store and prediction log, on both drivers: serving an
 * alias and following it when it moves (on reload and by polling), refusing a corrupt artifact
 * and a version whose graph disagrees with its registered signature while the old version keeps
 * serving, logging every prediction (pii hashed, shadow answers beside the primary's) in batches,
 * attaching ground truth by request id, and scoring a file through `steward score batch`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { tableFromIPC } from 'apache-arrow';
import { parquetWriteFile } from 'hyparquet-writer';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerServingCommands } from '../../src/cli/serving-commands.js';
import { predictionLog } from '../../src/db/schema.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { setAlias } from '../../src/registry/aliases.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { loggedPredictions } from '../../src/serving/ground-truth.js';
import { loadModel } from '../../src/serving/loaded-model.js';
import { ScorerMetrics } from '../../src/serving/metrics.js';
import { ModelHost } from '../../src/serving/model-host.js';
import { registrySource } from '../../src/serving/model-source.js';
import { PredictionLog, databaseSink, piiHash } from '../../src/serving/prediction-log.js';
import { createScorerServer } from '../../src/serving/server.js';
import { batchFromRecords } from '../../src/serving/validation.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { approveVersion } from '../support/registry-fixtures.js';
import { FIXTURE_AIRPORTS, FIXTURE_SIGNATURE, fixtureRow, registerFixture, trainFixtureModel } from '../support/serving-models.js';
import { rootProject } from '../support/projects.js';

const who = { actor: 'serving-test', reason: 'test' };

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeEachDriver('scorer on the registry', (driver) => {
  const fx = useTestDatabase(driver);
  let home: string;
  let artifacts: LocalArtifactStore;
  let host: ModelHost;
  let log: PredictionLog;
  let app: FastifyInstance;
  const v: Record<string, number> = {};

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-serving-'));
    artifacts = new LocalArtifactStore(path.join(home, 'artifacts'));
    const db = fx.handle.db;
    v.first = await registerFixture(db, artifacts, 'flight-delay', await trainFixtureModel(1, 0), FIXTURE_SIGNATURE);
    v.second = await registerFixture(db, artifacts, 'flight-delay', await trainFixtureModel(2, 2), FIXTURE_SIGNATURE);
    const corruptBytes = await trainFixtureModel(3, -2);
    v.corrupt = await registerFixture(db, artifacts, 'flight-delay', corruptBytes, FIXTURE_SIGNATURE);
    // A disk fault after registration: the stored bytes no longer hash to the registered sha256.
    const stored = await artifacts.put(corruptBytes);
    fs.writeFileSync(path.join(home, 'artifacts', 'sha256', stored.sha256.slice(0, 2), stored.sha256), corruptBytes.subarray(0, corruptBytes.length - 10));
    // Registered (by an older Steward) with a signature its graph does not have.
    v.mismatched = await registerFixture(db, artifacts, 'flight-delay', await trainFixtureModel(4, 1), {
      inputs: [{ name: 'hour', type: 'float' }, { name: 'origin', type: 'string' }],
      outputs: ['label', 'probabilities'],
    });
    // champion is protected: only approved versions may be it (the corrupt one too: its fault shows only on disk).
    for (const version of [v.first!, v.second!, v.corrupt!]) await approveVersion(db, 'flight-delay', version);
    await setAlias(db, { modelName: 'flight-delay', alias: 'champion', version: v.first!, ...who });

    const metrics = new ScorerMetrics({ processMetrics: false });
    log = new PredictionLog(databaseSink(db), { piiFeatures: ['origin'], batchSize: 50, flushIntervalMs: 200 });
    metrics.watchPredictionLog(log);
    host = new ModelHost({ source: registrySource(db, artifacts), metrics, log });
    app = createScorerServer({ host, metrics, db });
    await host.deploy('flight-delay@champion');
  });
  afterAll(async () => {
    await app?.close();
    await host?.close();
    await log?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const predict = async (body: unknown, requestId?: string) => {
    const response = await app.inject({ method: 'POST', url: '/predict/flight-delay', payload: body as object, headers: requestId ? { 'x-request-id': requestId } : {} });
    return { status: response.statusCode, body: response.json() };
  };

  it('serves the champion and logs every prediction with pii hashed, then joins ground truth by request id', async () => {
    const one = await predict(fixtureRow(5), 'truth-1');
    expect(one).toMatchObject({ status: 200, body: { requestId: 'truth-1', version: v.first, arm: 'primary' } });
    const many = await predict([fixtureRow(6), fixtureRow(7), fixtureRow(8)], 'truth-2');
    expect(many.body.scores).toHaveLength(3);
    const truth = await app.inject({ method: 'POST', url: '/predictions/truth-2/ground-truth', payload: { values: [1, 0, 1] } });
    expect(truth.statusCode).toBe(204);
    await app.inject({ method: 'POST', url: '/predictions/truth-1/ground-truth', payload: { value: 0 } });
    await app.inject({ method: 'POST', url: '/predictions/truth-1/ground-truth', payload: { value: 1 } });
    expect((await app.inject({ method: 'POST', url: '/predictions/truth-1/ground-truth', payload: { value: 'late' } })).statusCode).toBe(400);
    await log.flush();

    const rows = await loggedPredictions(fx.handle.db, { model: 'flight-delay' });
    const byId = new Map(rows.map((r) => [r.requestId, r]));
    expect(byId.get('truth-1')).toMatchObject({
      version: v.first,
      arm: 'primary',
      rows: 1,
      inputs: [{ ...fixtureRow(5), origin: piiHash(fixtureRow(5).origin) }],
      outputs: [one.body.score],
      error: null,
      groundTruth: [1],
    });
    expect(byId.get('truth-1')!.latencyMs).toBeGreaterThan(0);
    expect(byId.get('truth-2')).toMatchObject({ rows: 3, outputs: many.body.scores, groundTruth: [1, 0, 1] });
    const raw = JSON.stringify(await fx.handle.db.select().from(predictionLog));
    for (const airport of FIXTURE_AIRPORTS) expect(raw).not.toContain(`"${airport}"`);
  });

  it('follows the alias on reload, and keeps serving when the new artifact is corrupt', async () => {
    await setAlias(fx.handle.db, { modelName: 'flight-delay', alias: 'champion', version: v.second!, ...who });
    const moved = await app.inject({ method: 'POST', url: '/admin/models/flight-delay/reload' });
    expect(moved.json()).toMatchObject({ previous: { strategy: 'single', version: v.first }, routing: { strategy: 'single', version: v.second }, changed: true });
    expect((await predict(fixtureRow(1))).body.version).toBe(v.second);

    await setAlias(fx.handle.db, { modelName: 'flight-delay', alias: 'champion', version: v.corrupt!, ...who });
    const refused = await app.inject({ method: 'POST', url: '/admin/models/flight-delay/reload' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatch(
      new RegExp(`^Could not load flight-delay v${v.corrupt}: reading the artifact failed: Artifact artifact://sha256/[0-9a-f]{64} is corrupt: .* flight-delay keeps serving v${v.second}\\.$`),
    );
    expect((await predict(fixtureRow(1))).body.version).toBe(v.second);
    expect((await app.inject('/admin/models/flight-delay')).json()).toMatchObject({ routing: { version: v.second }, lastLoad: { ok: false, ref: 'flight-delay@champion' } });
  });

  it('refuses a version whose graph disagrees with its registered signature, naming the difference', async () => {
    const response = await app.inject({
      method: 'PUT',
      url: '/admin/models/flight-delay/routing',
      payload: { strategy: 'canary', primary: v.second, candidate: v.mismatched, percent: 10 },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().error).toMatch(/checking the signature failed: The model does not match its registered signature: model input "distance" is not in the registered signature\./);
    expect(host.routing('flight-delay')).toEqual({ strategy: 'single', version: v.second });
  });

  it('logs the shadow answer beside the primary one and reports both in the stats', async () => {
    const shadowRequests = () => host.stats('flight-delay').versions.find((s) => s.version === v.first)?.requests ?? 0;
    const before = shadowRequests();
    await app.inject({ method: 'PUT', url: '/admin/models/flight-delay/routing', payload: { strategy: 'shadow', primary: v.second, shadow: v.first } });
    for (let i = 0; i < 10; i++) expect((await predict(fixtureRow(i), `shadow-${i}`)).body.version).toBe(v.second);
    await until(() => shadowRequests() >= before + 10, 'the shadow copies');
    await log.flush();
    const shadowRows = await fx.handle.db.select().from(predictionLog).where(eq(predictionLog.shadow, true));
    expect(shadowRows.filter((r) => r.requestId.startsWith('shadow-')).map((r) => [r.version, r.arm]).sort()).toEqual(Array.from({ length: 10 }, () => [v.first, 'shadow']));
    const stats = (await app.inject('/admin/models/flight-delay/stats')).json();
    expect(stats.versions.map((s: { version: number; arms: string[] }) => [s.version, s.arms])).toEqual(
      [
        [v.first, ['shadow']],
        [v.second, ['primary']],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    expect(log.dropped).toBe(0);
  });

  it('polls the followed alias and moves when it does', async () => {
    await setAlias(fx.handle.db, { modelName: 'flight-delay', alias: 'champion', version: v.first!, ...who });
    host.followAlias('flight-delay', 'champion', 100);
    await until(() => host.routing('flight-delay')?.strategy === 'single' && (host.routing('flight-delay') as { version: number }).version === v.first, 'the poll to follow the alias');
    expect((await predict(fixtureRow(2))).body.version).toBe(v.first);
  });
});

describeEachDriver('steward score batch', (driver) => {
  const fx = useTestDatabase(driver);
  let home: string;
  let artifacts: LocalArtifactStore;
  let version: number;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-score-batch-'));
    artifacts = new LocalArtifactStore(path.join(home, 'artifacts'));
    version = await registerFixture(fx.handle.db, artifacts, 'flight-delay', await trainFixtureModel(5, 0), FIXTURE_SIGNATURE);
    await approveVersion(fx.handle.db, 'flight-delay', version);
    await setAlias(fx.handle.db, { modelName: 'flight-delay', alias: 'champion', version, ...who });
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('scores a Parquet file with `steward score batch` on the registered champion', async () => {
    const input = path.join(home, 'flights.parquet');
    const output = path.join(home, 'scores.arrow');
    const rows = Array.from({ length: 2_000 }, (_, i) => fixtureRow(i));
    // What the registered version answers for these rows, through the scorer's own path.
    const model = await loadModel(registrySource(fx.handle.db, artifacts), 'flight-delay', 'champion');
    const expected = (await model.run(batchFromRecords(model.signature, rows))).scores;
    model.retire();
    parquetWriteFile({
      filename: input,
      columnData: [
        { name: 'flight', data: rows.map((_, i) => `F${i}`), type: 'STRING' },
        { name: 'hour', data: rows.map((r) => r.hour), type: 'DOUBLE' },
        { name: 'distance', data: rows.map((r) => r.distance), type: 'DOUBLE' },
        { name: 'origin', data: rows.map((r) => r.origin), type: 'STRING' },
      ],
    });
    // The embedded database is single-process: the command opens it itself.
    await fx.handle.close();
    const written: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    try {
      const config = loadConfig({ STEWARD_HOME: home, DATABASE_URL: fx.testDb.url ?? '' });
      config.database.pgliteDir = fx.testDb.pgliteDir;
      const program = new Command().exitOverride();
      registerServingCommands(program, () => ({ config, logger: createLogger('error'), json: true, project: async () => rootProject }));
      process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
      await program.parseAsync(['score', 'batch', '--model', 'flight-delay@champion', '--in', input, '--out', output, '--keep', 'flight', '--batch-size', '500'], { from: 'user' });
    } finally {
      process.stdout.write = stdout;
      fx.handle = await fx.testDb.open();
    }
    expect(JSON.parse(written.join(''))).toMatchObject({ model: 'flight-delay', version, rows: 2_000, batches: 4 });
    const table = tableFromIPC(fs.readFileSync(output));
    expect(table.numRows).toBe(2_000);
    const scores = table.getChild('score')!.toArray() as Float64Array;
    expect(Array.from(scores)).toEqual(Array.from(expected));
    expect(table.getChild('flight')!.get(1999)).toBe('F1999');
  });
});
