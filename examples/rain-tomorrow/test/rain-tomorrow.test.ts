/**
 * The rain-tomorrow project, end to end through Temporal, as its team would run it: train from the
 * declarations, release through a sign-off to a deployed model, score a day's requests with ground
 * truth, and monitor them with the drift-retrain pipeline. The project has no code of its own: what
 * runs is Steward's built-in steps and pipelines.
 */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv, vegaDataset } from 'steward/data';
import { startTestStack, type TestStack } from 'steward/testing';

const project = fileURLToPath(new URL('../steward.config.ts', import.meta.url));

describe('rain-tomorrow, declarations only', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ project });
  });
  afterAll(async () => {
    await stack?.close();
  });

  let version = 0;

  it('trains: ingests the CSV, checks it, builds the training set, fits two candidates and registers the better', async () => {
    const run = await stack.run('train-rain-tomorrow');
    const steps = Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
    expect(Object.values(steps).every((status) => status === 'completed')).toBe(true);
    expect(Object.keys(steps)).toEqual(expect.arrayContaining(['ingestDailyWeather', 'trainingSet', 'choose', 'reference', 'register']));
    const ingest = run.outputs.ingestDailyWeather as { rows: number; sha256: string };
    expect(ingest.rows).toBe(1461);
    const trainingSet = run.outputs.trainingSet as { rows: number; positives: number; columns: { numeric: string[]; categorical: string[] } };
    // Every day but the last has a next day to label it.
    expect(trainingSet.rows).toBe(1460);
    expect(trainingSet.positives).toBeGreaterThan(500);
    expect(trainingSet.columns.categorical).toHaveLength(1);
    const choose = run.outputs.choose as { metrics: Record<string, number>; ranking: Array<{ algorithm: string }> };
    expect(choose.ranking.map((r) => r.algorithm).sort()).toEqual(['gradient-boosting', 'linear']);
    expect(choose.metrics.rocAuc).toBeGreaterThan(0.6);
    expect(choose.metrics.rocAuc).toBeLessThan(1);
    const register = run.outputs.register as { version: number; task: string; created: boolean };
    expect(register).toMatchObject({ version: 1, task: 'binary-classification', created: true });
    version = register.version;
  });

  it('releases through a sign-off: validated against the criteria, approved by a technical reviewer, promoted and deployed', async () => {
    const release = await stack.start('release-rain-tomorrow', { version });
    const bob = await stack.reviewer('bob', ['technical']);
    const decision = await stack.decide(release.runId, bob, 'approve', { comment: 'ROC AUC and the wet-day check look right' });
    expect(decision.status).toBe('approved');
    const run = await release.result;
    expect(run.steps.every((s) => s.status === 'completed' || s.status === 'skipped')).toBe(true);
    const validate = run.outputs.validate as { passed: boolean };
    expect(validate.passed).toBe(true);
  });

  it('serves the deployed model and monitors a day of its predictions with ground truth', async () => {
    const rows = weatherRows().slice(-365);
    const windowStart = new Date();
    // Today's weather, tomorrow's answer: each request scored, then its ground truth posted.
    // Batches of 20 rows (at least 2, so the answer is a list of scores).
    for (let i = 0; i + 2 < rows.length; i += 20) {
      const batch = rows.slice(i, Math.min(i + 20, rows.length - 1));
      const response = await fetch(`${stack.scorerUrl}/predict/rain-tomorrow`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch.map((r) => r.features)),
      });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { requestId: string; version: number; scores: number[] };
      expect(answer.version).toBe(version);
      expect(answer.scores).toHaveLength(batch.length);
      for (const score of answer.scores) expect(score).toBeGreaterThanOrEqual(0);
      const truth = batch.map((_, k) => ((rows[i + k + 1]!.precipitation > 0) ? 1 : 0));
      const posted = await fetch(`${stack.scorerUrl}/predictions/${answer.requestId}/ground-truth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ values: truth }),
      });
      expect(posted.status).toBeLessThan(300);
    }
    // The prediction log is written in batches: give it a moment to flush.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const run = await stack.run('drift-retrain-rain-tomorrow', { windowEnd: new Date(Date.now() + 60_000).toISOString(), windowDays: 1 });
    const monitor = run.outputs.monitor as { rows: number; enough: boolean; metric: string; current: number | null };
    expect(windowStart.getTime()).toBeLessThan(Date.now());
    expect(monitor.rows).toBe(364);
    expect(monitor.enough).toBe(true);
    expect(monitor.metric).toBe('rocAuc');
    expect(monitor.current).toBeGreaterThan(0.5);
    const policy = run.outputs.policy as { decision: string };
    expect(['hold', 'retrain']).toContain(policy.decision);
  });
});

/** seattle-weather.csv as the model's request rows (its inputs are named after the training set's columns). */
function weatherRows() {
  const { header, rows } = parseCsv(readFileSync(vegaDataset('seattle-weather.csv'), 'utf8'));
  const at = (name: string) => header.indexOf(name);
  return rows.map((r) => ({
    precipitation: Number(r[at('precipitation')]),
    features: {
      daily_weather__precipitation: Number(r[at('precipitation')]),
      daily_weather__temp_max: Number(r[at('temp_max')]),
      daily_weather__temp_min: Number(r[at('temp_min')]),
      daily_weather__wind: Number(r[at('wind')]),
      daily_weather__weather: r[at('weather')],
    },
  }));
}
