/**
 * Deployments end to end: a real Temporal dev server and worker, a real registry and audit trail,
 * and a real scorer (onnxruntime-node behind its HTTP admin API) taking live /predict traffic from
 * clients running through the whole suite. A good candidate goes through a canary and is promoted
 * with no request failing during the traffic shifts; a candidate whose predictions are pinned high
 * is rolled back by the analysis with the reason in the deployments table and the audit trail; a
 * corrupt artifact fails the deployment while the old version serves; rollbacks by hand (during a
 * deployment and after a promotion); blue-green, shadow and A/B; and bad input refused up front.
 * Analysis windows are kept short with parameters, never by waiting on the clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq, like } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { pipelines } from '../support/projects.js';
import type { RunState } from '../../src/contracts.js';
import { definePipeline, deployModel, param } from '../../src/pipeline/definition.js';
import { getRunReport, startRun } from '../../src/pipeline/runs.js';
import { auditLog, deployments, modelAliases, predictionLog } from '../../src/db/schema.js';
import type { Database } from '../../src/db/client.js';
import { setAlias } from '../../src/registry/aliases.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { requireVersion } from '../../src/registry/lookup.js';
import { deploymentStatus, listDeploymentRuns, rollbackDeployment, startDeployment } from '../../src/serving/deployment-client.js';
import type { DeploymentInput, DeploymentResult } from '../../src/serving/deployment-types.js';
import { ModelHost } from '../../src/serving/model-host.js';
import { registrySource } from '../../src/serving/model-source.js';
import { PredictionLog, databaseSink } from '../../src/serving/prediction-log.js';
import { httpScorerAdmin } from '../../src/serving/scorer-client.js';
import { createScorerServer } from '../../src/serving/server.js';
import { allLineageEvents } from '../../src/lineage/store.js';
import { describeEachDriver } from '../support/databases.js';
import { eventOf, runEventErrors } from '../support/openlineage.js';
import { quietLogger, useTemporalWorker } from '../support/temporal.js';
import { runSteward } from '../support/processes.js';
import { ValidationError } from '../../src/errors.js';
import { restoreRouting } from '../../src/serving/hosted-scorer.js';
import { FIXTURE_SIGNATURE, fixtureRow, registerFixture, trainFixtureModel } from '../support/serving-models.js';

const MODEL = 'flight-delay';
const CLIENTS = 3;
/**
 * Short windows for tests: verdicts after 150 requests per arm, looking again every 300 ms. Latency
 * limits are loose: on a shared two-core machine p99 swings by 2x between arms of the same model.
 */
const FAST = { thresholds: { minRequests: 150, maxDrift: 0.35, maxLatencyP99Ratio: 5, latencySlackMs: 100 }, analysis: { pollSeconds: 0.3, maxWaitSeconds: 120, minSeconds: 0 } } satisfies Partial<DeploymentInput>;

/** A pipeline whose last step deploys, as release-flight-delay does after its sign-off. */
const shipIt = definePipeline({
  name: 'ship-it',
  params: z.object({ version: z.coerce.number().int().positive() }),
  steps: [deployModel('deploy', { model: MODEL, version: param('version'), strategy: 'canary', steps: [50, 100], ...FAST })],
});


async function approve(db: Database, version: number): Promise<void> {
  for (const to of ['validated', 'pending_approval', 'approved']) await transitionModelVersion(db, { modelName: MODEL, version, to, actor: 'deployment-test', reason: 'test fixture' });
}

