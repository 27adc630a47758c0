/**
 * `npm run demo:drift`'s replay on real Temporal, PGlite and onnxruntime, shortened to two weeks of
 * January 2001 (a champion trained on the first 20,000 flights, 1,000 flights scored per week):
 * every week is monitored by the drift-retrain pipeline, the first week's shift from two days of
 * training data is found, a retrain the policy decides is followed through the run's challenge step (to the
 * sign-off, promotion and a canary on a real scorer under the coming week's flights, or to where it
 * stopped with its numbers), the next week is served by whichever version is champion then, and the
 * timeline page shows every week.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { and, count, eq, like } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { replayDrift, replayTimelineHtml } from '../../examples/flight-delay/demo/drift.js';
import { auditLog, deployments, driftReports, predictionLog } from '../../src/db/schema.js';
import { getRunReport } from '../../src/pipeline/runs.js';
import { resolveVersion } from '../../src/registry/lookup.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { ModelHost } from '../../src/serving/model-host.js';
import { registrySource } from '../../src/serving/model-source.js';
import { PredictionLog, databaseSink } from '../../src/serving/prediction-log.js';
import { httpScorerAdmin } from '../../src/serving/scorer-client.js';
import { createScorerServer } from '../../src/serving/server.js';
import { describeEachDriver } from '../support/databases.js';
import { pipelines } from '../support/projects.js';
import { useTemporalWorker } from '../support/temporal.js';

describeEachDriver('the 2001 drift replay, two weeks of it', (driver) => {
  const artifacts = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-replay-artifacts-')));
  let scorerUrl = '';
  const harness = useTemporalWorker(driver, `replay-${driver}`, { artifacts, scorer: () => httpScorerAdmin(scorerUrl) });
  let host: ModelHost;
  let log: PredictionLog;
  let app: FastifyInstance;

  // The scorer the challengers are deployed to, as `steward dev` hosts it: registry models, the prediction log, the admin API.
  beforeAll(async () => {
    log = new PredictionLog(databaseSink(harness.database.db));
    host = new ModelHost({ source: registrySource(harness.database.db, artifacts), log });
    app = createScorerServer({ host, db: harness.database.db });
    scorerUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await host?.close();
    await log?.close();
  });

  it('monitors each week through Temporal, acts on what it finds through the challenge, and draws the timeline', async () => {
    const { env, database, taskQueue } = harness;
    const lines: string[] = [];
    const weeks = await replayDrift(
      { db: database.db, client: env.client, taskQueue, pipelines, artifacts, scorerUrl, say: (line) => lines.push(line) },
      { model: 'replay', source: 'vega:flights-3m.parquet', from: new Date('2001-01-03T00:00:00Z'), until: new Date('2001-01-17T00:00:00Z'), trainRows: 20_000, perWeek: 1_000, coolDownHours: 144, margin: 0.002 },
    );
    expect(weeks.map((w) => [w.week, w.from, w.to, w.rows])).toEqual([
      [1, '2001-01-03', '2001-01-10', 1_000],
      [2, '2001-01-10', '2001-01-17', 1_000],
    ]);
    // The monitoring runs are the Temporal Schedule's own, one per weekly tick, each window ending at its tick.
    const schedule = await env.client.schedule.getHandle('drift-replay-replay').describe();
    expect(schedule.state.paused).toBe(true);
    const ticks = schedule.info.recentActions.map((a) => [a.scheduledAt.toISOString(), a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : '']);
    expect(ticks).toEqual([
      ['2001-01-10T00:00:00.000Z', weeks[0]!.runId],
      ['2001-01-17T00:00:00.000Z', weeks[1]!.runId],
    ]);
    const windows = await database.db.select({ runId: driftReports.runId, windowTo: driftReports.windowTo }).from(driftReports).where(eq(driftReports.modelName, 'replay'));
    expect(new Map(windows.map((w) => [w.runId, w.windowTo.toISOString()]))).toEqual(new Map(ticks.map(([at, id]) => [id, at])));
    // Two days of training data against a whole week: the weekdays and the airports' 7-day history move.
    expect(weeks[0]).toMatchObject({ champion: 1, datasetDrift: true, decision: 'retrain' });
    expect(weeks[0]!.driftedColumns).toContain('dayOfWeek');
    // The challenge is the monitoring run's own step, run as its child; a week that holds skips it, saying why.
    const challenge = weeks[0]!.challenge!;
    expect(challenge.runId).toBe(`${weeks[0]!.runId}--challenge`);
    expect(['promoted', 'rolled_back', 'stopped']).toContain(challenge.outcome);
    for (const week of weeks.filter((w) => w.decision === 'hold')) {
      expect(week.challenge).toBeNull();
      const held = await getRunReport(env.client, week.runId);
      expect(held.state?.steps.find((s) => s.name === 'challenge')).toMatchObject({ status: 'skipped', skipReason: 'when policy.decision == "retrain" did not hold' });
    }
    const champion = challenge.outcome === 'promoted' ? challenge.version! : 1;
    expect(weeks[1]!.champion).toBe(champion);
    // What the replay serves, what `champion` names and what the scorer serves in production agree after every week.
    const last = weeks[1]!.challenge?.outcome === 'promoted' ? weeks[1]!.challenge.version! : champion;
    expect((await resolveVersion(database.db, 'replay', 'champion')).version).toBe(last);
    expect((await resolveVersion(database.db, 'replay', 'production')).version).toBe(last);
    expect(host.routing('replay')).toEqual({ strategy: 'single', version: last });
    // The first champion went to the scorer first; a signed-off challenger went through a canary under live flights, none failing.
    const deployed = await database.db.select().from(deployments).where(eq(deployments.modelName, 'replay')).orderBy(deployments.startedAt);
    expect(deployed[0]).toMatchObject({ id: expect.stringMatching(/^release-flight-delay-.+--deploy$/), candidateVersion: 1, stableVersion: null, status: 'promoted' });
    if (challenge.outcome !== 'stopped') {
      expect(deployed[1]).toMatchObject({ id: `${challenge.runId}--deploy`, candidateVersion: 2, stableVersion: 1, strategy: 'canary', status: challenge.outcome });
      expect(challenge.traffic!.sent).toBeGreaterThanOrEqual(100);
      expect(challenge.traffic!.failed).toBe(0);
      expect(lines).toContainEqual(expect.stringMatching(/^ {4}challenge .+ \([\d,]+ live requests during the deployment, 0 failed\)$/));
    }
    const compared = await database.db.select().from(auditLog).where(eq(auditLog.subject, `model:replay@2`));
    expect(compared.map((e) => e.action)).toContain(challenge.outcome === 'stopped' ? 'monitoring.challenger_not_better' : 'monitoring.challenger_better');
    // Every week's predictions were logged at the flights' own departure times, under the version serving then, and every week has its report.
    const logged = await database.db
      .select({ version: predictionLog.version, n: count() })
      .from(predictionLog)
      .where(and(eq(predictionLog.modelName, 'replay'), like(predictionLog.requestId, 'replay-replay-w%')))
      .groupBy(predictionLog.version);
    expect(logged.reduce((a, r) => a + r.n, 0)).toBe(2_000);
    expect((await database.db.select().from(driftReports).where(eq(driftReports.modelName, 'replay'))).map((r) => r.decision).sort()).toEqual(
      [weeks[0]!.decision, weeks[1]!.decision].sort(),
    );
    expect(lines.some((l) => l.startsWith('  week 1 (2001-01-03..2001-01-10) v1: 1000 flights'))).toBe(true);
    const html = replayTimelineHtml('replay', weeks);
    expect(html.match(/<tr><td>/g)).toHaveLength(2);
    // Two trainings, the features of 40,000 flights and up to two challenges: minutes on a shared two-core machine.
  }, 600_000);
});
