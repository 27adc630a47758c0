/**
 * The pipelines Steward makes of the declarations, end to end through Temporal as `npm start` and
 * `npx steward run` run them: a test stack (the Temporal dev server, a worker for this project, a
 * database, artifacts and a scorer in a temporary folder) trains the model, releases it through a
 * reviewer's sign-off to the scorer, and runs the project's own pipeline.
 * Needs the Temporal CLI, found as `npm start` finds it (`npx steward setup` installs it).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listVersions } from 'steward/registry';
import { startTestStack, type TestStack } from 'steward/testing';

const project = fileURLToPath(new URL('../steward.config.ts', import.meta.url));

describe("the project's pipelines, through Temporal", () => {
  let stack: TestStack;
  /** The registered model's accuracy on the held-out days. */
  let accuracy = 0;
  beforeAll(async () => {
    stack = await startTestStack({ project });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ingests the file, checks it, builds the training set, fits two candidates and registers the better', async () => {
    const run = await stack.run('train-rain-tomorrow');
    const steps = Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
    expect(Object.values(steps).every((status) => status === 'completed')).toBe(true);
    expect(Object.keys(steps)).toEqual(expect.arrayContaining(['ingestDailyWeather', 'checkDailyWeather', 'trainingSet', 'trainLinear', 'trainGradientBoosting', 'choose', 'reference', 'register']));

    expect(run.outputs.ingestDailyWeather).toMatchObject({ view: 'daily_weather', rows: 1461 });
    expect(run.outputs.trainingSet).toMatchObject({ rows: 1460, positives: 623 });
    const choose = run.outputs.choose as { metrics: Record<string, number>; ranking: Array<{ algorithm: string }> };
    expect(choose.ranking.map((r) => r.algorithm).sort()).toEqual(['gradient-boosting', 'linear']);
    // Better than chance on the most recent 20% of days, which training never saw; the release asks 0.6.
    expect(choose.metrics.rocAuc).toBeGreaterThan(0.6);
    expect(choose.metrics.rocAuc).toBeLessThan(1);
    accuracy = choose.metrics.accuracy!;

    expect(run.outputs.register).toMatchObject({ modelName: 'rain-tomorrow', version: 1, task: 'binary-classification', created: true });
    const [version] = await listVersions(stack.db, 'rain-tomorrow');
    expect(version).toMatchObject({ version: 1 });
  });

  it('reuses every step on a second run: same code, same file, same model version', async () => {
    const run = await stack.run('train-rain-tomorrow');
    // Only the data check runs again: it reads the table as it is now, so it never reuses a result.
    expect(run.steps.filter((s) => !s.cached).map((s) => s.name)).toEqual(['checkDailyWeather']);
    expect(run.outputs.register).toMatchObject({ version: 1 });
  });

  it('releases version 1 through a sign-off, and the scorer serves it', async () => {
    const release = await stack.start('release-rain-tomorrow', { version: 1 });
    const bob = await stack.reviewer('bob', ['technical']);
    const decision = await stack.decide(release.runId, bob, 'approve', { comment: 'ROC AUC and the wet-day check look right' });
    expect(decision.status).toBe('approved');
    const run = await release.result;
    expect(run.outputs.validate).toMatchObject({ passed: true });
    expect(run.steps.find((s) => s.name === 'deploy')?.status).toBe('completed');

    // Two days as the scorer takes them: the features by their training-set names.
    const day = (precipitation: number, weather: string) => ({
      daily_weather__precipitation: precipitation,
      daily_weather__temp_max: 9,
      daily_weather__temp_min: 4,
      daily_weather__wind: 4,
      daily_weather__weather: weather,
    });
    const response = await fetch(`${stack.scorerUrl}/predict/rain-tomorrow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([day(0, 'sun'), day(20, 'rain')]),
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { version: number; scores: number[] };
    expect(answer.version).toBe(1);
    // The declared behaviour, served: a wet day says rain is likelier than a dry, sunny one.
    expect(answer.scores[1]).toBeGreaterThan(answer.scores[0]!);
  });

  it("runs the project's own pipeline beside Steward's: the model beats the persistence forecast", async () => {
    const run = await stack.run('summarize-weather');
    const summary = run.outputs.summary as { days: number; persistence: { heldOutAccuracy: number; heldOutDays: number } };
    expect(summary).toMatchObject({ days: 1461, persistence: { heldOutDays: 292 } });
    // On the same 292 most recent days, the model is right more often than "tomorrow is like today".
    expect(accuracy).toBeGreaterThan(summary.persistence.heldOutAccuracy);
  });
});