describeEachDriver('deployments', (driver) => {
  let base = '';
  const harness = useTemporalWorker(driver, `deployment-tests-${driver}`, { scorer: () => httpScorerAdmin(base), pipelines: [...pipelines, shipIt] });
  let home: string;
  let artifacts: LocalArtifactStore;
  let host: ModelHost;
  let log: PredictionLog;
  let app: FastifyInstance;
  const v: Record<string, number> = {};
  /** Every /predict answer the background clients got: status and the version that answered. */
  const answers: Array<{ status: number; version?: number; error?: string }> = [];
  let stop = false;
  let traffic: Promise<void[]>;

  const db = () => harness.database.db;
  const deploy = async (input: Omit<DeploymentInput, 'deploymentId' | 'startedBy'> & { startedBy?: string }) => {
    const handle = await startDeployment(harness.env.client, harness.taskQueue, { startedBy: 'deployment-test', ...input });
    return { handle, result: () => handle.result() as Promise<DeploymentResult> };
  };
  const rowOf = async (id: string) => (await db().select().from(deployments).where(eq(deployments.id, id)))[0]!;
  const auditOf = async (id: string) => db().select().from(auditLog).where(eq(auditLog.subject, `deployment:${id}`)).orderBy(auditLog.seq);
  const alias = async () => (await db().select().from(modelAliases).where(and(eq(modelAliases.modelName, MODEL), eq(modelAliases.alias, 'production'))))[0]?.version;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-deploy-'));
    artifacts = new LocalArtifactStore(path.join(home, 'artifacts'));
    const register = async (name: string, bytes: Uint8Array) => (v[name] = await registerFixture(db(), artifacts, MODEL, bytes, FIXTURE_SIGNATURE));
    // The healthy versions are one model retrained on slightly different labels (a few flights flip),
    // so they answer alike: different artifacts, score distributions within sampling noise.
    await register('stable', await trainFixtureModel(21, 0));
    await register('good', await trainFixtureModel(21, 0.2));
    // Trained to call almost every flight late: its scores sit near 1 where the others' spread out.
    await register('pinned', await trainFixtureModel(23, 4));
    await register('green', await trainFixtureModel(21, -0.2));
    await register('shadowed', await trainFixtureModel(21, -0.1));
    await register('armB', await trainFixtureModel(21, -0.4));
    await register('unapproved', await trainFixtureModel(21, 0.6));
    const corruptBytes = await trainFixtureModel(28, 0);
    await register('corrupt', corruptBytes);
    const stored = await artifacts.put(corruptBytes);
    fs.writeFileSync(path.join(home, 'artifacts', 'sha256', stored.sha256.slice(0, 2), stored.sha256), corruptBytes.subarray(0, 120));
    expect(new Set(Object.values(v)).size).toBe(Object.keys(v).length);
    for (const name of ['stable', 'good', 'pinned', 'green', 'shadowed', 'armB', 'corrupt']) await approve(db(), v[name]!);
    await setAlias(db(), { modelName: MODEL, alias: 'production', version: v.stable!, actor: 'deployment-test', reason: 'first production version' });

    log = new PredictionLog(databaseSink(db()), { capacity: 200_000 });
    // A 6 s window in 250 ms slices: each step's analysis reads only what happened since it began.
    host = new ModelHost({ source: registrySource(db(), artifacts), log, stats: { windowMs: 6_000, slices: 24 } });
    await host.deploy(`${MODEL}@production`);
    app = createScorerServer({ host, db: db() });
    base = await app.listen({ host: '127.0.0.1', port: 0 });

    const client = async (c: number) => {
      for (let i = c; !stop; i += CLIENTS) {
        try {
          const response = await fetch(`${base}/predict/${MODEL}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fixtureRow(i % 96)) });
          const body = (await response.json()) as { version?: number; error?: string };
          answers.push({ status: response.status, version: body.version, error: body.error });
        } catch (error) {
          answers.push({ status: 0, error: (error as Error).message });
        }
      }
    };
    traffic = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  }, 120_000);

  afterAll(async () => {
    stop = true;
    await traffic;
    await app?.close();
    await host?.close();
    await log?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('promotes a good candidate through a canary, with no request failing during the traffic shifts', async () => {
    const before = answers.length;
    const { handle, result } = await deploy({ model: MODEL, version: v.good!, strategy: 'canary', steps: [20, 50, 100], ...FAST });
    const outcome = await result();
    const during = answers.slice(before);

    expect(outcome.rollbackReason).toBeUndefined();
    expect(outcome.status).toBe('promoted');
    expect(outcome.analyses.map((a) => [a.stepName, a.verdict])).toEqual([
      ['canary 20%', 'pass'],
      ['canary 50%', 'pass'],
    ]);
    for (const a of outcome.analyses) {
      expect(a.candidate.requests).toBeGreaterThanOrEqual(150);
      expect(a.baseline!.requests).toBeGreaterThanOrEqual(150);
      expect(a.jensenShannon).toBeLessThanOrEqual(0.35);
      expect(a.checks.map((c) => c.name)).toEqual(['error-rate', 'latency-p99', 'prediction-distribution']);
    }
    expect(await alias()).toBe(v.good);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.good });
    expect((await requireVersion(db(), MODEL, v.good!)).status).toBe('deployed');

    // The load test: every request during the shifts answered 200, by the stable version or the candidate.
    expect(during.length).toBeGreaterThan(100);
    expect(during.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(during.map((a) => a.version))).toEqual(new Set([v.stable, v.good]));

    const row = await rowOf(handle.workflowId);
    expect(row).toMatchObject({ status: 'promoted', stableVersion: v.stable, candidateVersion: v.good, strategy: 'canary', currentStep: 2, rollbackReason: null });
    expect(row.analyses).toHaveLength(2);
    expect((await auditOf(handle.workflowId)).map((e) => e.action)).toEqual([
      'deployment.started',
      'deployment.traffic',
      'deployment.analysis',
      'deployment.traffic',
      'deployment.analysis',
      'deployment.promoted',
    ]);
    // Lineage: the promotion is an OpenLineage event from the version to what serves as production.
    const promoted = (await allLineageEvents(db())).map(eventOf).filter((e) => e.run.facets.steward_step.workflowId === handle.workflowId);
    expect(runEventErrors(promoted[0])).toEqual([]);
    expect(promoted.map((e) => [e.job.name, e.inputs.map((d) => d.name), e.outputs.map((d) => d.name)])).toEqual([
      ['deployment.promote', [`model:${MODEL}@v${v.good}`], [`deployment:${MODEL}@production`]],
    ]);
    const status = await deploymentStatus(harness.env.client, handle.workflowId);
    expect(status.state).toMatchObject({ status: 'promoted', candidate: v.good, stable: v.stable });
  });

  it('rolls a candidate with pinned-high predictions back automatically, recording why', async () => {
    const { handle, result } = await deploy({ model: MODEL, version: v.pinned!, strategy: 'canary', steps: [30, 100], ...FAST });
    const outcome = await result();

    expect(outcome.status).toBe('rolled_back');
    expect(outcome.rollbackReason).toMatch(/analysis of "canary 30%" failed: Jensen-Shannon distance 0\.\d+ between the score distributions .*limit 0\.35/);
    expect(outcome.analyses[0]!.jensenShannon).toBeGreaterThan(0.35);
    expect((await deploymentStatus(harness.env.client, handle.workflowId)).state?.routing).toEqual({ strategy: 'single', version: v.good });
    expect(await alias()).toBe(v.good);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.good });
    expect((await requireVersion(db(), MODEL, v.pinned!)).status).toBe('approved');

    const row = await rowOf(handle.workflowId);
    expect(row.status).toBe('rolled_back');
    expect(row.rollbackReason).toBe(outcome.rollbackReason);
    const trail = await auditOf(handle.workflowId);
    expect(trail.map((e) => e.action)).toEqual(['deployment.started', 'deployment.traffic', 'deployment.analysis', 'deployment.rolled_back']);
    expect(trail[2]!.details).toMatchObject({ verdict: 'fail', candidate: { version: v.pinned }, baseline: { version: v.good } });
    expect(trail[3]!.details).toMatchObject({ rollbackReason: outcome.rollbackReason, routing: { strategy: 'single', version: v.good } });
  });

  it('fails a deployment whose artifact is corrupt, with the reason, while the old version keeps serving', async () => {
    const before = answers.length;
    const { handle, result } = await deploy({ model: MODEL, version: v.corrupt!, strategy: 'canary', ...FAST });
    const outcome = await result();
    expect(outcome.status).toBe('failed');
    expect(outcome.rollbackReason).toMatch(/could not be applied: Could not load flight-delay v\d+: (reading the artifact|reading the ONNX model) failed/);
    expect(outcome.rollbackReason).toContain(`keeps serving v${v.good}`);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.good });
    expect(await alias()).toBe(v.good);
    expect((await rowOf(handle.workflowId)).status).toBe('failed');
    expect((await auditOf(handle.workflowId)).map((e) => e.action)).toEqual(['deployment.started', 'deployment.failed']);
    expect(answers.slice(before).filter((a) => a.status !== 200)).toEqual([]);
  });

  it('rolls back by hand: a running deployment through its update, a promotion through rollbackModel', async () => {
    // A verdict needs more requests than the test will send, so the canary waits until the rollback.
    const { handle, result } = await deploy({ model: MODEL, version: v.green!, strategy: 'canary', steps: [10, 100], thresholds: { minRequests: 10_000_000 }, analysis: { pollSeconds: 0.3 } });
    await expect.poll(async () => host.routing(MODEL)?.strategy, { timeout: 30_000 }).toBe('canary');
    // The step's activity records the routing right after the scorer applies it.
    await expect.poll(async () => (await rowOf(handle.workflowId)).routing, { timeout: 30_000 }).toBeTruthy();
    // A scorer starting now (a restart) takes up the running deployment's routing from the table.
    const restarted = new ModelHost({ source: registrySource(db(), artifacts) });
    expect(await restoreRouting(restarted, db(), quietLogger)).toEqual([{ model: MODEL, source: `deployment ${handle.workflowId}`, ok: true }]);
    expect(restarted.routing(MODEL)).toEqual({ strategy: 'canary', primary: v.good, candidate: v.green, percent: 10 });
    await restarted.close();
    const rolled = await rollbackDeployment(harness.env.client, harness.taskQueue, MODEL, { reason: 'on-call saw odd scores', actor: 'oncall' });
    expect(rolled).toMatchObject({ kind: 'running', deploymentId: handle.workflowId, state: { status: 'rolled_back' } });
    const outcome = await result();
    expect(outcome).toMatchObject({ status: 'rolled_back', rollbackReason: 'manual rollback by oncall: on-call saw odd scores' });
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.good });
    const trail = await auditOf(handle.workflowId);
    expect(trail.at(-1)).toMatchObject({ action: 'deployment.rolled_back', actor: 'oncall' });

    // Nothing running now: the latest promotion (good over stable) is undone, alias included.
    const undone = await rollbackDeployment(harness.env.client, harness.taskQueue, MODEL, { reason: 'revert the release', actor: 'oncall' });
    expect(undone).toMatchObject({ kind: 'promotion', version: v.stable, from: v.good });
    expect(await alias()).toBe(v.stable);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.stable });
    const promoted = await rowOf(undone.deploymentId);
    expect(promoted).toMatchObject({ status: 'rolled_back', rollbackReason: 'revert the release' });
    const again = new ModelHost({ source: registrySource(db(), artifacts) });
    expect(await restoreRouting(again, db(), quietLogger)).toEqual([{ model: MODEL, source: `${MODEL}@production`, ok: true }]);
    expect(again.routing(MODEL)).toEqual({ strategy: 'single', version: v.stable });
    await again.close();
  });

  it('blue-green: green mirrors blue, then takes all traffic with blue kept loaded, then is promoted', async () => {
    const { handle, result } = await deploy({ model: MODEL, version: v.green!, strategy: 'blue-green', ...FAST });
    const outcome = await result();
    expect(outcome.rollbackReason).toBeUndefined();
    expect(outcome.status).toBe('promoted');
    expect(outcome.analyses.map((a) => [a.stepName.split(':')[0], a.verdict, a.baseline?.version ?? null])).toEqual([
      ['smoke', 'pass', v.stable],
      ['switch', 'pass', null],
    ]);
    const traffic = (await auditOf(handle.workflowId)).filter((e) => e.action === 'deployment.traffic').map((e) => (e.details as { routing: unknown }).routing);
    expect(traffic).toEqual([
      { strategy: 'shadow', primary: v.stable, shadow: v.green, percent: 100 },
      { strategy: 'canary', primary: v.green, candidate: v.stable, percent: 0 },
    ]);
    expect(await alias()).toBe(v.green);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.green });
  });

  it('shadow: the candidate scores a copy of live traffic, both answers are logged and compared, the champion keeps serving', async () => {
    const before = answers.length;
    const { handle, result } = await deploy({ model: MODEL, version: v.shadowed!, strategy: 'shadow', ...FAST });
    const outcome = await result();
    expect(outcome.rollbackReason).toBeUndefined();
    expect(outcome.status).toBe('completed');
    expect(outcome.analyses[0]).toMatchObject({ verdict: 'pass', candidate: { version: v.shadowed }, baseline: { version: v.green } });
    expect(answers.slice(before).every((a) => a.version === v.green && a.status === 200)).toBe(true);
    expect(await alias()).toBe(v.green);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.green });
    await log.flush();
    const shadowRows = await db().select().from(predictionLog).where(and(eq(predictionLog.version, v.shadowed!), eq(predictionLog.shadow, true)));
    expect(shadowRows.length).toBeGreaterThanOrEqual(150);
    const paired = await db().select().from(predictionLog).where(and(eq(predictionLog.requestId, shadowRows[0]!.requestId), eq(predictionLog.shadow, false)));
    expect(paired).toMatchObject([{ version: v.green, arm: 'primary' }]);
    expect((await rowOf(handle.workflowId)).status).toBe('completed');
  });

  it('A/B: a fixed split with each arm logged by name, then a report; the alias stays', async () => {
    const { handle, result } = await deploy({ model: MODEL, version: v.armB!, strategy: 'ab', abPercent: 50, ...FAST });
    const outcome = await result();
    expect(outcome.rollbackReason).toBeUndefined();
    expect(outcome.status).toBe('completed');
    expect(outcome.analyses[0]).toMatchObject({ stepName: expect.stringMatching(/^A\/B: a = v\d+ 50%, b = v\d+ 50%$/), verdict: 'pass' });
    await log.flush();
    const arms = await db().select({ arm: predictionLog.arm, version: predictionLog.version }).from(predictionLog).where(like(predictionLog.arm, '_'));
    expect(new Set(arms.map((a) => `${a.arm}=v${a.version}`))).toEqual(new Set([`a=v${v.green}`, `b=v${v.armB}`]));
    expect(await alias()).toBe(v.green);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.green });
    const runs = await listDeploymentRuns(harness.env.client, { model: MODEL });
    expect(runs.map((r) => r.deploymentId)).toContain(handle.workflowId);
  });

  it('refuses bad input with non-retryable errors naming the problem', async () => {
    const failure = async (input: Partial<DeploymentInput>) => {
      const { result } = await deploy({ model: MODEL, version: v.good!, strategy: 'canary', ...FAST, ...input } as DeploymentInput);
      const error = (await result().then(() => undefined, (e: unknown) => e)) as { cause?: { cause?: { type?: string; message?: string } } };
      return { type: error?.cause?.cause?.type, message: error?.cause?.cause?.message };
    };
    expect(await failure({ model: 'no-such-model' })).toMatchObject({ type: 'NOT_FOUND', message: 'Model "no-such-model" is not registered.' });
    expect(await failure({ version: 999 })).toMatchObject({ type: 'NOT_FOUND', message: expect.stringContaining('has no version 999') });
    expect(await failure({ version: v.unapproved })).toMatchObject({ type: 'VALIDATION_FAILED', message: expect.stringContaining('is registered, not approved') });
    expect(await failure({ version: v.green })).toMatchObject({ type: 'VALIDATION_FAILED', message: expect.stringContaining('is already production') });
    expect(await failure({ strategy: 'linear' as never })).toMatchObject({ type: 'VALIDATION_FAILED', message: expect.stringContaining('Unknown strategy "linear"') });
    expect(await failure({ steps: [50, 20] })).toMatchObject({ type: 'VALIDATION_FAILED', message: expect.stringContaining('Canary steps must increase') });
    expect(await failure({ thresholds: { minRequests: 0 } })).toMatchObject({ type: 'VALIDATION_FAILED', message: expect.stringContaining('minRequests must be') });
    await expect(rollbackDeployment(harness.env.client, harness.taskQueue, 'no-such-model', { reason: 'x', actor: 'oncall' })).rejects.toThrow(/no promoted deployment/);
  });

  it('refuses `deploy start` of a version that is not approved before anything starts, saying how to get it approved', async () => {
    const message = (version: number) =>
      `${MODEL} v${version} is registered, not approved: only a version approved through a sign-off can be deployed. ` +
      'A version is approved through the sign-off of a release pipeline (e.g. `steward run release-<model>`), where reviewers decide with `steward approvals list` and `steward approvals approve <id> --role <role>`.';
    const deploymentsNow = async () => (await listDeploymentRuns(harness.env.client, { model: MODEL, limit: 1000 })).map((r) => r.deploymentId).sort();
    const before = await deploymentsNow();

    // The library: startDeployment reads the status first and starts nothing.
    const lookup = async (model: string, version: number) => (await requireVersion(db(), model, version)).status;
    const refused = await startDeployment(harness.env.client, harness.taskQueue, { model: MODEL, version: v.unapproved!, strategy: 'canary', startedBy: 'deployment-test' }, { versionStatus: lookup }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused!.message).toBe(message(v.unapproved!));
    // The scorer the stack hosts answers the same question for a CLI that cannot open the embedded database.
    expect(await httpScorerAdmin(base).versionStatus(MODEL, v.unapproved!)).toBe('registered');
    expect(await httpScorerAdmin(base).versionStatus(MODEL, v.shadowed!)).toBe('approved');

    // The CLI as a user runs it: one line, exit 1, no stack trace. With PostgreSQL it reads the database;
    // with PGlite (held by this process, as by `steward dev`) it asks the stack's scorer.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-deploy-cli-'));
    try {
      if (driver === 'pglite') fs.symlinkSync(harness.database.location, path.join(home, 'pglite'));
      const env = {
        STEWARD_HOME: home,
        TEMPORAL_ADDRESS: harness.env.address,
        STEWARD_TASK_QUEUE: harness.taskQueue,
        STEWARD_SCORER_URL: base,
        DATABASE_URL: driver === 'postgres' ? harness.database.location : '',
      };
      const cli = await runSteward(['deploy', 'start', MODEL, '--version', String(v.unapproved), '--as', 'ana'], env);
      expect([cli.code, cli.output]).toEqual([1, `error: ${message(v.unapproved!)}\n`]);
      const missing = await runSteward(['deploy', 'start', MODEL, '--version', '999'], env);
      expect([missing.code, missing.output]).toEqual([1, `error: Model "${MODEL}" has no version 999 (its latest is ${Math.max(...Object.values(v))}).\n`]);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
    // No deployment workflow was left behind, failed or otherwise.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await deploymentsNow()).toEqual(before);
  });

  it('runs as a pipeline step: a good candidate is promoted, a bad one fails the run with the reason', async () => {
    const good = await startRun(harness.env.client, harness.taskQueue, shipIt, { version: v.armB }, { startedBy: 'release-bot' });
    const goodRun = await harness.env.client.workflow.getHandle(good.runId).result();
    expect(goodRun.outputs.deploy).toMatchObject({ deploymentId: `${good.runId}--deploy`, status: 'promoted', candidate: v.armB, stable: v.green });
    expect(await alias()).toBe(v.armB);
    expect((await rowOf(`${good.runId}--deploy`)).startedBy).toBe('release-bot');

    const bad = await startRun(harness.env.client, harness.taskQueue, shipIt, { version: v.pinned }, { startedBy: 'release-bot' });
    await harness.env.client.workflow.getHandle(bad.runId).result().catch(() => undefined);
    const report = await getRunReport(harness.env.client, bad.runId);
    expect(report.status).toBe('FAILED');
    const step = (report.state as RunState).steps.find((st) => st.name === 'deploy')!;
    expect(step).toMatchObject({ status: 'failed', errorType: 'DEPLOYMENT_ROLLED_BACK' });
    expect(step.error).toMatch(/was rolled back: analysis of "canary 50%" failed: Jensen-Shannon distance/);
    expect(await alias()).toBe(v.armB);
    expect(host.routing(MODEL)).toEqual({ strategy: 'single', version: v.armB });
  });
});
